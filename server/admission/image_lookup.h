// Deciding an admission request with registry lookups: plan, look up the images the plan's
// decision would read (in parallel, under the deadline), decide. The webhook's DecideAdmission
// and `rootgate review` call these; the policy library stays free of I/O. Thread-safe.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "policy/admission.h"
#include "policy/decision.h"
#include "policy/image_facts.h"
#include "policy/policy.h"
#include "policy/result.h"
#include "server/util/clock.h"
#include "server/registry/image_resolver.h"

namespace rootgate::server {

// DecidePlan with image facts from `resolver`, looked up until `answer_by` less a margin for
// evaluating and encoding. Nothing is looked up when the plan is not evaluated (exempt,
// skipped), when the rules that read image users are off for the namespace, or when no
// container needs its image's user. With onTimeout: allow, an unknownUser violation caused by
// a lookup that ran out of time becomes a warning that says so. With `secrets`, the pod's pull
// secrets (read only when some image is looked up) give the credentials. Never throws.
policy::Decision DecidePlanWithLookups(const policy::Plan& plan, const policy::Request& request,
                                       const policy::Policy& policy, ImageResolver& resolver,
                                       Clock::TimePoint answer_by, const Clock& clock,
                                       PullKeyringSource* secrets = nullptr);

// The ImageFacts the webhook hands its handler when registry lookups are on. Find() knows
// nothing by itself (facts depend on the request's deadline); DecidePlanWithFacts recognises it
// and decides through DecidePlanWithLookups. Thread-safe.
class RegistryFacts final : public policy::ImageFacts {
 public:
  // `secrets` (may be null: --kube-api off) must outlive this.
  explicit RegistryFacts(ImageResolver& resolver, PullKeyringSource* secrets = nullptr)
      : resolver_(resolver), secrets_(secrets) {}
  std::optional<policy::ImageFact> Find(std::string_view) const override { return std::nullopt; }
  ImageResolver& resolver() const { return resolver_; }
  PullKeyringSource* secrets() const { return secrets_; }

 private:
  ImageResolver& resolver_;
  PullKeyringSource* secrets_;
};

// policy::DecidePlan with `facts`, or DecidePlanWithLookups when `facts` is a RegistryFacts:
// the one call the webhook's DecideAdmission makes between planning and deciding.
policy::Decision DecidePlanWithFacts(const policy::Plan& plan, const policy::Request& request,
                                     const policy::ImageFacts& facts, const policy::Policy& policy,
                                     Clock::TimePoint answer_by, const Clock& clock);

// ReviewBody (server/cli/review.h) with registry lookups: the AdmissionReview reply for a body, or
// an error for a body that is not an AdmissionReview.
Result<nlohmann::json> ReviewBodyWithResolver(std::string_view body, const policy::Policy& policy,
                                              ImageResolver& resolver, Clock::TimePoint answer_by,
                                              const Clock& clock, PullKeyringSource* secrets = nullptr);

}  // namespace rootgate::server
