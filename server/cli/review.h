// `rootgate review`: an AdmissionReview in, the exact reply the webhook sends out. ReviewBody is
// thread-safe (a function of its arguments); RunReview is the verb, called once per process.
#pragma once

#include <iosfwd>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "policy/result.h"

namespace rootgate::server {

// The reply to an AdmissionReview body, or an error for a body that is not one (the server
// answers that with HTTP 400). The same function the HTTPS handler calls.
Result<nlohmann::json> ReviewBody(std::string_view body, const policy::Policy& policy,
                                  const policy::ImageFacts& facts);

// The verb: `review [--policy FILE | --preset NAME] FILE|-`. Prints the reply; exit code 0 on a
// reply (allowed or not), 2 on bad usage or a body that is not an AdmissionReview.
int RunReview(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace rootgate::server
