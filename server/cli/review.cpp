#include "server/cli/review.h"

#include <ostream>

#include "policy/admission.h"
#include "server/admission/admission_codec.h"
#include "server/util/duration.h"
#include "server/util/files.h"
#include "server/admission/image_lookup.h"
#include "server/inputs/policy_source.h"
#include "server/registry/registry_options.h"
#include "server/cli/help.h"

namespace rootgate::server {

Result<nlohmann::json> ReviewBody(std::string_view body, const policy::Policy& policy,
                                  const policy::ImageFacts& facts) {
  auto decoded = DecodeReviewText(body);
  if (!decoded) return Error{decoded.error()};
  const DecodedReview& review = decoded.value();
  policy::Decision decision = policy::Validate(review.request, facts, policy);
  return EncodeReply(review.api_version, review.request.uid, decision);
}

int RunReview(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  constexpr const char* kUsage =
      "usage: rootgate review [--policy FILE | --preset NAME]\n"
      "                       [--resolve-images [--registry-timeout DUR] [registry flags]] FILE|-\n";
  if (AsksForHelp(args)) {
    out << kUsage << "registry flags (with --resolve-images):\n" << kRegistryFlagsHelp;
    return 0;
  }
  std::string policy_file, preset, input;
  bool resolve_images = false;  // registry lookups, as the webhook does them
  bool registry_flags = false;
  RegistryOptions registry;
  std::chrono::nanoseconds registry_timeout = std::chrono::seconds(10);
  for (size_t i = 0; i < args.size(); ++i) {
    auto registry_flag = ConsumeRegistryFlag(args, &i, &registry);
    if (!registry_flag) {
      err << "rootgate review: " << registry_flag.error() << "\n" << kUsage;
      return 2;
    }
    if (registry_flag.value()) {
      registry_flags = true;
      continue;
    }
    if ((args[i] == "--policy" || args[i] == "--preset") && i + 1 < args.size()) {
      (args[i] == "--policy" ? policy_file : preset) = args[i + 1];
      ++i;
    } else if (args[i] == "--resolve-images") {
      resolve_images = true;
    } else if (args[i] == "--registry-timeout" && i + 1 < args.size()) {
      auto d = ParseGoDuration(args[++i]);
      if (!d || d->count() <= 0) {
        err << "rootgate review: --registry-timeout: expected a duration such as 10s\n";
        return 2;
      }
      registry_timeout = *d;
    } else if (args[i].size() > 1 && args[i][0] == '-') {
      err << "rootgate review: unknown flag or missing value: " << args[i] << "\n" << kUsage;
      return 2;
    } else if (input.empty()) {
      input = args[i];
    } else {
      err << "rootgate review: one input only\n" << kUsage;
      return 2;
    }
  }
  if (input.empty()) {
    err << "rootgate review: no input\n" << kUsage;
    return 2;
  }
  if (registry_flags && !resolve_images) {
    err << "rootgate review: registry flags need --resolve-images\n" << kUsage;
    return 2;
  }
  auto policy = SelectPolicy(policy_file, preset);
  if (!policy) {
    err << "rootgate review: " << policy.error() << "\n";
    return 2;
  }
  auto body = ReadInput(input);
  if (!body) {
    err << "rootgate review: " << input << ": " << body.error() << "\n";
    return 2;
  }
  Result<nlohmann::json> reply = Error{""};
  if (resolve_images && !registry.offline) {
    const SteadyClock clock;
    auto resolver = BuildImageResolver(registry, clock, std::chrono::seconds(0));
    if (!resolver) {
      err << "rootgate review: " << resolver.error() << "\n";
      return 2;
    }
    reply = ReviewBodyWithResolver(body.value(), policy.value(), *resolver.value(),
                                   clock.Now() + registry_timeout, clock);
  } else {
    const policy::NoImageFacts facts;
    reply = ReviewBody(body.value(), policy.value(), facts);
  }
  if (!reply) {
    err << "rootgate review: " << input << ": " << reply.error() << "\n";
    return 2;
  }
  out << reply.value().dump(2) << "\n";
  return 0;
}

}  // namespace rootgate::server
