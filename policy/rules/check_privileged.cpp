// privileged: no privileged containers. A privileged container is root on the host in all but
// name, whatever its user. Pod Security Admission's check_privileged, latest version.
//
// Reads:  spec.{initContainers,containers,ephemeralContainers}[*].securityContext.privileged.
// Allows: unset or false.
// Denies: true.
#include "policy/rules/rule.h"

namespace rootgate::policy {

namespace {

void Check(const RuleContext& ctx, RuleOutput* out) {
  for (const EffectiveContainer& ec : ctx.containers) {
    const ContainerView& c = *ec.container;
    if (c.security.privileged != true) continue;
    const std::string field = c.path + ".securityContext.privileged";
    out->violations.push_back({RuleId::kPrivileged, c.name, field, "privileged=true",
                               DescribeContainer(c) + " is privileged: " + field +
                                   " is true; remove it or set it to false"});
  }
}

}  // namespace

RuleDef PrivilegedRule() {
  return {RuleId::kPrivileged, "securityContext.privileged (every container)", "unset or false",
          &Check};
}

}  // namespace rootgate::policy
