// Fuzzes the webhook path for one AdmissionReview body: DecodeReviewText, policy::Validate under
// three policies (the built-in default, pss-restricted, and one with every rule, exemptions,
// overrides and UID ranges), EncodeReply, and DecideAdmission as the HTTPS handler calls it.
// Invariants: an error has a message; a decoded review evaluates without throwing; the reply
// copies the uid, says allowed as a boolean, and serialises (strict UTF-8) to valid JSON.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.h"
#include "policy/admission.h"
#include "policy/policy.h"
#include "policy/policy_parse.h"
#include "server/admission/admission_codec.h"
#include "server/admission/admission_decision.h"
#include "server/util/clock.h"

namespace {

using rootgate::policy::ImageFact;
using rootgate::policy::Policy;

// Facts that depend only on the image text, so every evaluator branch is reachable: known with
// no USER, root, a uid, a name with and without a resolved uid, and unknown.
class TextFacts final : public rootgate::policy::ImageFacts {
 public:
  std::optional<ImageFact> Find(std::string_view image) const override {
    switch (image.size() % 6) {
      case 0: return ImageFact(true, "", "fuzz", "");
      case 1: return ImageFact(true, "0:0", "fuzz", "");
      case 2: return ImageFact(true, "1000", "fuzz", "");
      case 3: return ImageFact(true, "app", "fuzz", "", image.size() % 4 == 3 ? 0 : 1000);
      case 4: return ImageFact(false, "", "fuzz", "fuzz: not known");
      default: return std::nullopt;
    }
  }
};

constexpr std::string_view kEverythingPolicy = R"(mode: enforce
preset: pss-restricted
rules:
  rootUser: deny
  unknownUser: warn
  rootGroup: audit
  allowPrivilegeEscalation: deny
  uidRange: deny
controllers: warn
userNamespaces:
  allowRoot: false
onTimeout: allow
exemptions:
  namespaces: [kube-system]
  usernames: [breakglass]
  images: ["registry.k8s.io/pause:*"]
  runtimeClassNames: [kata]
namespaceOverrides:
  - namespaces: ["dev-*"]
    mode: audit
imageOverrides:
  - image: "docker.io/library/nginx:*"
    user: ""
allowedUIDRanges:
  - {min: 1000, max: 65535}
)";

const std::vector<Policy>& Policies() {
  static const std::vector<Policy> policies = [] {
    std::vector<Policy> p{rootgate::policy::BuiltinDefaultPolicy()};
    auto restricted = rootgate::policy::ParsePolicy("preset: pss-restricted\n");
    auto everything = rootgate::policy::ParsePolicy(kEverythingPolicy);
    FUZZ_CHECK(restricted.ok());
    FUZZ_CHECK(everything.ok());
    p.push_back(restricted.value());
    p.push_back(everything.value());
    return p;
  }();
  return policies;
}

void CheckReply(const nlohmann::json& reply, const std::string& uid) {
  FUZZ_CHECK(reply.is_object());
  const auto& response = reply.at("response");
  FUZZ_CHECK(response.at("uid") == uid);
  FUZZ_CHECK(response.at("allowed").is_boolean());
  // Strict serialisation, as `rootgate review` prints: throws on invalid UTF-8.
  std::string text = reply.dump();
  FUZZ_CHECK(nlohmann::json::accept(text));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  const TextFacts facts;
  auto decoded = rootgate::server::DecodeReviewText(body);
  if (!decoded) {
    FUZZ_CHECK(!decoded.error().empty());
    return 0;
  }
  const auto& review = decoded.value();
  for (const Policy& policy : Policies()) {
    auto decision = rootgate::policy::Validate(review.request, facts, policy);
    FUZZ_CHECK(decision.allowed == decision.violations.empty() || !decision.error.empty());
    CheckReply(rootgate::server::EncodeReply(review.api_version, review.request.uid, decision),
               review.request.uid);
  }
  const rootgate::server::SteadyClock clock;
  auto deadline = rootgate::server::MakeDeadline(clock.Now(), std::chrono::seconds(10));
  auto outcome = rootgate::server::DecideAdmission(body, Policies()[0], facts, deadline, clock);
  FUZZ_CHECK(outcome.ok());
  CheckReply(rootgate::server::ReplyJson(outcome.value().reply), review.request.uid);
  FUZZ_CHECK(nlohmann::json::parse(rootgate::server::ReplyText(outcome.value().reply)) ==
             rootgate::server::ReplyJson(outcome.value().reply));
  return 0;
}
