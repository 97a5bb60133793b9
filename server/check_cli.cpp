// Argument handling of `rootgate check`.
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <ostream>

#include "server/check.h"
#include "server/check_input.h"
#include "server/files.h"
#include "server/policy_source.h"

namespace rootgate::server {

namespace {

constexpr const char* kCheckUsage =
    "usage: rootgate check [--policy FILE | --preset NAME] [-o text|json|junit|sarif]\n"
    "                      [--type auto|manifest|dockerfile|image-config]\n"
    "                      [--build-arg NAME=VALUE]... [--target STAGE] PATH... | -\n";

struct CheckArgs {
  std::string policy_file, preset;
  OutputFormat format = OutputFormat::kText;
  std::vector<std::string> paths;
  InputOptions input;               // --type, --build-arg, --target
};

std::optional<OutputFormat> FormatFromName(const std::string& name) {
  if (name == "text") return OutputFormat::kText;
  if (name == "json") return OutputFormat::kJson;
  if (name == "junit") return OutputFormat::kJunit;
  if (name == "sarif") return OutputFormat::kSarif;
  return std::nullopt;
}

// The flags about how inputs are read. Returns an error message, or "" when `value` is good.
std::string ApplyInputFlag(const std::string& flag, const std::string& value, CheckArgs* a) {
  if (flag == "--type") {
    auto type = InputTypeFromName(value);
    if (!type) return "--type: unknown type \"" + value + "\" (known: auto, manifest, dockerfile, image-config)";
    a->input.type = *type;
  } else if (flag == "--build-arg") {
    const size_t eq = value.find('=');
    if (eq == 0) return "--build-arg: expected NAME=VALUE or NAME, got \"" + value + "\"";
    const char* env = eq == std::string::npos ? std::getenv(value.c_str()) : nullptr;
    if (eq == std::string::npos && env == nullptr) return "";  // docker skips an unset NAME
    a->input.dockerfile.build_args[value.substr(0, eq)] =
        eq == std::string::npos ? std::string(env) : value.substr(eq + 1);
  } else if (flag == "--target") {
    a->input.dockerfile.target = value;
  } else if (flag == "--image") {
    return "--image " + value + ": checking an image straight from its registry needs registry "
           "lookups (issue 4), which are not built yet; give its config instead: "
           "`skopeo inspect --config docker://" + value + " | rootgate check -`";
  }
  return "";
}

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
        auto format = FormatFromName(v.value());
        if (!format) return Error{"-o: unknown format \"" + v.value() + "\" (known: text, json, junit, sarif)"};
        a.format = *format;
      }
    } else if (arg == "--type" || arg == "--build-arg" || arg == "--target" || arg == "--image") {
      auto v = value(arg.c_str());
      if (!v) return Error{v.error()};
      if (std::string error = ApplyInputFlag(arg, v.value(), &a); !error.empty()) return Error{error};
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
  CheckInputs(ExpandInputs(a.paths), a.input, policy.value(), facts, &report);
  PrintReport(report, a.format, a.format == OutputFormat::kText && isatty(STDOUT_FILENO) == 1, out);
  for (const CheckError& e : report.errors) err << "rootgate check: " << e.ToString() << "\n";
  return ExitCode(report);
}

}  // namespace rootgate::server
