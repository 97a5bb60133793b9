// Deciding an admission request with registry lookups: plan, look up the images the plan's
// decision would read (in parallel, under the deadline), decide. The webhook's DecideAdmission
// and `rootgate review` call these; the policy library stays free of I/O. Thread-safe.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "policy/admission.h"
#include "policy/decision.h"
#include "policy/policy.h"
#include "policy/result.h"
#include "server/clock.h"
#include "server/image_resolver.h"

namespace rootgate::server {

// DecidePlan with image facts from `resolver`, looked up until `answer_by` less a margin for
// evaluating and encoding. Nothing is looked up when the plan is not evaluated (exempt,
// skipped), when the rules that read image users are off for the namespace, or when no
// container needs its image's user. With onTimeout: allow, an unknownUser violation caused by
// a lookup that ran out of time becomes a warning that says so. Never throws.
policy::Decision DecidePlanWithLookups(const policy::Plan& plan, const policy::Request& request,
                                       const policy::Policy& policy, ImageResolver& resolver,
                                       Clock::TimePoint answer_by, const Clock& clock);

// ReviewBody (server/review.h) with registry lookups: the AdmissionReview reply for a body, or
// an error for a body that is not an AdmissionReview.
Result<nlohmann::json> ReviewBodyWithResolver(std::string_view body, const policy::Policy& policy,
                                              ImageResolver& resolver, Clock::TimePoint answer_by,
                                              const Clock& clock);

}  // namespace rootgate::server
