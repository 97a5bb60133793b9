#include "server/inputs/image_config_verdict.h"

#include "policy/image_ref.h"
#include "policy/platform_fact.h"
#include "policy/windows_user.h"

namespace rootgate::server {

namespace {

using policy::Action;
using policy::Finding;
using policy::ImageUser;
using policy::RuleId;

// The action of a rule under the policy's mode (Evaluate's Resolve, without namespaces).
Action ActionOf(const policy::Policy& policy, RuleId id) {
  const Action a = policy.rules[static_cast<size_t>(id)];
  if (a != Action::kInherit) return a;
  switch (policy.mode) {
    case policy::Mode::kEnforce:
      return Action::kDeny;
    case policy::Mode::kWarn:
      return Action::kWarn;
    case policy::Mode::kAudit:
      return Action::kAudit;
  }
  return Action::kDeny;
}

// Findings of one input; sorts each by its rule's action.
class Decider {
 public:
  Decider(const policy::Policy& policy, const UserWording& w, CheckResult* r)
      : policy_(policy), w_(w), r_(r) {}

  void Add(RuleId id, std::string reason, std::string message, bool advisory = false) {
    const Action action = ActionOf(policy_, id);
    if (action == Action::kOff) return;
    Finding f{id, "", w_.field, std::move(reason), std::move(message)};
    policy::Decision& d = r_->decision;
    auto& sink = advisory || action == Action::kWarn ? d.warnings
                 : action == Action::kDeny           ? d.violations
                                                     : d.audits;
    sink.push_back(std::move(f));
  }

 private:
  const policy::Policy& policy_;
  const UserWording& w_;
  CheckResult* r_;
};

std::string Ranges(const std::vector<policy::UidRange>& ranges) {
  std::string s;
  for (const policy::UidRange& r : ranges) {
    s += (s.empty() ? "" : ", ") + std::to_string(r.min) + "-" + std::to_string(r.max);
  }
  return s;
}

void CheckUidRange(int64_t uid, const UserWording& w, const policy::Policy& policy, Decider* d) {
  const auto& ranges = policy.allowed_uid_ranges;
  if (ranges.empty()) return;
  for (const policy::UidRange& r : ranges) {
    if (uid >= r.min && uid <= r.max) return;
  }
  d->Add(RuleId::kUidRange, "uid " + std::to_string(uid) + " out of range",
         w.subject + " would run as uid " + std::to_string(uid) + " (" + w.found +
             "), outside the allowed ranges " + Ranges(ranges) + "; use a UID inside them");
}

// A name that is not root: judged by its /etc/passwd uid (SEMANTICS.md rule 4).
void DecideName(const ImageUser& u, const UserWording& w, const policy::Policy& policy, Decider* d) {
  const policy::UserVerdict v = policy::JudgeImageUser(u, policy.named_users);
  switch (v.kind) {
    case policy::UserVerdict::Kind::kRoot:
      return;  // IsRoot() caught it already
    case policy::UserVerdict::Kind::kNonRoot:
      if (v.uid) CheckUidRange(*v.uid, w, policy, d);
      return;
    case policy::UserVerdict::Kind::kInvalid:
      d->Add(RuleId::kUnknownUser, "invalid image user", w.subject + ": " + w.found + "; " + v.reason + "; " + w.fix);
      return;
    case policy::UserVerdict::Kind::kUnknown:
      d->Add(RuleId::kUnknownUser, "unresolved image user",
             w.subject + ": " + w.found + ", whose uid is unknown (" + v.reason + "); " + w.fix);
      return;
    case policy::UserVerdict::Kind::kAssumed:
      d->Add(RuleId::kUnknownUser, "non-numeric image user",
             w.subject + ": " + w.found + ": a user name, assumed non-root (namedUsers: assume; its uid "
                                          "is not known without the image's /etc/passwd); use its "
                                          "numeric UID so that runAsNonRoot can verify it",
             true);
      return;
  }
}

void DecideKnown(const UserEvidence& e, const UserWording& w, const policy::Policy& policy,
                 Decider* d) {
  const ImageUser& u = e.user;
  if (e.windows) {
    // An empty User is the Windows default account, ContainerAdministrator.
    const auto admin = policy::WindowsAdminAccount(policy::WindowsImageAccount(u.raw));
    if (admin) {
      d->Add(RuleId::kRootUser, "image user " + std::string(*admin),
             w.subject + " would run as the Windows administrator account " + std::string(*admin) +
                 ": " + w.found + "; use ContainerUser or another non-administrator account");
    }
    return;
  }
  if (u.IsRoot()) {
    d->Add(RuleId::kRootUser, "image user root", w.subject + " would run as root: " + w.found + "; " + w.fix);
    CheckUidRange(0, w, policy, d);
    return;
  }
  switch (u.kind) {
    case ImageUser::Kind::kInvalid:
      d->Add(RuleId::kUnknownUser, "invalid image user",
             w.subject + ": " + w.found + ", not a valid UID (0..2147483647); " + w.fix);
      return;
    case ImageUser::Kind::kName:
      return DecideName(u, w, policy, d);
    case ImageUser::Kind::kUid:
    case ImageUser::Kind::kRootByDefault:
      return CheckUidRange(u.uid, w, policy, d);
  }
}

}  // namespace

void DecideImageUser(const UserEvidence& evidence, const UserWording& wording,
                     const policy::Policy& policy, CheckResult* r) {
  if (ActionOf(policy, RuleId::kRootUser) == Action::kOff &&
      ActionOf(policy, RuleId::kUnknownUser) == Action::kOff) {
    r->skipped = true;
    r->skip_reason = "the policy turns rootUser and unknownUser off";
    return;
  }
  Decider d(policy, wording, r);
  if (evidence.known) {
    DecideKnown(evidence, wording, policy, &d);
  } else {
    d.Add(RuleId::kUnknownUser, "unknown image user",
          wording.subject + ": " + wording.found + " (" + evidence.unknown_reason + "); " +
              wording.fix);
  }
  policy::Decision& dec = r->decision;
  dec.evaluated = true;
  dec.allowed = dec.violations.empty();
  dec.code = dec.allowed ? 0 : 403;
  if (wording.line > 0) r->field_lines[wording.field] = wording.line;
}

namespace {

// The evidence of one fact from `facts`: a multi-platform image without a pod means every
// platform in it, the most privileged applying (Windows entries when the index has nothing
// else).
UserEvidence FromFact(std::optional<policy::ImageFact> fact, UserEvidence e) {
  if (fact && !fact->platforms.empty()) {
    const bool windows = policy::PlatformsForPod(*fact, nullptr, false).empty() &&
                         !policy::PlatformsForPod(*fact, nullptr, true).empty();
    fact = policy::FactForPod(*fact, nullptr, windows);
  }
  if (!fact || !fact->known) {
    e.unknown_reason = fact ? fact->reason : "no image facts; registry lookups are off";
    return e;
  }
  e.known = true;
  e.user = policy::ImageUserOf(*fact);
  e.source = fact->source;
  return e;
}

// The policy's imageOverrides entry for `image` (globs on the reference as written and
// normalised), or null.
const policy::ImageOverride* OverrideFor(std::string_view image, const std::string& display,
                                         const policy::Policy& policy) {
  for (const policy::ImageOverride& o : policy.image_overrides) {
    if (policy::GlobMatch(o.image, image) || policy::GlobMatch(o.image, display)) return &o;
  }
  return nullptr;
}

// The image's reference parsed, with how it is displayed; an unparseable one leaves its reason.
bool ParseForLookup(std::string_view image, std::string* display, UserEvidence* e) {
  auto ref = policy::ParseImageRef(image);
  *display = ref ? ref.value().String() : std::string(image);
  if (!ref) e->unknown_reason = ref.error();
  return ref.ok();
}

}  // namespace

UserEvidence LookupImageUser(std::string_view image, const policy::ImageFacts& facts,
                             const policy::Policy& policy, std::string* display) {
  UserEvidence e;
  if (!ParseForLookup(image, display, &e)) return e;
  if (const policy::ImageOverride* o = OverrideFor(image, *display, policy)) {
    e.known = true;
    e.user = policy::ImageUserOfOverride(o->image, o->user);
    e.source = "policy imageOverrides \"" + o->image + "\"";
    return e;
  }
  return FromFact(facts.Find(image), std::move(e));
}

UserEvidence LookupImageUserName(std::string_view image, std::string_view name,
                                 const policy::ImageFacts& facts, const policy::Policy& policy,
                                 std::string* display) {
  UserEvidence e;
  if (!ParseForLookup(image, display, &e)) return e;
  if (const policy::ImageOverride* o = OverrideFor(image, *display, policy)) {
    e.unknown_reason = "policy imageOverrides \"" + o->image +
                       "\" gives the image's user, not its /etc/passwd, and the image is not looked up";
    return e;
  }
  e = FromFact(facts.FindUserName(image, name), std::move(e));
  // Only a fact about this very name answers (a fact source that ignores the name must not).
  if (e.known && (e.user.kind != policy::ImageUser::Kind::kName || e.user.name != name)) {
    return UserEvidence{false, {}, "", "the lookup answered for another user", false};
  }
  return e;
}

}  // namespace rootgate::server
