// uidRange (optional): a known UID must fall inside the policy's allowedUIDRanges.
//
// Reads:  securityContext.runAsUser (container over pod), the image config User when that is
//         unset, securityContext.runAsNonRoot; policy allowedUIDRanges.
// Allows: no ranges configured; a uid inside any range (bounds included).
// Denies: a known uid outside every range. An unknown uid under runAsNonRoot: true gives a
//         warning (it cannot be checked before the container starts).
#include "policy/rules/rule.h"

namespace rootgate::policy {

namespace {

std::string DescribeRanges(const std::vector<UidRange>& ranges) {
  std::string s;
  for (const UidRange& r : ranges) {
    if (!s.empty()) s += ", ";
    s += std::to_string(r.min) + "-" + std::to_string(r.max);
  }
  return s;
}

bool InRanges(int64_t uid, const std::vector<UidRange>& ranges) {
  for (const UidRange& r : ranges) {
    if (uid >= r.min && uid <= r.max) return true;
  }
  return false;
}

void Check(const RuleContext& ctx, RuleOutput* out) {
  const auto& ranges = ctx.policy.allowed_uid_ranges;
  if (ranges.empty() || ctx.view.windows) return;
  for (const EffectiveContainer& ec : ctx.containers) {
    const ContainerView& c = *ec.container;
    const std::string own_field = c.path + ".securityContext.runAsUser";
    std::optional<int64_t> uid = ec.run_as_user;
    std::string source = ec.RunAsUserField();
    if (!uid && ec.image_user_known && ec.image_user.kind == ImageUser::Kind::kUid) {
      uid = ec.image_user.uid;
      source = DescribeImageUser(ec);
    } else if (!uid && ec.image_user_known && ec.image_user.passwd_uid) {
      uid = ec.image_user.passwd_uid;  // a named user resolved through the image's /etc/passwd
      source = DescribeImageUser(ec);
    } else if (!uid && ec.image_user_known && ec.image_user.IsRoot()) {
      uid = 0;  // no USER, or the name `root`: uid 0 as surely as a numeric 0
      source = DescribeImageUser(ec);
    }
    if (uid) {
      if (InRanges(*uid, ranges)) continue;
      out->violations.push_back(
          {RuleId::kUidRange, c.name, own_field, "uid " + std::to_string(*uid) + " out of range",
           DescribeContainer(c) + " would run as uid " + std::to_string(*uid) + " (" + source +
               "), outside the allowed ranges " + DescribeRanges(ranges) + "; set " + own_field +
               " to a UID inside them"});
    } else if (ec.run_as_non_root == true) {
      out->advisories.push_back(
          {RuleId::kUidRange, c.name, own_field, "uid unknown",
           DescribeContainer(c) + ": its uid is not known, so the allowed ranges " +
               DescribeRanges(ranges) + " cannot be checked; set " + own_field});
    }
  }
}

}  // namespace

RuleDef UidRangeRule() {
  return {RuleId::kUidRange,
          "securityContext.runAsUser (pod, container), image config User, runAsNonRoot; policy "
          "allowedUIDRanges",
          "a uid inside a configured range", &Check};
}

}  // namespace rootgate::policy
