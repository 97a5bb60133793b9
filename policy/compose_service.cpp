#include "policy/compose_service.h"

#include <utility>

#include "policy/image_ref.h"

namespace rootgate::policy {

namespace {

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The user the service starts as, and the words for it.
struct Effective {
  bool known = false;
  ImageUser user;
  std::string found;  // `user: "root"`, `build: … has USER root at line 3 and user: is not set`
  std::string field;  // "user", "build", "image"
  std::string fix;
};

constexpr std::string_view kUserFix = "set user: to a non-zero UID, e.g. user: \"10001\"";

Effective EffectiveUser(const ServiceView& s) {
  Effective e;
  if (s.user) {
    e.known = true;
    e.user = ParseImageUser(*s.user);
    e.found = "user: " + Quote(*s.user);
    e.field = "user";
    e.fix = kUserFix;
    return e;
  }
  e.known = s.image_user_known;
  e.user = s.image_user;
  e.field = s.image_field.empty() ? "user" : s.image_field;
  e.found = s.image_found + (e.known ? " and user: is not set" : "");
  e.fix = s.image_fix.empty() ? std::string(kUserFix) : s.image_fix + ", or " + std::string(kUserFix);
  return e;
}

// The uid when it is known and not root-by-name; nullopt otherwise.
std::optional<int64_t> KnownUid(const Effective& e) {
  if (!e.known) return std::nullopt;
  switch (e.user.kind) {
    case ImageUser::Kind::kUid:
    case ImageUser::Kind::kRootByDefault:
      return e.user.uid;
    case ImageUser::Kind::kName:
      if (e.user.IsRoot()) return 0;
      return e.user.passwd_uid;
    case ImageUser::Kind::kInvalid:
      return std::nullopt;
  }
  return std::nullopt;
}

class Judge {
 public:
  Judge(const ServiceView& s, const Policy& policy, Decision* d) : s_(s), policy_(policy), d_(d) {
    policy.ForNamespace(s.project, &mode_, &actions_);
  }

  void Add(RuleId id, const std::string& field, std::string reason, std::string message,
           bool advisory = false) {
    const Action action = ResolveAction(actions_[static_cast<size_t>(id)], mode_);
    if (action == Action::kOff) return;
    Finding f{id, s_.name, s_.path + "." + field, std::move(reason), std::move(message)};
    auto& sink = advisory || action == Action::kWarn ? d_->warnings
                 : action == Action::kDeny           ? d_->violations
                                                     : d_->audits;
    sink.push_back(std::move(f));
  }

  void User(const Effective& e);
  void UidRange(int64_t uid, const Effective& e);
  void Pss(const Effective& e);
  void Group();

 private:
  std::string Subject() const { return "service " + Quote(s_.name); }
  std::string RemapNote() const {
    if (s_.userns_host) {
      return "; userns_mode: host turns off the daemon's user-namespace remapping (userns-remap) "
             "for this service, so root in it is root on the host";
    }
    return " (a daemon running with userns-remap would map it to an unprivileged host uid; "
           "rootgate cannot see the daemon's configuration)";
  }

  const ServiceView& s_;
  const Policy& policy_;
  Decision* d_;
  Mode mode_ = Mode::kEnforce;
  RuleActions actions_{};
};

void Judge::UidRange(int64_t uid, const Effective& e) {
  const auto& ranges = policy_.allowed_uid_ranges;
  if (ranges.empty()) return;
  std::string text;
  for (const policy::UidRange& r : ranges) {
    if (uid >= r.min && uid <= r.max) return;
    text += (text.empty() ? "" : ", ") + std::to_string(r.min) + "-" + std::to_string(r.max);
  }
  Add(RuleId::kUidRange, e.field, "uid " + std::to_string(uid) + " out of range",
      Subject() + " would run as uid " + std::to_string(uid) + " (" + e.found +
          "), outside the allowed ranges " + text + "; use a UID inside them");
}

void Judge::User(const Effective& e) {
  const std::string subject = Subject();
  if (!e.known) {
    Add(RuleId::kUnknownUser, e.field, "unknown user",
        subject + ": the user it runs as cannot be known: " + e.found + "; " + e.fix);
    return;
  }
  const std::optional<int64_t> uid = KnownUid(e);
  if (uid && *uid == 0) {
    Add(RuleId::kRootUser, e.field, e.field == "user" ? "user root" : "image user root",
        subject + " would run as root: " + e.found + RemapNote() + "; " + e.fix);
    return UidRange(0, e);
  }
  if (uid) return UidRange(*uid, e);
  if (e.user.kind == ImageUser::Kind::kInvalid) {
    Add(RuleId::kUnknownUser, e.field, "invalid user",
        subject + ": " + e.found + " is not a valid UID (0..2147483647); " + e.fix);
    return;
  }
  const std::string name_note = ": a user name, whose uid comes from the image's /etc/passwd";
  if (policy_.named_users == NamedUsers::kAssume) {
    Add(RuleId::kUnknownUser, e.field, "non-numeric user",
        subject + ": " + e.found + name_note + ", assumed non-root (namedUsers: assume); " + e.fix,
        true);
    return;
  }
  Add(RuleId::kUnknownUser, e.field, "non-numeric user",
      subject + ": " + e.found + name_note + ", which rootgate did not read; " + e.fix);
}

// pss-restricted's two user checks, translated to Compose.
void Judge::Pss(const Effective& e) {
  if (s_.user && ParseImageUser(*s_.user).IsRoot()) {
    Add(RuleId::kRunAsUser, "user", "user=root",
        Subject() + " must not set user: " + Quote(*s_.user) + " (root); " + std::string(kUserFix));
  }
  const std::optional<int64_t> uid = KnownUid(e);
  if (!uid || *uid == 0) {
    Add(RuleId::kRunAsNonRoot, "user", "user not verified non-root",
        Subject() + ": Compose has no runAsNonRoot, so only a known non-zero UID guarantees a "
                    "non-root start, and " + e.found + "; " + std::string(kUserFix));
  }
}

void Judge::Group() {
  if (!s_.user) return;
  const size_t colon = s_.user->find(':');
  if (colon == std::string::npos) return;
  const std::string group = s_.user->substr(colon + 1);
  const ImageUser parsed = ParseImageUser(group);
  const bool root = group == "root" || (parsed.kind == ImageUser::Kind::kUid && parsed.uid == 0);
  if (!root) return;
  Add(RuleId::kRootGroup, "user", "group 0",
      Subject() + " would run with group 0 (user: " + Quote(*s_.user) +
          "); use a non-zero GID, e.g. user: \"10001:10001\"");
}

// The reason the service is exempt, or "".
std::string Exemption(const ServiceView& s, const Policy& policy) {
  for (const std::string& p : policy.exemptions.namespaces) {
    if (!s.project.empty() && GlobMatch(p, s.project)) return "project " + s.project + " is exempt";
  }
  if (s.image.empty()) return "";
  auto ref = ParseImageRef(s.image);
  for (const std::string& p : policy.exemptions.images) {
    if (GlobMatch(p, s.image) || (ref && GlobMatch(p, ref.value().String()))) {
      return "image " + s.image + " is exempt";
    }
  }
  return "";
}

}  // namespace

Decision EvaluateService(const ServiceView& service, const Policy& policy) {
  Decision d;
  d.skip_reason = Exemption(service, policy);
  if (!d.skip_reason.empty()) return d;
  d.evaluated = true;
  Judge judge(service, policy, &d);
  const Effective e = EffectiveUser(service);
  judge.User(e);
  judge.Pss(e);
  judge.Group();
  if (service.privileged) {
    judge.Add(RuleId::kPrivileged, "privileged", "privileged=true",
              "service " + Quote(service.name) +
                  " sets privileged: true: a privileged container is root on the host in all "
                  "but name; remove privileged: true (add only the capabilities it needs with "
                  "cap_add)");
  }
  d.allowed = d.violations.empty();
  d.code = d.allowed ? 0 : 403;
  return d;
}

}  // namespace rootgate::policy
