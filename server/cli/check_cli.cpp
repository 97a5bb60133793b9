// Argument handling of `rootgate check`.
#include "server/cli/check_cli.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>

#include "server/report/check.h"
#include "server/inputs/check_input.h"
#include "server/cli/check_resolve.h"
#include "server/cli/check_stream.h"
#include "server/util/duration.h"
#include "server/util/files.h"
#include "server/cli/image_config_lookup.h"
#include "server/inputs/policy_source.h"
#include "server/registry/registry_options.h"
#include "server/cli/help.h"
#include "server/kube/kube_client.h"
#include "server/kube/kubeconfig.h"
#include "server/kube/pull_secrets.h"

namespace rootgate::server {

namespace {

constexpr const char* kCheckUsage =
    "usage: rootgate check [--policy FILE | --preset NAME] [-o text|json|junit|sarif]\n"
    "                      [--type auto|manifest|dockerfile|image-config|compose]\n"
    "                      [-f COMPOSE_FILE]... [--env-file FILE]...\n"
    "                      [--build-arg NAME=VALUE]... [--target STAGE] [--image REF]...\n"
    "                      [--resolve-images [--registry-timeout DUR] [registry flags]] PATH... | -\n"
    "  --resolve-images                 read each image's USER from its registry when the spec\n"
    "                                   does not fix the user\n"
    "  --registry-timeout DUR           time for all lookups together (default 30s)\n"
    "  --image REF                      check an image's config User from its registry\n"
    "                                   (implies --resolve-images)\n"
    "  --kubeconfig FILE, --context NAME with --resolve-images: read each pod's imagePullSecrets\n"
    "                                   (or its service account's) from this cluster and try\n"
    "                                   them first, as the kubelet does (get on secrets and\n"
    "                                   serviceaccounts; objects without a namespace use the\n"
    "                                   context's)\n"
    "  -f, --file COMPOSE_FILE          Compose files checked together as one project, later\n"
    "                                   files overriding earlier ones (docker compose -f a -f b)\n"
    "  --env-file FILE                  variables for Compose interpolation instead of the\n"
    "                                   .env file beside the first Compose file\n";

struct CheckArgs {
  std::string policy_file, preset;
  OutputFormat format = OutputFormat::kText;
  std::vector<std::string> paths;
  InputOptions input;               // --type, --build-arg, --target
  std::vector<std::string> images;  // --image REF
  bool resolve_images = false;      // --resolve-images
  bool registry_flags = false;      // any registry flag given
  RegistryOptions registry;         // --allow-registry, --insecure-registry, ...
  std::chrono::nanoseconds registry_timeout = std::chrono::seconds(30);
  std::string kubeconfig, context;  // cluster access for pull secrets
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
    if (!type) return "--type: unknown type \"" + value + "\" (known: auto, manifest, dockerfile, image-config, compose)";
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
  } else if (flag == "-f" || flag == "--file") {
    a->input.compose.files.push_back(value);
  } else if (flag == "--env-file") {
    a->input.compose.env_files.push_back(value);
  } else if (flag == "--image") {
    a->images.push_back(value);
    a->resolve_images = true;  // an image is checked from its registry
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
    } else if (arg == "--type" || arg == "--build-arg" || arg == "--target" || arg == "--image" ||
               arg == "-f" || arg == "--file" || arg == "--env-file") {
      auto v = value(arg.c_str());
      if (!v) return Error{v.error()};
      if (std::string error = ApplyInputFlag(arg, v.value(), &a); !error.empty()) return Error{error};
    } else if (arg == "--kubeconfig" || arg == "--context") {
      auto v = value(arg.c_str());
      if (!v) return Error{v.error()};
      if (v.value().empty()) return Error{arg + ": must not be empty"};
      (arg == "--kubeconfig" ? a.kubeconfig : a.context) = v.value();
    } else if (arg == "--resolve-images") {
      a.resolve_images = true;
    } else if (arg == "--registry-timeout") {
      auto v = value(arg.c_str());
      if (!v) return Error{v.error()};
      auto d = ParseGoDuration(v.value());
      if (!d || d->count() <= 0) return Error{"--registry-timeout: expected a duration such as 30s"};
      a.registry_timeout = *d;
      a.registry_flags = true;
    } else if (auto registry = ConsumeRegistryFlag(args, &i, &a.registry); !registry) {
      return Error{registry.error()};
    } else if (registry.value()) {
      a.registry_flags = true;
    } else if (arg.size() > 1 && arg[0] == '-' && arg != "-") {
      return Error{"unknown flag " + arg};
    } else {
      a.paths.push_back(arg);
    }
  }
  if (a.paths.empty() && a.images.empty() && a.input.compose.files.empty()) {
    return Error{"no input: give files, directories, - for stdin, -f COMPOSE_FILE or --image REF"};
  }
  if (a.registry_flags && !a.resolve_images) return Error{"registry flags need --resolve-images"};
  if ((!a.kubeconfig.empty() || !a.context.empty()) && !a.resolve_images) {
    return Error{"--kubeconfig and --context (pull secrets) need --resolve-images"};
  }
  return a;
}

// One manifest input (stdin or a readable file), printed as text or JSON: CheckStreamed may
// stream it.
bool Streamable(const std::vector<InputPath>& inputs, const CheckArgs& a) {
  if (inputs.size() != 1 || !inputs[0].error.empty() || !a.images.empty()) return false;
  if (a.format != OutputFormat::kText && a.format != OutputFormat::kJson) return false;
  if (a.input.type != InputType::kAuto && a.input.type != InputType::kManifest) return false;
  const std::string& path = inputs[0].path;
  if (a.input.type == InputType::kAuto && IsDockerfileName(path)) return false;
  std::error_code ec;
  return path == "-" || (!std::filesystem::is_directory(path, ec) && std::ifstream(path).good());
}

}  // namespace

int RunCheck(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (AsksForHelp(args)) {
    out << kCheckUsage << "registry flags (with --resolve-images):\n" << kRegistryFlagsHelp;
    return 0;
  }
  auto parsed = ParseCheckArgs(args);
  if (!parsed) {
    err << "rootgate check: " << parsed.error() << "\n" << kCheckUsage << kRegistryFlagsHelp;
    return 2;
  }
  CheckArgs& a = parsed.value();
  a.input.compose.environment = ProcessEnvironment();
  auto policy = SelectPolicy(a.policy_file, a.preset);
  if (!policy) {
    err << "rootgate check: " << policy.error() << "\n";
    return 2;
  }
  CheckReport report;
  if (a.resolve_images) {
    const SteadyClock clock;
    std::unique_ptr<ImageResolver> resolver;
    if (!a.registry.offline) {
      auto built = BuildImageResolver(a.registry, clock, std::chrono::seconds(0));
      if (!built) {
        err << "rootgate check: " << built.error() << "\n";
        return 2;
      }
      resolver = std::move(built).value();
    }
    // Cluster access: the pods' own pull secrets, read with the kubeconfig's credentials.
    std::unique_ptr<kube::KubeClient> client;
    std::unique_ptr<kube::PullSecretStore> secrets;
    std::string default_namespace = "default";
    if (resolver && (!a.kubeconfig.empty() || !a.context.empty())) {
      auto config = kube::LoadClientConfig(kube::LoadOptionsFromEnvironment(a.kubeconfig, a.context));
      auto built = config ? kube::KubeClient::Create(config.value()) : Result<std::unique_ptr<kube::KubeClient>>(Error{config.error()});
      if (!built) {
        err << "rootgate check: " << built.error() << "\n";
        return 2;
      }
      for (const std::string& w : config.value().warnings) err << "rootgate check: warning: " << w << "\n";
      client = std::move(built).value();
      kube::PullSecretOptions secret_options;
      secret_options.log = false;  // the verdicts name what is wrong
      secrets = std::make_unique<kube::PullSecretStore>(*client, clock, secret_options);
      default_namespace = config.value().namespace_name;
    }
    CheckInputsWithLookups(ExpandInputs(a.paths), a.input, policy.value(), resolver.get(), clock,
                           a.registry_timeout, &report, secrets.get(), default_namespace);
    CheckImageRefs(a.images, policy.value(), resolver.get(), clock, a.registry_timeout, &report);
  } else {
    const policy::NoImageFacts facts;
    const std::vector<InputPath> inputs = ExpandInputs(a.paths);
    if (Streamable(inputs, a)) {
      // One input, maybe a huge `kubectl get -A -o json` List: item by item when large.
      const bool colour = a.format == OutputFormat::kText && isatty(STDOUT_FILENO) == 1;
      StreamedCheck s = CheckStreamed(inputs[0].path, a.format, colour, policy.value(), facts, out, err);
      if (s.exit_code) return *s.exit_code;
      CheckInput(inputs[0].path, s.text, a.input, policy.value(), facts, &report);
    } else {
      CheckInputs(inputs, a.input, policy.value(), facts, &report);
    }
  }
  PrintReport(report, a.format, a.format == OutputFormat::kText && isatty(STDOUT_FILENO) == 1, out);
  for (const CheckError& e : report.errors) err << "rootgate check: " << e.ToString() << "\n";
  return ExitCode(report);
}

}  // namespace rootgate::server
