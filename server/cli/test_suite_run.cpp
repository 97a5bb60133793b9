// The `rootgate test` verb: reads suites and their resources, checks them with the suite's
// policy through the same path as `rootgate check`, and judges every case.
#include <ostream>

#include "policy/image_facts.h"
#include "server/inputs/check_input.h"
#include "server/util/files.h"
#include "server/inputs/policy_source.h"
#include "server/cli/test_suite.h"
#include "server/cli/help.h"

namespace rootgate::server {

namespace {

constexpr const char* kTestUsage =
    "usage: rootgate test SUITE.yaml...\n"
    "  runs policy test suites: each names a policy, resources and the verdicts expected;\n"
    "  exit 0 when every case passes, 1 when a case fails, 2 when a suite has errors\n";

struct Totals {
  size_t suites = 0, bad_suites = 0, passed = 0, failed = 0;
};

// Checks every resource of the suite; returns false (after printing why) when one could not be
// read or held a document that could not be checked.
bool CheckResources(const Suite& suite, const policy::Policy& policy, CheckReport* report,
                    std::ostream& err) {
  InputOptions options;
  options.dockerfile.build_args = suite.build_args;
  const policy::NoImageFacts facts;
  for (const InputPath& in : ExpandInputs(suite.resources)) {
    auto text = in.error.empty() ? ReadInput(in.path) : Result<std::string>(Error{in.error});
    if (!text) {
      report->errors.push_back({in.path, 0, 0, text.error(), true});
      continue;
    }
    CheckInput(in.path, text.value(), options, policy, facts, report);
  }
  for (const CheckError& e : report->errors) {
    err << "rootgate test: " << suite.path << ": resource " << e.ToString() << "\n";
  }
  return report->errors.empty();
}

void RunSuite(const std::string& path, Totals* totals, std::ostream& out, std::ostream& err) {
  ++totals->suites;
  auto text = ReadInput(path);
  auto suite = text ? ParseSuite(text.value(), path) : Result<Suite>(Error{text.error()});
  if (!suite) {
    err << "rootgate test: " << path << ": " << suite.error() << "\n";
    ++totals->bad_suites;
    return;
  }
  const Suite& s = suite.value();
  auto policy = SelectPolicy(s.policy_file, s.preset);
  if (!policy) {
    err << "rootgate test: " << path << ": " << policy.error() << "\n";
    ++totals->bad_suites;
    return;
  }
  const std::string policy_name = !s.policy_file.empty() ? "policy " + s.policy_file
                                  : "preset " + (s.preset.empty() ? std::string("default") : s.preset);
  out << "suite " << path << ": " << s.name << " (" << policy_name << ")\n";
  CheckReport report;
  if (!CheckResources(s, policy.value(), &report, err)) ++totals->bad_suites;
  for (const SuiteCase& c : s.cases) {
    const CaseOutcome o = JudgeCase(c, report);
    ++(o.passed ? totals->passed : totals->failed);
    out << (o.passed ? "  PASS  " : "  FAIL  ") << c.Label() << ": "
        << (o.passed ? o.got : o.detail) << (o.passed || o.where.empty() ? "" : "  (" + o.where + ")")
        << (o.passed ? "" : "  [" + path + " line " + std::to_string(c.line) + "]") << "\n";
  }
}

}  // namespace

int RunTest(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (AsksForHelp(args)) {
    out << kTestUsage;
    return 0;
  }
  if (args.empty()) {
    err << "rootgate test: no suite given\n" << kTestUsage;
    return 2;
  }
  for (const std::string& a : args) {
    if (a.size() > 1 && a[0] == '-') {
      err << "rootgate test: unknown flag " << a << "\n" << kTestUsage;
      return 2;
    }
  }
  Totals t;
  for (const std::string& path : args) RunSuite(path, &t, out, err);
  out << "\n" << t.suites << (t.suites == 1 ? " suite, " : " suites, ") << t.passed + t.failed
      << " cases: " << t.passed << " passed, " << t.failed << " failed";
  if (t.bad_suites > 0) out << ", " << t.bad_suites << " suites with errors";
  out << "\n";
  if (t.bad_suites > 0) return 2;
  return t.failed > 0 ? 1 : 0;
}

}  // namespace rootgate::server
