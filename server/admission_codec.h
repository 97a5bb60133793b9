// AdmissionReview coding: JSON in (admission.k8s.io/v1 or v1beta1) → policy::Request, and a
// Decision → the exact AdmissionReview reply. No I/O; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "policy/admission.h"
#include "policy/decision.h"
#include "policy/result.h"

namespace rootgate::server {

struct DecodedReview {
  std::string api_version;  // echoed in the reply
  policy::Request request;
};

// Decodes a parsed AdmissionReview, taking its object and oldObject by move. Fails with a
// message naming the field when it is not an AdmissionReview of a known apiVersion, or when
// request.uid is missing or not a string.
Result<DecodedReview> DecodeReview(nlohmann::json&& review);

// Parses and decodes the body text. Fails on empty, truncated or unparseable JSON too.
Result<DecodedReview> DecodeReviewText(std::string_view body);

// The AdmissionReview reply: same apiVersion and kind, response.uid copied, allowed, and per
// the decision a status (403 with the deny message; 400 for a malformed object), warnings and
// auditAnnotations.
nlohmann::json EncodeReply(std::string_view api_version, std::string_view uid,
                           const policy::Decision& decision);

}  // namespace rootgate::server
