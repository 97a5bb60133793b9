// AdmissionReview coding: JSON in (admission.k8s.io/v1 or v1beta1) → policy::Request, and a
// Decision → the exact AdmissionReview reply. No I/O; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

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

// The AdmissionReview reply, field by field.
struct Reply {
  std::string api_version;  // as the request's
  std::string uid;          // response.uid: the request's uid
  bool allowed = true;
  int code = 0;             // response.status, when code != 0
  std::string reason, message;
  std::vector<std::string> warnings;
  std::map<std::string, std::string> audit_annotations;
};

// The reply to a decision: same apiVersion and kind, response.uid copied, allowed, and per the
// decision a status (403 with the deny message; 400 for a malformed object), warnings and
// auditAnnotations.
Reply ReplyTo(std::string_view api_version, std::string_view uid, const policy::Decision& decision);

// The reply as a JSON document, and as the compact text the webhook sends: the same bytes as
// ReplyJson(reply).dump() with invalid UTF-8 replaced by U+FFFD, written without building a tree.
nlohmann::json ReplyJson(const Reply& reply);
std::string ReplyText(const Reply& reply);

// ReplyJson(ReplyTo(...)).
nlohmann::json EncodeReply(std::string_view api_version, std::string_view uid,
                           const policy::Decision& decision);

}  // namespace rootgate::server
