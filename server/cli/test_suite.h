// `rootgate test` suites: a YAML file naming resources (manifests, Dockerfiles, image configs),
// a policy file or preset, and per workload the expected verdict and rule IDs — the role of
// `kyverno test` and `gator verify`. Parsing and judging are pure (text and reports in); the
// verb that reads files is RunTest (test_suite_run.cpp).
//
//   name: example manifests             # optional
//   preset: default                     # or policy: FILE (relative to the suite); not both
//   resources: [../manifests, ../dockerfiles/root-user.Dockerfile]  # relative to the suite
//   buildArgs: {APP_UID: "10001"}       # optional: --build-arg for the Dockerfiles
//   cases:
//     - kind: Pod                       # selectors: kind, namespace, name, file, document;
//       namespace: demo                 # at least one; together they must match exactly one
//       name: web                       # result
//       expect: deny                    # allow | deny | skip
//       rules: [unknownUser]            # optional: exactly these rule IDs are denied
//       warnings: []                    # optional: exactly these rule IDs warn
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"
#include "server/report/check.h"

namespace rootgate::server {

enum class CaseVerdict { kAllow, kDeny, kSkip };

std::string_view CaseVerdictName(CaseVerdict v);

struct SuiteCase {
  int line = 0;  // the case's line in the suite file
  std::optional<std::string> kind, namespace_name, name, file;  // file: resolved path
  std::optional<size_t> document;
  CaseVerdict expect = CaseVerdict::kAllow;
  std::optional<std::set<std::string>> rules;     // denied rule IDs, when given
  std::optional<std::set<std::string>> warnings;  // warned rule IDs, when given

  // "Pod demo/web", "Dockerfile in examples/x.Dockerfile": how output names the case.
  std::string Label() const;
};

struct Suite {
  std::string path;         // the suite file as given
  std::string name;         // its `name`, or the path
  std::string policy_file;  // resolved; empty when not given
  std::string preset;       // empty when not given
  std::vector<std::string> resources;  // resolved paths
  std::map<std::string, std::string> build_args;
  std::vector<SuiteCase> cases;
};

// Parses a suite. Relative paths are resolved against the suite file's directory. Errors name the
// line and the field: `line 7: cases[1].expect: expected allow, deny or skip, got "maybe"`.
Result<Suite> ParseSuite(std::string_view yaml_text, const std::string& suite_path);

// The outcome of one case against the report of its suite's resources.
struct CaseOutcome {
  bool passed = false;
  std::string got;     // "deny [rootUser]", "allow", "skip", "" when no result matched
  std::string detail;  // why it failed: "expected allow, got deny [rootUser]"
  std::string where;   // the matched result: "file.yaml#1", "Dockerfile:4"
};

CaseOutcome JudgeCase(const SuiteCase& c, const CheckReport& report);

// The `test` verb: runs every suite given, prints each case PASS/FAIL and a summary. Exit code
// 0 all passed, 1 some case failed, 2 bad usage or a suite (or one of its resources) that could
// not be read, the file and line named on stderr.
int RunTest(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace rootgate::server
