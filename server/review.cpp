#include "server/review.h"

#include <ostream>

#include "policy/admission.h"
#include "server/admission_codec.h"
#include "server/files.h"
#include "server/policy_source.h"

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
  constexpr const char* kUsage = "usage: rootgate review [--policy FILE | --preset NAME] FILE|-\n";
  std::string policy_file, preset, input;
  for (size_t i = 0; i < args.size(); ++i) {
    if ((args[i] == "--policy" || args[i] == "--preset") && i + 1 < args.size()) {
      (args[i] == "--policy" ? policy_file : preset) = args[i + 1];
      ++i;
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
  const policy::NoImageFacts facts;
  auto reply = ReviewBody(body.value(), policy.value(), facts);
  if (!reply) {
    err << "rootgate review: " << input << ": " << reply.error() << "\n";
    return 2;
  }
  out << reply.value().dump(2) << "\n";
  return 0;
}

}  // namespace rootgate::server
