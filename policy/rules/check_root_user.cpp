// rootUser: deny a container whose effective UID is 0, or on Windows an administrator account.
//
// Reads:  spec.securityContext.runAsUser, spec.containers[*].securityContext.runAsUser
//         (and initContainers, ephemeralContainers), the image config User when neither is
//         set, spec.hostUsers; on Windows pods (spec.os.name: windows) and HostProcess
//         containers securityContext.windowsOptions.runAsUserName, pod and container.
// Allows: an effective runAsUser > 0; no runAsUser and an image user that is a non-zero uid or
//         a name other than `root`; an unknown image user (left to unknownUser); any user when
//         hostUsers is false and the policy allows root in user namespaces (Linux only:
//         Windows has no user namespaces). On Windows, any account but ContainerAdministrator,
//         NT AUTHORITY\SYSTEM (SYSTEM) and the Administrators group (BUILTIN\Administrators),
//         compared without regard to case; an image with no User runs as
//         ContainerAdministrator.
// Denies even with runAsNonRoot: true — the kubelet would refuse to start it; saying so at
// admission names the field to change. (On Windows the kubelet refuses only a runAsUserName
// or image User of exactly ContainerAdministrator.)
#include "policy/rules/rule.h"
#include "policy/windows_user.h"

namespace rootgate::policy {

namespace {

// The fix for a Windows container: a non-administrator account of the container, or of the
// node for a HostProcess container.
std::string WindowsFix(const EffectiveContainer& ec, const std::string& field) {
  const std::string_view account =
      ec.host_process == true ? kHostProcessUserAccount : kWindowsUserAccount;
  return "; set " + field + " to " + Quote(account) + " or another non-administrator account";
}

void CheckWindows(const EffectiveContainer& ec, RuleOutput* out) {
  const ContainerView& c = *ec.container;
  if (ec.windows_user) {
    const std::optional<std::string_view> admin = WindowsAdminAccount(*ec.windows_user);
    if (!admin) return;
    const std::string field = ec.WindowsUserField();
    std::string found = field + " is " + Quote(*ec.windows_user);
    if (ec.windows_user_from == EffectiveContainer::From::kPod) {
      found += " and " +
               ec.FieldPath("windowsOptions.runAsUserName", EffectiveContainer::From::kContainer) +
               " is not set";
    }
    out->violations.push_back(
        {RuleId::kRootUser, c.name, field, "runAsUserName=" + std::string(*admin),
         DescribeContainer(c) + " would run as the Windows administrator account " +
             std::string(*admin) + ": " + found + WindowsFix(ec, field)});
    return;
  }
  if (!ec.image_user_known) return;
  const std::optional<std::string_view> admin =
      WindowsAdminAccount(WindowsImageAccount(ec.image_user.raw));
  if (!admin) return;
  const std::string field = ec.WindowsUserField();
  out->violations.push_back(
      {RuleId::kRootUser, c.name, field, "image user " + std::string(*admin),
       DescribeContainer(c) + " would run as the Windows administrator account " +
           std::string(*admin) + ": " + DescribeImageUser(ec) + " and " + field +
           " is not set" + WindowsFix(ec, field)});
}

void CheckLinux(const EffectiveContainer& ec, RuleOutput* out) {
  const ContainerView& c = *ec.container;
  if (ec.run_as_user) {
    if (*ec.run_as_user != 0) return;
    const std::string field = ec.RunAsUserField();
    std::string found = field + " is 0";
    if (ec.run_as_user_from == EffectiveContainer::From::kPod) {
      found += " and " + ec.FieldPath("runAsUser", EffectiveContainer::From::kContainer) +
               " is not set";
    }
    out->violations.push_back({RuleId::kRootUser, c.name, field, "runAsUser=0",
                               DescribeContainer(c) + " would run as root: " + found +
                                   "; set runAsUser to a non-zero UID"});
    return;
  }
  if (!ec.image_user_known || !ec.image_user.IsRoot()) return;
  const std::string field = ec.RunAsUserField();
  out->violations.push_back(
      {RuleId::kRootUser, c.name, field, "image user root",
       DescribeContainer(c) + " would run as root: " + DescribeImageUser(ec) + " and " + field +
           " is not set; set runAsUser to a non-zero UID"});
}

void Check(const RuleContext& ctx, RuleOutput* out) {
  // Windows has no user namespaces: hostUsers maps no administrator away.
  const bool mapped = RootMappedByUserNamespace(ctx);
  for (const EffectiveContainer& ec : ctx.containers) {
    if (ec.Windows()) {
      CheckWindows(ec, out);
    } else if (!mapped) {
      CheckLinux(ec, out);
    }
  }
}

}  // namespace

RuleDef RootUserRule() {
  return {RuleId::kRootUser,
          "securityContext.runAsUser (pod, container), image config User, spec.hostUsers, "
          "windowsOptions.runAsUserName",
          "effective uid > 0; a non-root image user; Windows accounts other than "
          "ContainerAdministrator, NT AUTHORITY\\SYSTEM and BUILTIN\\Administrators",
          &Check};
}

}  // namespace rootgate::policy
