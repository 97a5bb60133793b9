// allowPrivilegeEscalation (optional): every container must set allowPrivilegeEscalation to
// false, as PSS restricted requires, so setuid binaries cannot gain root.
//
// Reads:  spec.{initContainers,containers,ephemeralContainers}[*].securityContext
//         .allowPrivilegeEscalation, spec.os.name.
// Allows: false. Any value on Windows pods (as PSA exempts them).
// Denies: unset or true.
#include "policy/rules/rule.h"

namespace rootgate::policy {

namespace {

void Check(const RuleContext& ctx, RuleOutput* out) {
  if (ctx.view.windows) return;
  for (const EffectiveContainer& ec : ctx.containers) {
    const ContainerView& c = *ec.container;
    if (c.security.allow_privilege_escalation == false) continue;
    const std::string field = c.path + ".securityContext.allowPrivilegeEscalation";
    const bool explicit_true = c.security.allow_privilege_escalation == true;
    out->violations.push_back(
        {RuleId::kAllowPrivilegeEscalation, c.name, field,
         explicit_true ? "allowPrivilegeEscalation=true" : "allowPrivilegeEscalation != false",
         DescribeContainer(c) + (explicit_true ? " allows" : " does not forbid") +
             " privilege escalation: " + field + (explicit_true ? " is true" : " is not set") +
             "; set it to false"});
  }
}

}  // namespace

RuleDef AllowPrivilegeEscalationRule() {
  return {RuleId::kAllowPrivilegeEscalation,
          "securityContext.allowPrivilegeEscalation (every container), spec.os.name", "false",
          &Check};
}

}  // namespace rootgate::policy
