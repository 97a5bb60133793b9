// Argument handling of `rootgate check`.
#include <unistd.h>

#include <ostream>

#include "server/check.h"
#include "server/files.h"
#include "server/policy_source.h"

namespace rootgate::server {

namespace {

constexpr const char* kCheckUsage =
    "usage: rootgate check [--policy FILE | --preset NAME] [-o text|json] PATH... | -\n";

struct CheckArgs {
  std::string policy_file, preset;
  OutputFormat format = OutputFormat::kText;
  std::vector<std::string> paths;
};

Result<CheckArgs> ParseCheckArgs(const std::vector<std::string>& args) {
  CheckArgs a;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](const char* flag) -> Result<std::string> {
      if (i + 1 >= args.size()) return Error{std::string(flag) + " needs a value"};
      return args[++i];
    };
    if (arg == "--policy" || arg == "--preset" || arg == "-o" || arg == "--output") {
      auto v = value(arg.c_str());
      if (!v) return Error{v.error()};
      if (arg == "--policy") a.policy_file = v.value();
      if (arg == "--preset") a.preset = v.value();
      if (arg == "-o" || arg == "--output") {
        if (v.value() == "text") {
          a.format = OutputFormat::kText;
        } else if (v.value() == "json") {
          a.format = OutputFormat::kJson;
        } else {
          return Error{"-o: unknown format \"" + v.value() + "\" (known: text, json)"};
        }
      }
    } else if (arg == "--resolve-images") {
      return Error{"--resolve-images: registry lookups are not built yet (see the images issue); "
                   "use imageOverrides in a policy file"};
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
      return Error{"unknown flag " + arg};
    } else {
      a.paths.push_back(arg);
    }
  }
  if (a.paths.empty()) return Error{"no input: give files, directories or - for stdin"};
  return a;
}

}  // namespace

int RunCheck(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto parsed = ParseCheckArgs(args);
  if (!parsed) {
    err << "rootgate check: " << parsed.error() << "\n" << kCheckUsage;
    return 2;
  }
  const CheckArgs& a = parsed.value();
  auto policy = SelectPolicy(a.policy_file, a.preset);
  if (!policy) {
    err << "rootgate check: " << policy.error() << "\n";
    return 2;
  }
  const policy::NoImageFacts facts;
  CheckReport report;
  for (const InputPath& in : ExpandInputs(a.paths)) {
    if (!in.error.empty()) {
      report.errors.push_back({in.path, 0, 0, in.error, true});
      continue;
    }
    auto text = ReadInput(in.path);
    if (!text) {
      report.errors.push_back({in.path, 0, 0, text.error(), true});
      continue;
    }
    CheckText(in.path, text.value(), policy.value(), facts, &report);
  }
  PrintReport(report, a.format, a.format == OutputFormat::kText && isatty(STDOUT_FILENO) == 1, out);
  for (const CheckError& e : report.errors) err << "rootgate check: " << e.ToString() << "\n";
  return ExitCode(report);
}

}  // namespace rootgate::server
