// runAsNonRoot (PSS restricted): runAsNonRoot must be explicitly true, for the pod or for every
// container. Pod Security Admission's check_runAsNonRoot, latest version.
//
// Reads:  spec.securityContext.runAsNonRoot, spec.{initContainers,containers,
//         ephemeralContainers}[*].securityContext.runAsNonRoot, spec.hostUsers.
// Allows: the pod sets true and no container sets false; or every container sets true and the
//         pod does not set false. Any value when hostUsers is false (a user namespace).
// Denies: the pod sets false; any container sets false; a container leaves it unset while the
//         pod does not set true. No exemption for Windows pods, as in PSA.
#include "policy/rules/rule.h"

namespace rootgate::policy {

namespace {

void Check(const RuleContext& ctx, RuleOutput* out) {
  if (ctx.view.host_users == false) return;
  const std::string pod_field = ctx.view.spec_path + ".securityContext.runAsNonRoot";
  const bool pod_true = ctx.view.pod_security.run_as_non_root == true;
  if (ctx.view.pod_security.run_as_non_root == false) {
    out->violations.push_back({RuleId::kRunAsNonRoot, "", pod_field, "runAsNonRoot=false",
                               "pod must not set " + pod_field + "=false; set it to true"});
  }
  for (const EffectiveContainer& ec : ctx.containers) {
    const ContainerView& c = *ec.container;
    const std::string field = c.path + ".securityContext.runAsNonRoot";
    if (c.security.run_as_non_root == false) {
      out->violations.push_back({RuleId::kRunAsNonRoot, c.name, field, "runAsNonRoot=false",
                                 DescribeContainer(c) + " must not set " + field +
                                     "=false; set it to true"});
    } else if (!c.security.run_as_non_root && !pod_true) {
      out->violations.push_back({RuleId::kRunAsNonRoot, c.name, field, "runAsNonRoot != true",
                                 DescribeContainer(c) + " must set " + field + "=true (or set " +
                                     pod_field + "=true for the whole pod)"});
    }
  }
}

}  // namespace

RuleDef RunAsNonRootRule() {
  return {RuleId::kRunAsNonRoot,
          "securityContext.runAsNonRoot (pod and every container), spec.hostUsers",
          "true at pod level with no container false, or true on every container", &Check};
}

}  // namespace rootgate::policy
