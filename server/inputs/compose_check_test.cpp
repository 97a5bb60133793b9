// `rootgate check` on Compose projects held in memory. Every verdict is written from
// SEMANTICS.md "Compose services" and the Compose specification (merge, extends, profiles,
// interpolation), for files written for the purpose.
#include "server/inputs/compose_check.h"

#include <doctest/doctest.h>

#include <map>

#include "policy/test_support.h"

namespace {

using namespace rootgate;
using namespace rootgate::server;

class MemoryFiles final : public compose::FileSource {
 public:
  explicit MemoryFiles(std::map<std::string, std::string> files) : files_(std::move(files)) {}
  Result<std::string> Read(const std::string& path) const override {
    auto it = files_.find(path);
    if (it == files_.end()) return Error{"No such file or directory"};
    return it->second;
  }
  bool Exists(const std::string& path) const override { return files_.contains(path); }

 private:
  std::map<std::string, std::string> files_;
};

CheckReport Check(const std::map<std::string, std::string>& files, const std::vector<std::string>& project,
                  compose::Environment env = {}, std::vector<std::string> env_files = {}) {
  ComposeOptions options;
  options.environment = std::move(env);
  options.env_files = std::move(env_files);
  CheckReport report;
  const policy::NoImageFacts facts;
  CheckComposeProject(project, options, MemoryFiles(files), policy::testing::PolicyFor(policy::Preset::kDefault),
                      facts, &report);
  return report;
}

const CheckResult& Find(const CheckReport& report, const std::string& name) {
  for (const CheckResult& r : report.results) {
    if (r.name == name) return r;
  }
  FAIL("no result for service " << name);
  return report.results.front();
}

std::string Errors(const CheckReport& report) {
  std::string s;
  for (const CheckError& e : report.errors) s += e.ToString() + "\n";
  return s;
}

const char* kCompose = R"(name: shop
x-defaults: &defaults
  user: "0"
services:
  api:
    build:
      context: ./api
      args:
        UID: ${API_UID:-1001}
  worker:
    build: ./worker
  web:
    image: nginx:1.25
  admin:
    <<: *defaults
    image: registry.example.com/admin:1
  debug:
    image: busybox
    user: "1000"
    privileged: true
    profiles: [debug]
  legacy:
    image: busybox
    userns_mode: host
    user: root
)";

std::map<std::string, std::string> Files() {
  return {{"app/compose.yaml", kCompose},
          {"app/api/Dockerfile", "FROM scratch\nARG UID\nUSER ${UID}\n"},
          {"app/worker/Dockerfile", "FROM busybox AS base\nUSER 1001\nFROM base\nUSER root\n"}};
}

}  // namespace

TEST_CASE("Compose services: user:, build: and image: decide the user") {
  const CheckReport report = Check(Files(), {"app/compose.yaml"});
  CHECK(Errors(report) == "");
  REQUIRE(report.results.size() == 6);
  for (const CheckResult& r : report.results) {
    CHECK(r.kind == "ComposeService");
    CHECK(r.namespace_name == "shop");
  }
  const CheckResult& api = Find(report, "api");  // USER ${UID} with UID=1001 from the default
  CHECK(api.decision.allowed);
  CHECK(api.decision.violations.empty());

  const CheckResult& worker = Find(report, "worker");  // the final stage ends with USER root
  REQUIRE(worker.decision.violations.size() == 1);
  const policy::Finding& wf = worker.decision.violations[0];
  CHECK(wf.rule == policy::RuleId::kRootUser);
  CHECK(wf.field == "services.worker.build");
  CHECK(policy::testing::Contains(wf.message, "app/worker/Dockerfile"));
  CHECK(policy::testing::Contains(wf.message, "USER root at line 4"));
  CHECK(worker.source == "app/compose.yaml");
  CHECK(FindingLine(worker, wf) == 11);  // build: ./worker

  const CheckResult& web = Find(report, "web");  // no image facts: unknown
  CHECK(policy::testing::Ids(web.decision.violations) == "unknownUser");
  CHECK(FindingLine(web, web.decision.violations[0]) == 13);

  const CheckResult& admin = Find(report, "admin");  // user "0" merged from x-defaults
  CHECK(policy::testing::Ids(admin.decision.violations) == "rootUser");
  CHECK(admin.decision.violations[0].field == "services.admin.user");
  CHECK(FindingLine(admin, admin.decision.violations[0]) == 3);

  const CheckResult& debug = Find(report, "debug");
  CHECK(policy::testing::Ids(debug.decision.violations) == "privileged");
  CHECK(debug.profiles == std::vector<std::string>{"debug"});
  CHECK(FindingLine(debug, debug.decision.violations[0]) == 20);

  const CheckResult& legacy = Find(report, "legacy");
  CHECK(policy::testing::Ids(legacy.decision.violations) == "rootUser");
  CHECK(policy::testing::Contains(legacy.decision.violations[0].message, "userns_mode: host"));
  CHECK(FindingLine(legacy, legacy.decision.violations[0]) == 25);
}

TEST_CASE("Compose interpolation: .env beside the file, the environment over it, --env-file") {
  auto files = Files();
  files["app/.env"] = "API_UID=0\n";
  CHECK(policy::testing::Ids(Find(Check(files, {"app/compose.yaml"}), "api").decision.violations) == "rootUser");
  CHECK(Find(Check(files, {"app/compose.yaml"}, {{"API_UID", "4000"}}), "api").decision.allowed);
  files["other.env"] = "API_UID=\"0\"\n";
  files["app/.env"] = "API_UID=1001\n";
  CHECK_FALSE(Find(Check(files, {"app/compose.yaml"}, {}, {"other.env"}), "api").decision.allowed);
  // COMPOSE_PROJECT_NAME names the project when the file has no name:
  files["app/compose.yaml"] = "services:\n  a:\n    image: x\n    user: ${U:?set U}\n  b:\n    image: x\n    user: \"1\"\n";
  const CheckReport report = Check(files, {"app/compose.yaml"}, {{"COMPOSE_PROJECT_NAME", "p"}});
  CHECK(Errors(report) == "app/compose.yaml: line 4: services.a.user: required variable U is missing a value: set U\n");
  REQUIRE(report.results.size() == 1);
  CHECK(report.results[0].name == "b");
  CHECK(report.results[0].namespace_name == "p");
  // Without name: or COMPOSE_PROJECT_NAME, the directory's name.
  CHECK(Check(files, {"app/compose.yaml"}, {{"U", "1"}}).results[0].namespace_name == "app");
}

TEST_CASE("Compose files merged as docker compose -f a -f b") {
  const std::map<std::string, std::string> files = {
      {"p/compose.yaml", "services:\n  web:\n    image: x\n    user: \"1000\"\n    profiles: [a]\n"
                         "  db:\n    image: y\n    user: \"1000\"\n"},
      {"p/compose.override.yaml", "services:\n  web:\n    user: \"0\"\n    profiles: [b]\n"},
      {"p/compose.reset.yaml", "services:\n  db:\n    user: !reset null\n    privileged: \"true\"\n"},
      {"p/compose.build.yaml", "services:\n  web:\n    build:\n      context: web\n"},
      {"p/web/Dockerfile", "FROM scratch\nUSER 1001\n"}};
  const CheckReport merged = Check(files, {"p/compose.yaml", "p/compose.override.yaml"});
  CHECK(Errors(merged) == "");
  const CheckResult& web = Find(merged, "web");
  CHECK(policy::testing::Ids(web.decision.violations) == "rootUser");
  CHECK(web.source == "p/compose.override.yaml");  // the file whose user: to change
  CHECK(FindingLine(web, web.decision.violations[0]) == 3);
  CHECK(web.profiles == std::vector<std::string>{"a", "b"});  // sequences append
  CHECK(Find(merged, "db").decision.allowed);
  const CheckReport reset = Check(files, {"p/compose.yaml", "p/compose.reset.yaml"});
  // user: cleared, so the image's user (unknown: no facts) decides; privileged from a string.
  CHECK(policy::testing::Ids(Find(reset, "db").decision.violations) == "privileged,unknownUser");
  // The later file adds build: (paths relative to the first file's directory); user 1000 stays.
  CHECK(Find(Check(files, {"p/compose.yaml", "p/compose.build.yaml"}), "web").decision.allowed);
}

TEST_CASE("Compose extends: the same file and another file, cycles refused") {
  const std::map<std::string, std::string> files = {
      {"p/compose.yaml",
       "services:\n"
       "  parent:\n    image: x\n    user: root\n"
       "  child:\n    extends: parent\n"
       "  fixed:\n    extends: parent\n    user: \"1000\"\n"
       "  remote:\n    extends:\n      file: lib/common.yaml\n      service: base\n    privileged: false\n"
       "  loop1:\n    extends: loop2\n"
       "  loop2:\n    extends: loop1\n"},
      {"p/lib/common.yaml", "services:\n  base:\n    build: ./b\n    privileged: true\n"},
      {"p/lib/b/Dockerfile", "FROM scratch\nUSER 2000\n"}};
  const CheckReport report = Check(files, {"p/compose.yaml"});
  CHECK(policy::testing::Ids(Find(report, "child").decision.violations) == "rootUser");
  CHECK(Find(report, "fixed").decision.allowed);
  CHECK(Find(report, "remote").decision.allowed);  // lib/b/Dockerfile: USER 2000
  CHECK(policy::testing::Contains(Errors(report), "p/compose.yaml: line 16: services.loop1.extends: services extend each other in a cycle"));
  for (const CheckResult& r : report.results) CHECK(r.name.rfind("loop", 0) != 0);
}

TEST_CASE("Compose: unknown and malformed fields are errors naming the line; others still checked") {
  const std::map<std::string, std::string> files = {
      {"c/compose.yml",
       "version: '3.8'\n"
       "services:\n"
       "  typo:\n    image: x\n    usr: root\n"
       "  bad:\n    image: x\n    privileged: maybe\n"
       "  none:\n    restart: always\n"
       "  ok:\n    image: x\n    user: \"1000\"\n    x-note: ignored\n"
       "  badbuild:\n    build:\n      contxt: .\n"
       "x-anything: {}\n"
       "volumez: {}\n"}};
  const CheckReport report = Check(files, {"c/compose.yml"});
  const std::string errors = Errors(report);
  CHECK(policy::testing::Contains(errors, "c/compose.yml: line 5: services.typo.usr: unknown field"));
  CHECK(policy::testing::Contains(errors, "c/compose.yml: line 8: services.bad.privileged: expected true or false, got \"maybe\""));
  CHECK(policy::testing::Contains(errors, "c/compose.yml: line 9: services.none: has neither image nor build"));
  CHECK(policy::testing::Contains(errors, "c/compose.yml: line 17: services.badbuild.build.contxt: unknown field"));
  CHECK(policy::testing::Contains(errors, "c/compose.yml: line 19: volumez: unknown top-level field"));
  REQUIRE(report.results.size() == 1);
  CHECK(report.results[0].name == "ok");
  CHECK(report.results[0].decision.allowed);
  const CheckReport merge = Check({{"m/compose.yaml", "services:\n  a:\n    <<: 1\n"}}, {"m/compose.yaml"});
  CHECK(Errors(merge) == "m/compose.yaml: line 3: merge key (<<) needs a mapping or a list of mappings, got a scalar\n");
  const CheckReport missing = Check({{"m/compose.yaml", "services:\n  a:\n    build: ./nowhere\n"}}, {"m/compose.yaml"});
  CHECK(Errors(missing) == "m/compose.yaml: line 3: services.a.build: cannot read the Dockerfile m/nowhere/Dockerfile: No such file or directory\n");
}

TEST_CASE("IsComposeFileName: the names Compose looks for") {
  for (const char* yes : {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml",
                          "dir/compose.prod.yaml", "docker-compose.override.yml", "compose.override.yaml"}) {
    CHECK_MESSAGE(IsComposeFileName(yes), yes);
  }
  for (const char* no : {"compose.json", "mycompose.yaml", "compose..yaml", "compose.yaml.bak",
                         "docker-compose", "app.yaml", "compose/x.yaml"}) {
    CHECK_MESSAGE(!IsComposeFileName(no), no);
  }
}
