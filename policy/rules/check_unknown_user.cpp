// unknownUser: deny a container whose UID cannot be determined when nothing guarantees non-root.
//
// Reads:  securityContext.runAsUser and runAsNonRoot (container over pod), the image config
//         User when runAsUser is unset (a name with its uid from the image's /etc/passwd),
//         spec.hostUsers; on Windows pods and HostProcess containers
//         windowsOptions.runAsUserName (container over pod).
// Allows: a known uid (left to rootUser); an unknown image user under runAsNonRoot: true (the
//         kubelet refuses a root start); a named image user whose /etc/passwd uid is above 0;
//         under `namedUsers: assume` only, a name whose uid is not known (with a warning); any
//         user in a user namespace when the policy allows root there.
// Denies: an unknown image user without runAsNonRoot: true (fail closed), including a name
//         whose uid the image's /etc/passwd does not give (no lookups, the byte cap reached,
//         no passwd, the name absent, a layer that cannot be read); a named image user under
//         runAsNonRoot: true (the kubelet cannot verify a non-numeric user and will not start
//         it); a runAsUser, image uid or passwd uid outside 0..2147483647. On Windows: no
//         runAsUserName and an unknown image user, even under runAsNonRoot: true (the kubelet
//         there refuses only the exact name ContainerAdministrator).
#include "policy/rules/rule.h"
#include "policy/windows_user.h"

namespace rootgate::policy {

namespace {

std::string Fix(const std::string& field) {
  return "; set " + field + " to a non-zero UID (or runAsNonRoot: true to let the kubelet refuse root)";
}

void CheckNamed(const EffectiveContainer& ec, NamedUsers policy, RuleOutput* out) {
  const ContainerView& c = *ec.container;
  const std::string field = c.path + ".securityContext.runAsUser";
  const std::string& user = ec.image_user.name;
  if (ec.run_as_non_root == true) {
    const std::string known =
        ec.image_user.passwd_uid ? " (" + std::to_string(*ec.image_user.passwd_uid) + ")" : "";
    out->violations.push_back(
        {RuleId::kUnknownUser, c.name, field, "non-numeric image user with runAsNonRoot",
         DescribeContainer(c) + " will not start: " + DescribeImageUser(ec) + ", " +
             ec.RunAsNonRootField() +
             " is true and the kubelet cannot verify a non-numeric user; set " + field +
             " to the numeric UID of " + Quote(user) + known});
    return;
  }
  const UserVerdict verdict = JudgeImageUser(ec.image_user, policy);
  switch (verdict.kind) {
    case UserVerdict::Kind::kRoot:
    case UserVerdict::Kind::kNonRoot:
      return;  // rootUser speaks for uid 0; a uid above 0 is fine
    case UserVerdict::Kind::kInvalid:
      out->violations.push_back({RuleId::kUnknownUser, c.name, field, "invalid image user",
                                 DescribeContainer(c) + ": " + DescribeImageUser(ec) + "; " +
                                     verdict.reason + "; set " + field + " to a non-zero UID"});
      return;
    case UserVerdict::Kind::kUnknown:
      out->violations.push_back(
          {RuleId::kUnknownUser, c.name, field, "unresolved image user",
           DescribeContainer(c) + ": " + DescribeImageUser(ec) + ", whose uid is unknown (" +
               verdict.reason + ") and neither runAsUser nor runAsNonRoot is set" + Fix(field)});
      return;
    case UserVerdict::Kind::kAssumed:
      break;
  }
  out->advisories.push_back(
      {RuleId::kUnknownUser, c.name, field, "non-numeric image user",
       DescribeContainer(c) + ": " + DescribeImageUser(ec) +
           ", assumed non-root (namedUsers: assume; its uid is not known without the image's "
           "/etc/passwd); set " +
           field + " to its numeric UID to be sure"});
}

void CheckUnknown(const EffectiveContainer& ec, RuleOutput* out) {
  const ContainerView& c = *ec.container;
  if (ec.run_as_non_root == true) return;
  const std::string field = c.path + ".securityContext.runAsUser";
  std::string why = ec.unknown_reason.empty() ? "no image facts" : ec.unknown_reason;
  out->violations.push_back(
      {RuleId::kUnknownUser, c.name, field, "unknown image user",
       DescribeContainer(c) + ": the user of image " + ec.image_display + " is unknown (" + why +
           ") and neither runAsUser nor runAsNonRoot is set" + Fix(field)});
}

// Windows: runAsNonRoot does not help, as the kubelet refuses only a user named exactly
// ContainerAdministrator — an image without User (also ContainerAdministrator) or one that says
// SYSTEM starts.
void CheckUnknownWindows(const EffectiveContainer& ec, RuleOutput* out) {
  const ContainerView& c = *ec.container;
  const std::string field = ec.WindowsUserField();
  const std::string why = ec.unknown_reason.empty() ? "no image facts" : ec.unknown_reason;
  const std::string_view account =
      ec.host_process == true ? kHostProcessUserAccount : kWindowsUserAccount;
  std::string message = DescribeContainer(c) + ": the user of image " + ec.image_display +
                        " is unknown (" + why + ") and " + field + " is not set; set it to " +
                        Quote(account) + " or another non-administrator account";
  if (ec.run_as_non_root == true) {
    message += " (runAsNonRoot does not stop a Windows administrator account)";
  }
  out->violations.push_back(
      {RuleId::kUnknownUser, c.name, field, "unknown image user", std::move(message)});
}

void CheckInvalid(const EffectiveContainer& ec, RuleOutput* out) {
  const ContainerView& c = *ec.container;
  if (ec.run_as_user) {
    out->violations.push_back({RuleId::kUnknownUser, c.name, ec.RunAsUserField(),
                               "invalid runAsUser",
                               DescribeContainer(c) + ": " + ec.RunAsUserField() + " is " +
                                   std::to_string(*ec.run_as_user) +
                                   ", not a valid UID (0..2147483647); set a non-zero UID"});
    return;
  }
  const std::string field = c.path + ".securityContext.runAsUser";
  out->violations.push_back({RuleId::kUnknownUser, c.name, field, "invalid image user",
                             DescribeContainer(c) + ": " + DescribeImageUser(ec) +
                                 ", not a valid UID (0..2147483647); set " + field +
                                 " to a non-zero UID"});
}

void CheckOne(const EffectiveContainer& ec, NamedUsers named_users, RuleOutput* out) {
  if (ec.Windows()) {
    if (!ec.windows_user && !ec.image_user_known) CheckUnknownWindows(ec, out);
    return;
  }
  if (ec.run_as_user) {
    if (*ec.run_as_user < 0 || *ec.run_as_user > kMaxUid) CheckInvalid(ec, out);
    return;
  }
  if (!ec.image_user_known) {
    CheckUnknown(ec, out);
    return;
  }
  switch (ec.image_user.kind) {
    case ImageUser::Kind::kName:
      if (!ec.image_user.IsRoot()) CheckNamed(ec, named_users, out);
      return;
    case ImageUser::Kind::kInvalid:
      CheckInvalid(ec, out);
      return;
    case ImageUser::Kind::kRootByDefault:
    case ImageUser::Kind::kUid:
      return;
  }
}

void Check(const RuleContext& ctx, RuleOutput* out) {
  // Windows has no user namespaces: hostUsers maps no administrator away.
  const bool mapped = RootMappedByUserNamespace(ctx);
  for (const EffectiveContainer& ec : ctx.containers) {
    if (!mapped || ec.Windows()) CheckOne(ec, ctx.policy.named_users, out);
  }
}

}  // namespace

RuleDef UnknownUserRule() {
  return {RuleId::kUnknownUser,
          "securityContext.runAsUser, securityContext.runAsNonRoot (pod, container), image "
          "config User, spec.hostUsers, windowsOptions.runAsUserName",
          "a known uid or Windows account; an unknown user under runAsNonRoot: true (not on "
          "Windows); a named user whose /etc/passwd uid is above 0 (or, under namedUsers: "
          "assume, any name but root, with a warning)",
          &Check};
}

}  // namespace rootgate::policy
