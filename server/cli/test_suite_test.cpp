// `rootgate test` suites: parsing (fields, paths relative to the suite, line-numbered errors) and
// judging cases against hand-built reports (verdict, rule sets, ambiguous and missing matches).
#include "server/cli/test_suite.h"

#include <doctest/doctest.h>

#include <string>

namespace {

using rootgate::policy::Finding;
using rootgate::policy::RuleId;
using rootgate::server::CaseVerdict;
using rootgate::server::CheckReport;
using rootgate::server::CheckResult;
using rootgate::server::JudgeCase;
using rootgate::server::ParseSuite;
using rootgate::server::Suite;

const char* kSuite = R"(name: demo
preset: pss-restricted
resources: [../manifests, /abs/x.yaml]
buildArgs: {UID: "0", N: 5}
cases:
  - kind: Pod
    namespace: demo
    name: web
    expect: deny
    rules: [rootUser, privileged]
  - file: ../dockerfiles/Dockerfile
    document: 0
    expect: allow
    warnings: []
)";

Suite Parse(const std::string& text) {
  auto s = ParseSuite(text, "examples/suites/s.yaml");
  REQUIRE_MESSAGE(s.ok(), s.error());
  return s.value();
}

std::string ParseError(const std::string& text) {
  auto s = ParseSuite(text, "s.yaml");
  REQUIRE_FALSE(s.ok());
  return s.error();
}

CheckResult Result(const std::string& kind, const std::string& ns, const std::string& name,
                   std::vector<RuleId> denied = {}, std::vector<RuleId> warned = {}) {
  CheckResult r;
  r.source = "dir/app.yaml";
  r.kind = kind;
  r.namespace_name = ns;
  r.name = name;
  r.decision.evaluated = true;
  for (RuleId id : denied) r.decision.violations.push_back(Finding{id, "c", "f", "", ""});
  for (RuleId id : warned) r.decision.warnings.push_back(Finding{id, "c", "f", "", ""});
  r.decision.allowed = denied.empty();
  return r;
}

TEST_CASE("a suite's fields, with paths resolved against the suite's directory") {
  const Suite s = Parse(kSuite);
  CHECK(s.name == "demo");
  CHECK(s.preset == "pss-restricted");
  CHECK(s.resources == std::vector<std::string>{"examples/manifests", "/abs/x.yaml"});
  CHECK(s.build_args == std::map<std::string, std::string>{{"N", "5"}, {"UID", "0"}});
  REQUIRE(s.cases.size() == 2);
  CHECK(s.cases[0].line == 6);
  CHECK(s.cases[0].kind == "Pod");
  CHECK(s.cases[0].expect == CaseVerdict::kDeny);
  CHECK(s.cases[0].rules == std::set<std::string>{"privileged", "rootUser"});
  CHECK_FALSE(s.cases[0].warnings.has_value());
  CHECK(s.cases[1].file == "examples/dockerfiles/Dockerfile");
  CHECK(s.cases[1].document == 0u);
  CHECK(s.cases[1].warnings == std::set<std::string>{});
}

TEST_CASE("bad suites are refused with the line and the field") {
  const std::string head = "resources: [a]\ncases:\n";
  CHECK(ParseError(head + "  - {kind: Pod, expect: maybe}\n") ==
        "line 3: cases[0].expect: expected allow, deny or skip, got \"maybe\"");
  CHECK(ParseError(head + "  - {kind: Pod}\n").starts_with("line 3: cases[0].expect: missing"));
  CHECK(ParseError(head + "  - {expect: allow}\n").starts_with("line 3: cases[0]: give at least one"));
  CHECK(ParseError(head + "  - kind: Pod\n    expect: deny\n    rules: [rootUsr]\n")
            .starts_with("line 5: cases[0].rules[0]: unknown rule ID \"rootUsr\""));
  CHECK(ParseError(head + "  - {kind: Pod, expect: allow, rules: [rootUser]}\n")
            .starts_with("line 3: cases[0].rules: denied rule IDs only go with expect: deny"));
  CHECK(ParseError(head + "  - {kind: Pod, expect: allow, document: x}\n")
            .starts_with("line 3: cases[0].document:"));
  CHECK(ParseError(head + "  - {kind: Pod, expect: allow, nmae: x}\n")
            .starts_with("line 3: cases[0].nmae: unknown field"));
  CHECK(ParseError("resources: [a]\ncases: []\n").starts_with("line 2: cases:"));
  CHECK(ParseError("cases: [{kind: Pod, expect: allow}]\n").starts_with("line 1: resources: missing"));
  CHECK(ParseError("policy: p.yaml\npreset: default\nresources: [a]\ncases: [{kind: Pod, expect: allow}]\n")
            .starts_with("line 1: policy: give policy or preset, not both"));
  CHECK(ParseError("resources: [a\n").starts_with("line "));
  CHECK(ParseError("").starts_with("line 1:"));
}

TEST_CASE("a case passes when its one matching result has the expected verdict and rules") {
  CheckReport report;
  report.results.push_back(Result("Pod", "demo", "web", {RuleId::kRootUser}, {RuleId::kUnknownUser}));
  report.results.push_back(Result("Deployment", "demo", "api"));
  Suite s = Parse("resources: [a]\ncases:\n"
                  "  - {kind: Pod, name: web, expect: deny, rules: [rootUser], warnings: [unknownUser]}\n"
                  "  - {kind: Pod, name: web, expect: deny, rules: [privileged]}\n"
                  "  - {kind: Pod, name: web, expect: allow}\n"
                  "  - {kind: Pod, name: web, expect: deny, warnings: []}\n"
                  "  - {name: api, expect: allow}\n"
                  "  - {namespace: demo, expect: allow}\n"
                  "  - {kind: Job, expect: skip}\n"
                  "  - {file: ../../dir/app.yaml, name: api, expect: allow}\n");
  CHECK(JudgeCase(s.cases[0], report).passed);
  const auto wrong_rules = JudgeCase(s.cases[1], report);
  CHECK_FALSE(wrong_rules.passed);
  CHECK(wrong_rules.detail == "expected denied rules [privileged], got [rootUser]");
  CHECK(JudgeCase(s.cases[2], report).detail == "expected allow, got deny [rootUser], warn [unknownUser]");
  CHECK(JudgeCase(s.cases[3], report).detail == "expected warnings [], got [unknownUser]");
  CHECK(JudgeCase(s.cases[4], report).passed);
  CHECK(JudgeCase(s.cases[5], report).detail.starts_with("2 results match"));
  CHECK(JudgeCase(s.cases[6], report).detail.starts_with("no result matches"));
  CHECK(JudgeCase(s.cases[7], report).passed);
}

TEST_CASE("skipped results are judged as skip") {
  CheckReport report;
  CheckResult svc = Result("Service", "demo", "db");
  svc.skipped = true;
  report.results.push_back(svc);
  const Suite s = Parse("resources: [a]\ncases: [{kind: Service, expect: skip}, {kind: Service, expect: allow}]\n");
  CHECK(JudgeCase(s.cases[0], report).passed);
  CHECK(JudgeCase(s.cases[1], report).detail == "expected allow, got skip");
}

}  // namespace

TEST_CASE("suite cases share fields through merge keys; a bad merge names its line") {
  const Suite s = Parse(
      "resources: [a]\n"
      "cases:\n"
      "  - &pod {kind: Pod, namespace: demo, expect: deny}\n"
      "  - <<: *pod\n"
      "    name: web\n"
      "    expect: allow\n");
  REQUIRE(s.cases.size() == 2);
  CHECK(s.cases[1].kind == "Pod");
  CHECK(s.cases[1].namespace_name == "demo");
  CHECK(s.cases[1].name == "web");
  CHECK(s.cases[1].expect == CaseVerdict::kAllow);
  CHECK(ParseError("resources: [a]\ncases:\n  - <<: nope\n") ==
        "line 3: merge key (<<) needs a mapping or a list of mappings, got a scalar");
}
