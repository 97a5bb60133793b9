// rootUser: deny a container whose effective UID is 0.
//
// Reads:  spec.securityContext.runAsUser, spec.containers[*].securityContext.runAsUser
//         (and initContainers, ephemeralContainers), the image config User when neither is
//         set, spec.hostUsers; on Windows pods (spec.os.name: windows)
//         securityContext.windowsOptions.runAsUserName, pod and container.
// Allows: an effective runAsUser > 0; no runAsUser and an image user that is a non-zero uid or
//         a name other than `root`; an unknown image user (left to unknownUser); any user when
//         hostUsers is false and the policy allows root in user namespaces. On Windows, any
//         user but ContainerAdministrator (compared without regard to case).
// Denies even with runAsNonRoot: true — the kubelet would refuse to start it; saying so at
// admission names the field to change.
#include <algorithm>
#include <cctype>

#include "policy/rules/rule.h"

namespace rootgate::policy {

namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::string_view kWindowsAdmin = "ContainerAdministrator";

void CheckWindows(const EffectiveContainer& ec, RuleOutput* out) {
  const ContainerView& c = *ec.container;
  const std::string field = c.path + ".securityContext.windowsOptions.runAsUserName";
  if (ec.windows_user) {
    if (!EqualsNoCase(*ec.windows_user, kWindowsAdmin)) return;
    out->violations.push_back(
        {RuleId::kRootUser, c.name, ec.WindowsUserField(), "runAsUserName=ContainerAdministrator",
         DescribeContainer(c) + " would run as the Windows administrator: " +
             ec.WindowsUserField() + " is " + Quote(*ec.windows_user) +
             "; set it to ContainerUser or another non-administrator account"});
    return;
  }
  if (!ec.image_user_known || !EqualsNoCase(ec.image_user.raw, kWindowsAdmin)) return;
  out->violations.push_back(
      {RuleId::kRootUser, c.name, field, "image user ContainerAdministrator",
       DescribeContainer(c) + " would run as the Windows administrator: " + DescribeImageUser(ec) +
           " and " + field + " is not set; set it to ContainerUser"});
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
  if (RootMappedByUserNamespace(ctx)) return;
  for (const EffectiveContainer& ec : ctx.containers) {
    if (ctx.view.windows) {
      CheckWindows(ec, out);
    } else {
      CheckLinux(ec, out);
    }
  }
}

}  // namespace

RuleDef RootUserRule() {
  return {RuleId::kRootUser,
          "securityContext.runAsUser (pod, container), image config User, spec.hostUsers, "
          "windowsOptions.runAsUserName",
          "effective uid > 0; a non-root image user; Windows users other than "
          "ContainerAdministrator",
          &Check};
}

}  // namespace rootgate::policy
