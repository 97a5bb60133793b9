// The webhook's decision for one AdmissionReview body under the deadline the API server gave
// (?timeout=): decode, plan, evaluate, encode — the same steps and reply as `rootgate review`
// (ReviewBody), plus what the server logs and counts. Socket-free: the HTTP handler calls it and
// tests call it directly. Thread-safe: the policy and facts are only read.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "policy/result.h"
#include "policy/rule_id.h"
#include "server/admission/admission_codec.h"
#include "server/util/clock.h"

namespace rootgate::server {

// The `decision` of a log line and a metric label.
enum class Verdict {
  kAllow,    // allowed, nothing to say
  kDeny,     // denied (403)
  kWarn,     // allowed with warnings
  kAudit,    // allowed with audit annotations only
  kInvalid,  // denied because the object itself is malformed (400 in the reply)
};
inline constexpr size_t kVerdictCount = 5;
std::string_view VerdictName(Verdict v);

// The time budget of one admission call.
struct Deadline {
  Clock::TimePoint start;
  std::chrono::nanoseconds timeout{0};  // what the API server allows for the whole call
  Clock::TimePoint answer_by;           // start + timeout - a margin for sending the reply
};

// The deadline for a call that started at `start` with the API server's `timeout`. The margin
// kept for the reply is a tenth of the timeout, at most one second.
Deadline MakeDeadline(Clock::TimePoint start, std::chrono::nanoseconds timeout);

struct AdmissionOutcome {
  Reply reply;  // the whole AdmissionReview to send back (ReplyText)
  Verdict verdict = Verdict::kAllow;
  std::string uid, kind, namespace_name, name, operation, username;
  bool dry_run = false;
  bool deadline_exceeded = false;           // answered per the policy's onTimeout
  std::vector<policy::RuleId> denied_rules;  // distinct rules of the violations
  std::vector<policy::RuleId> rules;         // distinct rules of every finding
  std::string note;  // why allowed unevaluated, or what is malformed in the object
};

// Decides one body. Fails (→ HTTP 400) on an empty, truncated or unparseable body, or JSON that
// is not an AdmissionReview with a request.uid; the message never quotes the body's text. When evaluation has not finished by
// deadline.answer_by, the reply follows policy.on_timeout instead: a denial saying so, or an
// allowance with a warning saying so.
Result<AdmissionOutcome> DecideAdmission(std::string_view body, const policy::Policy& policy,
                                         const policy::ImageFacts& facts, const Deadline& deadline,
                                         const Clock& clock);

}  // namespace rootgate::server
