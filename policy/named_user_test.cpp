// Named image users resolved through the image's /etc/passwd (policy namedUsers: resolve; the
// registry lookup fills ImageFact.name_uid): what rootUser, unknownUser and uidRange make of them
// (SEMANTICS.md, "The image's user" and the default preset, rule 4).
#include <doctest/doctest.h>

#include "policy/image_user.h"
#include "policy/test_support.h"

namespace {

using namespace rootgate::policy;
using namespace rootgate::policy::testing;

ImageFactMap NamedFacts(const char* name, std::optional<int64_t> uid) {
  ImageFactMap facts;
  ImageFact f;
  f.known = true;
  f.user = name;
  f.source = "registry registry.example.com";
  f.name_uid = uid;
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
  const char* denied;  // rule IDs denied
  const char* warned;  // rule IDs warned
};

TEST_CASE("default preset: named image users with and without their uid") {
  const Policy policy = PolicyFor(Preset::kDefault);
  const std::vector<Row> rows = {
      // Not resolved: assumed non-root with a warning; under runAsNonRoot the kubelet refuses.
      {"app", std::nullopt, false, "", "unknownUser"},
      {"app", std::nullopt, true, "unknownUser", ""},
      // Resolved to a non-zero uid: nothing to warn about; runAsNonRoot still refuses a name.
      {"app", 1000, false, "", ""},
      {"app", 1000, true, "unknownUser", ""},
      // Resolved to uid 0: root, whatever the name.
      {"admin", 0, false, "rootUser", ""},
      {"admin", 0, true, "rootUser", ""},
      // `root` is root with or without /etc/passwd.
      {"root", std::nullopt, false, "rootUser", ""},
  };
  for (const Row& r : rows) {
    INFO(r.name << " uid " << (r.uid ? std::to_string(*r.uid) : "?") << " runAsNonRoot "
                << r.run_as_non_root);
    Edits edits;
    if (r.run_as_non_root) edits.push_back({"/spec/securityContext/runAsNonRoot", true});
    const Decision d = Decide(Apply(BasePod(), edits), NamedFacts(r.name, r.uid), policy);
    CHECK(Ids(d.violations) == r.denied);
    CHECK(Ids(d.warnings) == r.warned);
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
  // Not resolved: its uid cannot be checked, and it is not guessed.
  CHECK(Ids(Decide(BasePod(), NamedFacts("app", std::nullopt), policy).violations) == "");
}

}  // namespace
