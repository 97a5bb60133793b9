// The transport of POST /validate, and nothing more: method, content type, size cap, the
// ?timeout= parameter, JSON error bodies, and recovery from anything unexpected. The decision
// itself is DecideAdmission's. Socket-free: the HTTPS server passes in the parts of a request it
// needs; tests pass strings. Thread-safe: Handle is const and reads the policy from a Snapshot.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/admission/admission_decision.h"
#include "server/util/clock.h"
#include "server/util/snapshot.h"

namespace rootgate::server {

inline constexpr size_t kDefaultMaxBody = size_t{8} << 20;
inline constexpr std::chrono::seconds kDefaultAdmissionTimeout{10};
inline constexpr std::chrono::seconds kMaxAdmissionTimeout{30};

struct HttpRequest {
  std::string_view method;        // "POST", "GET", ...
  std::string_view content_type;  // the Content-Type header; "" when absent
  std::string_view body;
  std::string_view timeout;  // the ?timeout= query value; "" when absent
};

struct HttpReply {
  int status = 200;
  std::string body;   // always JSON (Content-Type: application/json)
  std::string allow;  // the Allow header, set on 405
};

struct HandledRequest {
  HttpReply http;
  std::optional<AdmissionOutcome> outcome;  // set exactly when http.status == 200
  std::string error;                        // the message of a 4xx or 5xx
  std::chrono::nanoseconds duration{0};     // time spent in Handle
};

// The admission deadline for a ?timeout= value: a Go duration ("10s", "2.5s", "500ms"), capped
// at 30s; absent, unparseable or not positive gives the API server's default, 10s.
std::chrono::nanoseconds AdmissionTimeout(std::string_view param);

// {"error": message}, with any invalid UTF-8 in the message replaced.
std::string JsonError(std::string_view message);

// True for "application/json", any letter case, with or without parameters ("; charset=utf-8").
bool IsJsonContentType(std::string_view content_type);

class ValidateHandler {
 public:
  // The references must outlive the handler.
  ValidateHandler(const Snapshot<policy::Policy>& policy, const policy::ImageFacts& facts,
                  const Clock& clock, size_t max_body);

  // 200 with the AdmissionReview reply; 405 (with Allow: POST) for another method, 415 for a
  // content type other than JSON, 413 for a body over the cap, 400 for a body that is empty,
  // truncated, unparseable, not an AdmissionReview or without request.uid, 503 with no policy
  // loaded, 500 for anything unexpected. Every error body is {"error": "..."}. Never throws.
  HandledRequest Handle(const HttpRequest& request) const noexcept;

 private:
  HandledRequest HandleUnguarded(const HttpRequest& request, Clock::TimePoint start) const;

  const Snapshot<policy::Policy>& policy_;
  const policy::ImageFacts& facts_;
  const Clock& clock_;
  const size_t max_body_;
};

}  // namespace rootgate::server
