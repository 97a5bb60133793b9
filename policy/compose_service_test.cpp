// EvaluateService against SEMANTICS.md "Compose services": `user:` as docker run --user (0,
// root, 0:…, root:… are root), else the image's User; no runAsNonRoot, so unknown is
// unknownUser; privileged: true is privileged; userns_mode: host is named in the root message.
// One minimal service per row, changed in one way.
#include "policy/compose_service.h"

#include <doctest/doctest.h>

#include <functional>
#include <vector>

#include "policy/test_support.h"

namespace {

using namespace rootgate::policy;
using namespace rootgate::policy::testing;

ServiceView Base() {
  ServiceView s;
  s.name = "web";
  s.project = "shop";
  s.path = "services.web";
  s.image = "registry.example.com/web:1";
  s.image_field = "image";
  s.image_found = "image registry.example.com/web:1 has USER \"1001\" (registry)";
  s.image_user_known = true;
  s.image_user = ParseImageUser("1001");
  return s;
}

struct Row {
  const char* name;
  std::function<void(ServiceView&)> change;
  const char* denied;  // rule IDs, sorted
  const char* warned;
};

ServiceView WithImageUser(ServiceView s, const char* user) {
  s.image_user = ParseImageUser(user);
  return s;
}

const std::vector<Row> kDefaultRows = {
    {"image user 1001, no user:", [](ServiceView&) {}, "", ""},
    {"user: 1000", [](ServiceView& s) { s.user = "1000"; }, "", ""},
    {"user: 1000:1000", [](ServiceView& s) { s.user = "1000:1000"; }, "", ""},
    {"user: 0", [](ServiceView& s) { s.user = "0"; }, "rootUser", ""},
    {"user: root", [](ServiceView& s) { s.user = "root"; }, "rootUser", ""},
    {"user: 0:0", [](ServiceView& s) { s.user = "0:0"; }, "rootUser", ""},
    {"user: root:wheel", [](ServiceView& s) { s.user = "root:wheel"; }, "rootUser", ""},
    {"user: 1000 over a root image", [](ServiceView& s) { s = WithImageUser(s, ""); s.user = "1000"; }, "", ""},
    {"image without USER", [](ServiceView& s) { s = WithImageUser(s, ""); }, "rootUser", ""},
    {"image USER 0:1000", [](ServiceView& s) { s = WithImageUser(s, "0:1000"); }, "rootUser", ""},
    {"image user unknown",
     [](ServiceView& s) {
       s.image_user_known = false;
       s.unknown_reason = "no image facts";
     },
     "unknownUser", ""},
    // namedUsers: resolve (the default): a name with no passwd uid is unknown (SEMANTICS rule 4).
    {"user: name, its uid not known", [](ServiceView& s) { s.user = "app"; }, "unknownUser", ""},
    {"image user name whose passwd uid is 0",
     [](ServiceView& s) {
       s = WithImageUser(s, "toor");
       s.image_user.passwd_uid = 0;
     },
     "rootUser", ""},
    {"image user name whose passwd uid is 1000",
     [](ServiceView& s) {
       s = WithImageUser(s, "app");
       s.image_user.passwd_uid = 1000;
     },
     "", ""},
    {"user: uid above 2147483647", [](ServiceView& s) { s.user = "2147483648"; }, "unknownUser", ""},
    {"privileged with a non-root user", [](ServiceView& s) { s.privileged = true; }, "privileged", ""},
    {"privileged and root",
     [](ServiceView& s) {
       s.privileged = true;
       s.user = "0";
     },
     "privileged,rootUser", ""},
};

}  // namespace

TEST_CASE("EvaluateService: the default preset") {
  const Policy policy = PolicyFor(Preset::kDefault);
  for (const Row& row : kDefaultRows) {
    CAPTURE(row.name);
    ServiceView s = Base();
    row.change(s);
    const Decision d = EvaluateService(s, policy);
    CHECK(d.evaluated);
    CHECK(Ids(d.violations) == row.denied);
    CHECK(Ids(d.warnings) == row.warned);
    CHECK(d.allowed == std::string(row.denied).empty());
  }
}

TEST_CASE("EvaluateService: fields, messages and userns_mode: host") {
  const Policy policy = PolicyFor(Preset::kDefault);
  ServiceView s = Base();
  s.user = "root";
  Decision d = EvaluateService(s, policy);
  REQUIRE(d.violations.size() == 1);
  CHECK(d.violations[0].field == "services.web.user");
  CHECK(d.violations[0].container == "web");
  CHECK(Contains(d.violations[0].message, "service \"web\" would run as root: user: \"root\""));
  CHECK(Contains(d.violations[0].message, "userns-remap would map it"));
  s.userns_host = true;
  d = EvaluateService(s, policy);
  CHECK(Contains(d.violations[0].message, "userns_mode: host turns off"));
  ServiceView image_root = WithImageUser(Base(), "");
  d = EvaluateService(image_root, policy);
  REQUIRE(d.violations.size() == 1);
  CHECK(d.violations[0].field == "services.web.image");
  ServiceView priv = Base();
  priv.privileged = true;
  d = EvaluateService(priv, policy);
  CHECK(FindingOf(d.violations, RuleId::kPrivileged).field == "services.web.privileged");
}

TEST_CASE("EvaluateService: namedUsers resolve makes a bare name unknown") {
  Policy policy = PolicyFor(Preset::kDefault);
  policy.named_users = NamedUsers::kResolve;
  ServiceView s = Base();
  s.user = "app";
  const Decision d = EvaluateService(s, policy);
  CHECK(Ids(d.violations) == "unknownUser");
}

TEST_CASE("EvaluateService: pss presets, optional rules, modes and exemptions") {
  ServiceView root = Base();
  root.user = "0:0";
  CHECK(Ids(EvaluateService(root, PolicyFor(Preset::kPssRestricted)).violations) ==
        "runAsNonRoot,runAsUser");
  CHECK(Ids(EvaluateService(Base(), PolicyFor(Preset::kPssRestricted)).violations) == "");
  ServiceView unknown = Base();
  unknown.image_user_known = false;
  CHECK(Ids(EvaluateService(unknown, PolicyFor(Preset::kPssRestricted)).violations) == "runAsNonRoot");
  CHECK(Ids(EvaluateService(root, PolicyFor(Preset::kPssBaseline)).violations) == "");
  ServiceView group = Base();
  group.user = "1000:0";
  const Policy with_group = WithRule(PolicyFor(Preset::kDefault), RuleId::kRootGroup, Action::kDeny);
  CHECK(Ids(EvaluateService(group, with_group).violations) == "rootGroup");
  Policy ranges = WithRule(PolicyFor(Preset::kDefault), RuleId::kUidRange, Action::kDeny);
  ranges.allowed_uid_ranges = {{10000, 20000}};
  CHECK(Ids(EvaluateService(Base(), ranges).violations) == "uidRange");
  Policy warn = PolicyFor(Preset::kDefault);
  warn.mode = Mode::kWarn;
  const Decision warned = EvaluateService(root, warn);
  CHECK(warned.allowed);
  CHECK(Ids(warned.warnings) == "rootUser");
  Policy exempt = PolicyFor(Preset::kDefault);
  exempt.exemptions.namespaces = {"sh*"};
  const Decision skipped = EvaluateService(root, exempt);
  CHECK_FALSE(skipped.evaluated);
  CHECK(skipped.skip_reason == "project shop is exempt");
  Policy image_exempt = PolicyFor(Preset::kDefault);
  image_exempt.exemptions.images = {"registry.example.com/*"};
  CHECK_FALSE(EvaluateService(root, image_exempt).evaluated);
}

TEST_CASE("EvaluateService: a named user under namedUsers: assume is a warning, not a denial") {
  Policy policy = PolicyFor(Preset::kDefault);
  policy.named_users = NamedUsers::kAssume;
  ServiceView s = Base();
  s.user = "app";
  const Decision d = EvaluateService(s, policy);
  CHECK(d.allowed);
  CHECK(Ids(d.warnings) == std::string("unknownUser"));
  s.user = "root";  // root is root whatever the policy trusts
  CHECK(Ids(EvaluateService(s, policy).violations) == std::string("rootUser"));
}
