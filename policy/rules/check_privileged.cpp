// privileged: no privileged containers and no Windows HostProcess containers. A privileged
// container is root on the host in all but name, whatever its user; a HostProcess container is
// a process on the node itself, outside any container boundary. Pod Security Admission's
// check_privileged and check_windowsHostProcess, latest version.
//
// Reads:  spec.{initContainers,containers,ephemeralContainers}[*].securityContext.privileged;
//         spec.securityContext.windowsOptions.hostProcess and the same field of every
//         container, whatever spec.os.name says.
// Allows: unset or false.
// Denies: privileged: true; hostProcess: true on the pod or on any container. A pod-level
//         hostProcess counts while one container it applies to is checked (not image-exempt).
#include "policy/rules/rule.h"

namespace rootgate::policy {

namespace {

constexpr std::string_view kHostProcessFix =
    "; remove it to run a normal Windows container, or, when a node agent truly needs the host, "
    "exempt its namespace or image explicitly";

void CheckPrivileged(const EffectiveContainer& ec, RuleOutput* out) {
  const ContainerView& c = *ec.container;
  if (c.security.privileged != true) return;
  const std::string field = c.path + ".securityContext.privileged";
  out->violations.push_back({RuleId::kPrivileged, c.name, field, "privileged=true",
                             DescribeContainer(c) + " is privileged: " + field +
                                 " is true; remove it or set it to false"});
}

void CheckHostProcess(const RuleContext& ctx, RuleOutput* out) {
  if (ctx.view.pod_security.windows_host_process == true && !ctx.containers.empty()) {
    const std::string field = ctx.view.spec_path + ".securityContext.windowsOptions.hostProcess";
    out->violations.push_back(
        {RuleId::kPrivileged, "", field, "hostProcess=true",
         "pod runs every container as a Windows HostProcess, directly on the node: " + field +
             " is true" + std::string(kHostProcessFix)});
  }
  for (const EffectiveContainer& ec : ctx.containers) {
    const ContainerView& c = *ec.container;
    if (c.security.windows_host_process != true) continue;
    const std::string field = c.path + ".securityContext.windowsOptions.hostProcess";
    out->violations.push_back({RuleId::kPrivileged, c.name, field, "hostProcess=true",
                               DescribeContainer(c) +
                                   " is a Windows HostProcess container, running directly on "
                                   "the node: " +
                                   field + " is true" + std::string(kHostProcessFix)});
  }
}

void Check(const RuleContext& ctx, RuleOutput* out) {
  for (const EffectiveContainer& ec : ctx.containers) CheckPrivileged(ec, out);
  CheckHostProcess(ctx, out);
}

}  // namespace

RuleDef PrivilegedRule() {
  return {RuleId::kPrivileged,
          "securityContext.privileged (every container), securityContext.windowsOptions."
          "hostProcess (pod and every container)",
          "unset or false", &Check};
}

}  // namespace rootgate::policy
