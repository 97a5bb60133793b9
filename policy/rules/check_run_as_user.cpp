// runAsUser (PSS restricted): no explicit runAsUser 0. Pod Security Admission's
// check_runAsUser, latest version.
//
// Reads:  spec.securityContext.runAsUser, spec.{initContainers,containers,
//         ephemeralContainers}[*].securityContext.runAsUser, spec.hostUsers.
// Allows: unset or any non-zero value; any value when hostUsers is false.
// Denies: runAsUser: 0 at pod level or on any container (even if a container overrides the
//         pod's 0, as PSA does).
#include "policy/rules/rule.h"

namespace rootgate::policy {

namespace {

void Check(const RuleContext& ctx, RuleOutput* out) {
  if (ctx.view.host_users == false) return;
  if (ctx.view.pod_security.run_as_user == 0) {
    const std::string field = ctx.view.spec_path + ".securityContext.runAsUser";
    out->violations.push_back({RuleId::kRunAsUser, "", field, "runAsUser=0",
                               "pod must not set " + field + "=0; set a non-zero UID"});
  }
  for (const EffectiveContainer& ec : ctx.containers) {
    const ContainerView& c = *ec.container;
    if (c.security.run_as_user != 0) continue;
    const std::string field = c.path + ".securityContext.runAsUser";
    out->violations.push_back({RuleId::kRunAsUser, c.name, field, "runAsUser=0",
                               DescribeContainer(c) + " must not set " + field +
                                   "=0; set a non-zero UID"});
  }
}

}  // namespace

RuleDef RunAsUserRule() {
  return {RuleId::kRunAsUser, "securityContext.runAsUser (pod and every container), spec.hostUsers",
          "unset or non-zero", &Check};
}

}  // namespace rootgate::policy
