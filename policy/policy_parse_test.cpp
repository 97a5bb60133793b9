// ParsePolicy: every field read into the model, and every kind of mistake an error that names
// the line and the field (policy_parse.h). Plus the built-in policy text and GlobMatch.
#include "policy/policy_parse.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using namespace rootgate::policy;

bool Has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

constexpr const char* kFull = R"(apiVersion: rootgate.io/v1alpha1
kind: Policy
mode: warn
preset: pss-restricted
rules:
  rootUser: deny
  runAsNonRoot: off
  uidRange: audit
  privileged: inherit
controllers: warn
userNamespaces:
  allowRoot: false
onTimeout: allow
exemptions:
  namespaces: [kube-system, "team-*"]
  usernames: ["system:serviceaccount:kube-system:replicaset-controller"]
  images: ["registry.k8s.io/*"]
  runtimeClassNames: [kata]
namespaceOverrides:
  - namespaces: ["dev-*"]
    mode: audit
    rules:
      unknownUser: warn
  - namespaces: [prod]
imageOverrides:
  - image: "ghcr.io/org/tool:*"
    user: "1000"
  - image: busybox
    user: ""
allowedUIDRanges:
  - min: 1000
    max: 1999
  - {min: 5000, max: 5000}
)";

TEST_CASE("ParsePolicy: every field") {
  auto parsed = ParsePolicy(kFull);
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  const Policy& p = parsed.value();
  CHECK(p.mode == Mode::kWarn);
  CHECK(p.preset == Preset::kPssRestricted);
  RuleActions want = PresetRules(Preset::kPssRestricted);
  want[static_cast<size_t>(RuleId::kRootUser)] = Action::kDeny;
  want[static_cast<size_t>(RuleId::kRunAsNonRoot)] = Action::kOff;
  want[static_cast<size_t>(RuleId::kUidRange)] = Action::kAudit;
  CHECK(p.rules == want);
  CHECK(p.rules[static_cast<size_t>(RuleId::kRunAsUser)] == Action::kInherit);
  CHECK(p.rules[static_cast<size_t>(RuleId::kUnknownUser)] == Action::kOff);
  CHECK_FALSE(p.enforce_controllers);
  CHECK_FALSE(p.allow_root_in_user_namespaces);
  CHECK(p.on_timeout == OnTimeout::kAllowWithWarning);
  CHECK(p.exemptions.namespaces == std::vector<std::string>{"kube-system", "team-*"});
  CHECK(p.exemptions.usernames ==
        std::vector<std::string>{"system:serviceaccount:kube-system:replicaset-controller"});
  CHECK(p.exemptions.images == std::vector<std::string>{"registry.k8s.io/*"});
  CHECK(p.exemptions.runtime_class_names == std::vector<std::string>{"kata"});
  REQUIRE(p.namespace_overrides.size() == 2);
  CHECK(p.namespace_overrides[0].namespaces == std::vector<std::string>{"dev-*"});
  CHECK(p.namespace_overrides[0].mode == Mode::kAudit);
  REQUIRE(p.namespace_overrides[0].rules.size() == 1);
  CHECK(p.namespace_overrides[0].rules[0].first == RuleId::kUnknownUser);
  CHECK(p.namespace_overrides[0].rules[0].second == Action::kWarn);
  CHECK_FALSE(p.namespace_overrides[1].mode.has_value());
  CHECK(p.namespace_overrides[1].rules.empty());
  REQUIRE(p.image_overrides.size() == 2);
  CHECK(p.image_overrides[0].image == "ghcr.io/org/tool:*");
  CHECK(p.image_overrides[0].user == "1000");
  CHECK(p.image_overrides[1].image == "busybox");
  CHECK(p.image_overrides[1].user == "");
  REQUIRE(p.allowed_uid_ranges.size() == 2);
  CHECK(p.allowed_uid_ranges[0].min == 1000);
  CHECK(p.allowed_uid_ranges[0].max == 1999);
  CHECK(p.allowed_uid_ranges[1].min == 5000);
  CHECK(p.allowed_uid_ranges[1].max == 5000);
}

TEST_CASE("ParsePolicy: presets and defaults") {
  auto minimal = ParsePolicy("apiVersion: rootgate.io/v1alpha1\nkind: Policy\n");
  REQUIRE(minimal.ok());
  CHECK(minimal.value().mode == Mode::kEnforce);
  CHECK(minimal.value().preset == Preset::kDefault);
  CHECK(minimal.value().rules == PresetRules(Preset::kDefault));
  CHECK(minimal.value().enforce_controllers);
  CHECK(minimal.value().allow_root_in_user_namespaces);
  CHECK(minimal.value().on_timeout == OnTimeout::kDeny);
  auto baseline = ParsePolicy("preset: pss-baseline\nrules: {rootGroup: deny}\n");
  REQUIRE(baseline.ok());
  RuleActions want = PresetRules(Preset::kPssBaseline);
  want[static_cast<size_t>(RuleId::kRootGroup)] = Action::kDeny;
  CHECK(baseline.value().rules == want);
}

TEST_CASE("PresetRules: the rules each preset turns on") {
  auto on = [](Preset p) {
    std::vector<std::string> names;
    const RuleActions r = PresetRules(p);
    for (size_t i = 0; i < kRuleCount; ++i) {
      if (r[i] == Action::kInherit) names.emplace_back(kRuleNames[i]);
      if (r[i] != Action::kInherit) CHECK(r[i] == Action::kOff);
    }
    return names;
  };
  CHECK(on(Preset::kDefault) == std::vector<std::string>{"rootUser", "unknownUser", "privileged"});
  CHECK(on(Preset::kPssRestricted) ==
        std::vector<std::string>{"runAsNonRoot", "runAsUser", "privileged"});
  CHECK(on(Preset::kPssBaseline) == std::vector<std::string>{"privileged"});
}

TEST_CASE("ParsePolicy: the built-in YAML is the built-in policy") {
  auto parsed = ParsePolicy(BuiltinDefaultPolicyYaml());
  REQUIRE(parsed.ok());
  const Policy& a = parsed.value();
  const Policy& b = BuiltinDefaultPolicy();
  CHECK(a.mode == b.mode);
  CHECK(a.preset == b.preset);
  CHECK(a.rules == b.rules);
  CHECK(a.enforce_controllers == b.enforce_controllers);
  CHECK(a.allow_root_in_user_namespaces == b.allow_root_in_user_namespaces);
  CHECK(a.on_timeout == b.on_timeout);
  CHECK(b.mode == Mode::kEnforce);
  CHECK(b.preset == Preset::kDefault);
  CHECK(b.exemptions.namespaces.empty());
  CHECK(b.image_overrides.empty());
}

struct BadRow {
  const char* name;
  const char* yaml;
  const char* line;   // "line N"
  const char* field;  // the field the error must name; "" for a YAML syntax error
};

const std::vector<BadRow> kBad = {
    {"bad YAML", "mode: enforce\nrules: [rootUser\n", "line 3", ""},
    {"bad YAML indentation", "mode: enforce\n  preset: default\n", "line 2", ""},
    {"unknown top-level field", "mode: enforce\nmodes: warn\n", "line 2", "modes"},
    {"unknown nested field", "mode: warn\nexemptions:\n  namespace: [a]\n", "line 3",
     "exemptions.namespace"},
    {"unknown field in a list item", "imageOverrides:\n  - image: a\n    usr: \"0\"\n", "line 3",
     "imageOverrides[0].usr"},
    {"wrong type: mode a list", "kind: Policy\nmode: [a]\n", "line 2", "mode"},
    {"wrong type: exemptions.namespaces a string", "exemptions:\n  namespaces: kube-system\n",
     "line 2", "exemptions.namespaces"},
    {"wrong type: allowRoot not a bool", "userNamespaces:\n  allowRoot: maybe\n", "line 2",
     "userNamespaces.allowRoot"},
    {"wrong type: min not an integer", "allowedUIDRanges:\n  - min: 1.5\n    max: 2\n", "line 2",
     "allowedUIDRanges[0].min"},
    {"unknown rule ID", "mode: enforce\nrules:\n  rootUsr: deny\n", "line 3", "rules.rootUsr"},
    {"unknown rule ID in a namespace override",
     "namespaceOverrides:\n  - namespaces: [a]\n    rules:\n      rootuser: off\n", "line 4",
     "namespaceOverrides[0].rules.rootuser"},
    {"unknown action", "rules:\n  rootUser: block\n", "line 2", "rules.rootUser"},
    {"bad mode", "apiVersion: rootgate.io/v1alpha1\nmode: strict\n", "line 2", "mode"},
    {"bad preset", "preset: pss-strict\n", "line 1", "preset"},
    {"bad controllers", "controllers: audit\n", "line 1", "controllers"},
    {"bad onTimeout", "\nonTimeout: maybe\n", "line 2", "onTimeout"},
    {"bad apiVersion", "apiVersion: v1\n", "line 1", "apiVersion"},
    {"bad kind", "kind: Pod\n", "line 1", "kind"},
    {"uid range min > max", "mode: enforce\nallowedUIDRanges:\n  - min: 2000\n    max: 1000\n",
     "line 3", "allowedUIDRanges[0]"},
    {"uid range negative", "allowedUIDRanges:\n  - {min: -1, max: 10}\n", "line 2",
     "allowedUIDRanges[0]"},
    {"uid range without max", "allowedUIDRanges:\n  - min: 1\n", "line 2", "allowedUIDRanges[0]"},
    {"imageOverrides without user", "imageOverrides:\n  - image: busybox\n", "line 2",
     "imageOverrides[0].user"},
    {"imageOverrides without image", "imageOverrides:\n  - user: \"0\"\n", "line 2",
     "imageOverrides[0].image"},
    {"namespace override without namespaces", "namespaceOverrides:\n  - mode: warn\n", "line 2",
     "namespaceOverrides[0].namespaces"},
    {"empty exemption entry", "exemptions:\n  images: [\"\"]\n", "line 2", "exemptions.images[0]"},
    {"duplicate top-level key", "mode: warn\npreset: default\nmode: enforce\n", "line 3", "mode"},
    {"duplicate rule", "rules:\n  rootUser: deny\n  rootUser: warn\n", "line 3", "rules.rootUser"},
    {"not a mapping", "- a\n- b\n", "line 1", "policy"},
};

TEST_CASE("ParsePolicy: errors name the line and the field") {
  for (const BadRow& r : kBad) {
    INFO("case: " << std::string(r.name) << "\n" << std::string(r.yaml));
    auto parsed = ParsePolicy(r.yaml);
    CHECK_FALSE(parsed.ok());
    if (parsed.ok()) continue;
    const std::string& e = parsed.error();
    INFO("error: " << e);
    CHECK(Has(e, std::string(r.line) + ":") == (r.field[0] != '\0'));
    CHECK(Has(e, r.line));
    if (r.field[0] != '\0') CHECK(Has(e, std::string(r.field) + ":"));
  }
}

TEST_CASE("ParsePolicy: an empty document is an error, not the default policy") {
  CHECK_FALSE(ParsePolicy("").ok());
  CHECK_FALSE(ParsePolicy("# only a comment\n").ok());
}

struct GlobRow {
  const char* pattern;
  const char* text;
  bool match;
};

TEST_CASE("GlobMatch") {
  const std::vector<GlobRow> rows = {
      {"", "", true},
      {"", "a", false},
      {"*", "", true},
      {"*", "docker.io/library/nginx:1.25", true},
      {"**", "x", true},
      {"kube-system", "kube-system", true},
      {"kube-system", "kube-system2", false},
      {"kube-system", "Kube-system", false},
      {"dev-*", "dev-team", true},
      {"dev-*", "dev-", true},
      {"dev-*", "dev", false},
      {"dev-*", "prod-dev-1", false},
      {"*-dev", "team-dev", true},
      {"*-dev", "team-dev2", false},
      {"?", "a", true},
      {"?", "", false},
      {"?", "ab", false},
      {"a?c", "abc", true},
      {"a?c", "ac", false},
      {"a*b*c", "aXXbYYc", true},
      {"a*b*c", "aXXbYY", false},
      {"a*b*c", "abcbc", true},
      {"*.*", "a.b", true},
      {"*.*", "ab", false},
      {"docker.io/library/*", "docker.io/library/nginx:1.25", true},
      {"docker.io/library/*", "docker.io/bitnami/redis:7", false},
      {"ghcr.io/*/tool:*", "ghcr.io/org/sub/tool:2.0", true},
      {"*nginx*", "docker.io/library/nginx:latest", true},
      {"registry.k8s.io/*", "registry.k8s.io", false},
  };
  for (const GlobRow& r : rows) {
    INFO("pattern \"" << std::string(r.pattern) << "\" text \"" << std::string(r.text) << "\"");
    CHECK(GlobMatch(r.pattern, r.text) == r.match);
  }
}

TEST_CASE("ParsePolicy: registries and namedUsers") {
  auto parsed = ParsePolicy(R"(namedUsers: resolve
registries:
  allow: ["*.corp.example", "Registry.Local:5000", "[::1]:5000"]
  deny: [evil.example]
  insecure: ["registry.local:5000"]
  mirrors:
    - registry: docker.io
      mirror: Mirror.Internal:5000/dockerhub_cache/v2-proxy
    - registry: "*.gcr.io"
      mirror: gcr-mirror.internal
)");
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  const Policy& p = parsed.value();
  CHECK(p.named_users == NamedUsers::kResolve);
  CHECK(p.registries.allow ==
        std::vector<std::string>{"*.corp.example", "registry.local:5000", "[::1]:5000"});
  CHECK(p.registries.deny == std::vector<std::string>{"evil.example"});
  CHECK(p.registries.insecure == std::vector<std::string>{"registry.local:5000"});
  REQUIRE(p.registries.mirrors.size() == 2);
  CHECK(p.registries.mirrors[0].registry == "docker.io");
  CHECK(p.registries.mirrors[0].mirror == "mirror.internal:5000/dockerhub_cache/v2-proxy");
  CHECK(p.registries.mirrors[1].registry == "*.gcr.io");
  CHECK(p.registries.mirrors[1].mirror == "gcr-mirror.internal");

  auto minimal = ParsePolicy("mode: enforce\n");
  REQUIRE(minimal.ok());
  CHECK(minimal.value().named_users == NamedUsers::kResolve);  // names resolve unless told
  auto assume = ParsePolicy("namedUsers: assume\n");
  REQUIRE(assume.ok());
  CHECK(assume.value().named_users == NamedUsers::kAssume);
  CHECK(minimal.value().registries.allow.empty());
  CHECK(minimal.value().registries.mirrors.empty());
  CHECK(BuiltinDefaultPolicy().named_users == NamedUsers::kResolve);
  CHECK(BuiltinDefaultPolicy().registries.insecure.empty());
}

TEST_CASE("ParsePolicy: nodePlatforms, the platforms the cluster's nodes have") {
  auto parsed = ParsePolicy("nodePlatforms: [linux/amd64, linux/arm/v7, windows/amd64]\n");
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  CHECK(parsed.value().node_platforms ==
        std::vector<Platform>{{"linux", "amd64", ""}, {"linux", "arm", "v7"}, {"windows", "amd64", ""}});
  CHECK(BuiltinDefaultPolicy().node_platforms.empty());  // not named: any platform
}

TEST_CASE("ParsePolicy: registry errors name the line and the field") {
  const std::vector<BadRow> rows = {
      {"nodePlatforms entry without arch", "mode: warn\nnodePlatforms: [linux]\n", "line 2",
       "nodePlatforms[0]: platform \"linux\""},
      {"nodePlatforms not a list", "nodePlatforms: linux/amd64\n", "line 1", "nodePlatforms"},
      {"bad namedUsers", "mode: warn\nnamedUsers: lookup\n", "line 2", "namedUsers"},
      {"unknown registries field", "registries:\n  allowed: [a]\n", "line 2",
       "registries.allowed"},
      {"allow not a list", "registries:\n  allow: ghcr.io\n", "line 2", "registries.allow"},
      {"scheme in a pattern", "registries:\n  deny:\n    - https://evil.example\n", "line 3",
       "registries.deny[0]"},
      {"path in a pattern", "registries:\n  insecure: [\"reg.local/x\"]\n", "line 2",
       "registries.insecure[0]"},
      {"empty pattern", "registries:\n  allow: [\"\"]\n", "line 2", "registries.allow[0]"},
      {"mirror without mirror", "registries:\n  mirrors:\n    - registry: docker.io\n",
       "line 3", "registries.mirrors[0].mirror"},
      {"mirror without registry", "registries:\n  mirrors:\n    - mirror: m.local\n", "line 3",
       "registries.mirrors[0].registry"},
      {"mirror with a scheme",
       "registries:\n  mirrors:\n    - registry: docker.io\n      mirror: http://m.local\n",
       "line 4", "registries.mirrors[0].mirror"},
      {"mirror with a wildcard",
       "registries:\n  mirrors:\n    - registry: docker.io\n      mirror: \"*.m.local\"\n",
       "line 4", "registries.mirrors[0].mirror"},
      {"mirror with a trailing slash",
       "registries:\n  mirrors:\n    - registry: docker.io\n      mirror: m.local/cache/\n",
       "line 4", "registries.mirrors[0].mirror"},
      {"unknown mirror field",
       "registries:\n  mirrors:\n    - registry: docker.io\n      url: m.local\n", "line 4",
       "registries.mirrors[0].url"},
  };
  for (const BadRow& r : rows) {
    INFO("case: " << std::string(r.name) << "\n" << std::string(r.yaml));
    auto parsed = ParsePolicy(r.yaml);
    REQUIRE_FALSE(parsed.ok());
    INFO("error: " << parsed.error());
    CHECK(Has(parsed.error(), std::string(r.line) + ":"));
    CHECK(Has(parsed.error(), std::string(r.field) + ":"));
  }
}

}  // namespace

TEST_CASE("ParsePolicy: merge keys, own keys winning (go-yaml v3), and bad merges name the line") {
  auto p = ParsePolicy(R"(apiVersion: rootgate.io/v1alpha1
kind: Policy
x-dev: &dev
  namespaces: ["dev-*"]
  mode: audit
namespaceOverrides:
  - <<: *dev
  - <<: *dev
    mode: warn
)");
  // x-dev is not a policy field: the policy refuses it, merge or not.
  REQUIRE_FALSE(p.ok());
  CHECK(Has(p.error(), "x-dev"));
  auto q = ParsePolicy(R"(apiVersion: rootgate.io/v1alpha1
kind: Policy
namespaceOverrides:
  - &dev
    namespaces: ["dev-*"]
    mode: audit
  - <<: *dev
    mode: warn
    namespaces: ["qa-*"]
)");
  REQUIRE(q.ok());
  REQUIRE(q.value().namespace_overrides.size() == 2);
  CHECK(q.value().namespace_overrides[1].namespaces == std::vector<std::string>{"qa-*"});
  CHECK(q.value().namespace_overrides[1].mode == Mode::kWarn);
  auto bad = ParsePolicy("apiVersion: rootgate.io/v1alpha1\nkind: Policy\nexemptions:\n  <<: [1]\n");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "line 4: merge key (<<) needs a mapping or a list of mappings; item 0 is a scalar");
}
