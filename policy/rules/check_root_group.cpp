// rootGroup (optional): no effective runAsGroup 0, which gives the process root's group and
// with it every root-group-writable file.
//
// Reads:  securityContext.runAsGroup (container over pod).
// Allows: unset or non-zero.
// Denies: an effective runAsGroup of 0.
#include "policy/rules/rule.h"

namespace rootgate::policy {

namespace {

void Check(const RuleContext& ctx, RuleOutput* out) {
  for (const EffectiveContainer& ec : ctx.containers) {
    if (ec.run_as_group != 0) continue;
    const ContainerView& c = *ec.container;
    out->violations.push_back({RuleId::kRootGroup, c.name, ec.RunAsGroupField(), "runAsGroup=0",
                               DescribeContainer(c) + " would run with group root: " +
                                   ec.RunAsGroupField() + " is 0; set a non-zero GID"});
  }
}

}  // namespace

RuleDef RootGroupRule() {
  return {RuleId::kRootGroup, "securityContext.runAsGroup (pod, container)", "unset or non-zero",
          &Check};
}

}  // namespace rootgate::policy
