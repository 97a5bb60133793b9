// Named image users resolved through the image's /etc/passwd (policy namedUsers: resolve, the
// default; the registry lookup fills ImageFact.name_uid or name_note): what rootUser, unknownUser
// and uidRange make of them (SEMANTICS.md, "The image's user" and the default preset, rule 4):
// a name is judged by its uid; a name whose uid is not known is an unknown user (fail closed)
// unless the policy says `namedUsers: assume`.
#include <doctest/doctest.h>

#include "policy/image_user.h"
#include "policy/test_support.h"

namespace {

using namespace rootgate::policy;
using namespace rootgate::policy::testing;

ImageFactMap NamedFacts(const char* name, std::optional<int64_t> uid, std::string note = "") {
  ImageFactMap facts;
  ImageFact f;
  f.known = true;
  f.user = name;
  f.source = "registry registry.example.com";
  f.name_uid = uid;
  f.name_note = std::move(note);
  facts.Set(kImage, f);
  return facts;
}

TEST_CASE("ImageUser: a name is root when /etc/passwd says uid 0") {
  ImageUser u = ParseImageUser("admin");
  CHECK_FALSE(u.IsRoot());
  u.passwd_uid = 0;
  CHECK(u.IsRoot());
  u.passwd_uid = 1000;
  CHECK_FALSE(u.IsRoot());
  ImageUser numeric = ParseImageUser("1000");
  numeric.passwd_uid = 0;  // only names are resolved; a uid stays what it says
  CHECK(numeric.kind == ImageUser::Kind::kUid);
  CHECK(numeric.IsRoot() == false);
}

struct Row {
  const char* name;
  std::optional<int64_t> uid;
  bool run_as_non_root;
  NamedUsers named_users;
  const char* denied;  // rule IDs denied
  const char* warned;  // rule IDs warned
};

TEST_CASE("default preset: named image users with and without their uid") {
  constexpr NamedUsers kResolve = NamedUsers::kResolve, kAssume = NamedUsers::kAssume;
  const std::vector<Row> rows = {
      // Not resolved: unknown (fail closed); under runAsNonRoot the kubelet refuses anyway.
      {"app", std::nullopt, false, kResolve, "unknownUser", ""},
      {"app", std::nullopt, true, kResolve, "unknownUser", ""},
      // namedUsers: assume (opt-in): assumed non-root with a warning.
      {"app", std::nullopt, false, kAssume, "", "unknownUser"},
      {"app", std::nullopt, true, kAssume, "unknownUser", ""},
      // Resolved to a non-zero uid: nothing to warn about; runAsNonRoot still refuses a name.
      {"app", 1000, false, kResolve, "", ""},
      {"app", 1000, true, kResolve, "unknownUser", ""},
      {"app", 1000, false, kAssume, "", ""},
      // Resolved to uid 0: root, whatever the name and the setting.
      {"admin", 0, false, kResolve, "rootUser", ""},
      {"admin", 0, true, kResolve, "rootUser", ""},
      {"admin", 0, false, kAssume, "rootUser", ""},
      // A passwd uid the kubelet would refuse (a negative uid, Atoi's clamp of a huge one).
      {"app", -1, false, kResolve, "unknownUser", ""},
      {"app", INT64_MAX, false, kResolve, "unknownUser", ""},
      // `root` is root with or without /etc/passwd.
      {"root", std::nullopt, false, kResolve, "rootUser", ""},
      {"root", std::nullopt, false, kAssume, "rootUser", ""},
  };
  for (const Row& r : rows) {
    INFO(r.name << " uid " << (r.uid ? std::to_string(*r.uid) : "?") << " runAsNonRoot "
                << r.run_as_non_root << " assume " << (r.named_users == kAssume));
    Policy policy = PolicyFor(Preset::kDefault);
    policy.named_users = r.named_users;
    Edits edits;
    if (r.run_as_non_root) edits.push_back({"/spec/securityContext/runAsNonRoot", true});
    const Decision d = Decide(Apply(BasePod(), edits), NamedFacts(r.name, r.uid), policy);
    CHECK(Ids(d.violations) == r.denied);
    CHECK(Ids(d.warnings) == r.warned);
  }
}

TEST_CASE("an unresolved name is unknown, and the message says why") {
  const Policy policy = PolicyFor(Preset::kDefault);
  const char* note = "USER ghost is not in the image's /etc/passwd; the container would not start";
  const Decision d = Decide(BasePod(), NamedFacts("ghost", std::nullopt, note), policy);
  const Finding f = FindingOf(d.violations, RuleId::kUnknownUser);
  CHECK(Contains(f.message, note));
  CHECK(Contains(f.message, "has USER \"ghost\""));
  CHECK(f.field == "spec.containers[0].securityContext.runAsUser");
  // No reason recorded (e.g. facts from a source that cannot read layers): still unknown.
  const Decision bare = Decide(BasePod(), NamedFacts("app", std::nullopt), policy);
  CHECK(Contains(FindingOf(bare.violations, RuleId::kUnknownUser).message,
                 "whose uid is not known without the image's /etc/passwd"));
  // An imageOverride that names a user gives no passwd either.
  Policy with_override = policy;
  with_override.image_overrides = {{kImage, "app"}};
  CHECK(Ids(Decide(BasePod(), NoImageFacts(), with_override).violations) == "unknownUser");
  with_override.named_users = NamedUsers::kAssume;
  CHECK(Ids(Decide(BasePod(), NoImageFacts(), with_override).warnings) == "unknownUser");
}

TEST_CASE("JudgeImageUser: one image user, one verdict") {
  using K = UserVerdict::Kind;
  struct JRow {
    const char* user;
    std::optional<int64_t> passwd_uid;
    bool name_non_root;
    NamedUsers named_users;
    K kind;
    std::optional<int64_t> uid;
  };
  const std::vector<JRow> rows = {
      {"", std::nullopt, false, NamedUsers::kResolve, K::kRoot, 0},
      {"0:1000", std::nullopt, false, NamedUsers::kResolve, K::kRoot, 0},
      {"1000", 0, false, NamedUsers::kResolve, K::kNonRoot, 1000},  // a uid is not looked up
      {"-1", std::nullopt, false, NamedUsers::kResolve, K::kInvalid, std::nullopt},
      {"root", std::nullopt, false, NamedUsers::kAssume, K::kRoot, 0},
      {"toor", 0, false, NamedUsers::kAssume, K::kRoot, 0},
      {"app:0", 1000, false, NamedUsers::kResolve, K::kNonRoot, 1000},
      {"app", std::nullopt, true, NamedUsers::kResolve, K::kNonRoot, std::nullopt},
      {"app", std::nullopt, false, NamedUsers::kResolve, K::kUnknown, std::nullopt},
      {"app", std::nullopt, false, NamedUsers::kAssume, K::kAssumed, std::nullopt},
      {"app", 2147483648, false, NamedUsers::kResolve, K::kInvalid, 2147483648},
  };
  for (const JRow& r : rows) {
    INFO(r.user);
    ImageUser u = ParseImageUser(r.user);
    if (u.kind == ImageUser::Kind::kName) {
      u.passwd_uid = r.passwd_uid;
      u.name_non_root = r.name_non_root;
    }
    const UserVerdict v = JudgeImageUser(u, r.named_users);
    CHECK(v.kind == r.kind);
    CHECK(v.uid == r.uid);
    CHECK(v.reason.empty() == (r.kind != K::kUnknown && r.kind != K::kInvalid));
  }
}

TEST_CASE("messages name the uid read from /etc/passwd") {
  const Policy policy = PolicyFor(Preset::kDefault);
  const nlohmann::json pod = Apply(BasePod(), {{"/spec/securityContext/runAsNonRoot", true}});
  const Decision d = Decide(pod, NamedFacts("app", 1000), policy);
  const Finding f = FindingOf(d.violations, RuleId::kUnknownUser);
  CHECK(Contains(f.message, "numeric UID of \"app\" (1000)"));
  CHECK(f.field == "spec.containers[0].securityContext.runAsUser");
}

TEST_CASE("uidRange reads a resolved named user's uid") {
  Policy policy = WithRule(PolicyFor(Preset::kDefault), RuleId::kUidRange, Action::kDeny);
  policy.allowed_uid_ranges = {{1000, 1999}};
  CHECK(Ids(Decide(BasePod(), NamedFacts("app", 1500), policy).violations) == "");
  CHECK(Ids(Decide(BasePod(), NamedFacts("app", 5000), policy).violations) == "uidRange");
  // Not resolved: its uid cannot be checked, and it is not guessed; it is unknown instead.
  CHECK(Ids(Decide(BasePod(), NamedFacts("app", std::nullopt), policy).violations) == "unknownUser");
  policy.named_users = NamedUsers::kAssume;
  CHECK(Ids(Decide(BasePod(), NamedFacts("app", std::nullopt), policy).violations) == "");
}

}  // namespace
