#include "server/admission/admission_decision.h"

#include <algorithm>

#include "policy/admission.h"
#include "server/admission/admission_codec.h"
#include "server/util/duration.h"
#include "server/admission/image_lookup.h"

namespace rootgate::server {

using nlohmann::json;

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kAllow: return "allow";
    case Verdict::kDeny: return "deny";
    case Verdict::kWarn: return "warn";
    case Verdict::kAudit: return "audit";
    case Verdict::kInvalid: return "invalid";
  }
  return "allow";
}

Deadline MakeDeadline(Clock::TimePoint start, std::chrono::nanoseconds timeout) {
  const std::chrono::nanoseconds margin =
      std::min<std::chrono::nanoseconds>(timeout / 10, std::chrono::seconds(1));
  return Deadline{start, timeout, start + timeout - margin};
}

namespace {

void AddDistinct(const std::vector<policy::Finding>& findings, std::vector<policy::RuleId>* out) {
  for (const auto& f : findings) {
    if (std::find(out->begin(), out->end(), f.rule) == out->end()) out->push_back(f.rule);
  }
}

Verdict VerdictOf(const policy::Decision& d) {
  if (!d.allowed) return d.error.empty() ? Verdict::kDeny : Verdict::kInvalid;
  if (!d.warnings.empty()) return Verdict::kWarn;
  if (!d.audits.empty()) return Verdict::kAudit;
  return Verdict::kAllow;
}

// The reply when no decision was reached in time: what the policy's onTimeout asks for.
Reply TimeoutReply(std::string_view api_version, std::string_view uid, const Deadline& deadline,
                   policy::OnTimeout on_timeout, Verdict* verdict) {
  const std::string what = "rootgate: no decision within the admission deadline (timeout " +
                           FormatDuration(deadline.timeout) + ")";
  Reply reply;
  reply.api_version = std::string(api_version);
  reply.uid = std::string(uid);
  if (on_timeout == policy::OnTimeout::kDeny) {
    *verdict = Verdict::kDeny;
    reply.allowed = false;
    reply.code = 403;
    reply.reason = "Forbidden";
    reply.message = what + "; denied because the policy sets onTimeout: deny. "
                           "Retry; if it persists, ask the cluster admin.";
  } else {
    *verdict = Verdict::kWarn;
    reply.allowed = true;
    reply.warnings = {what + "; allowed unchecked because the policy sets onTimeout: allow"};
  }
  return reply;
}

// nlohmann's parse errors end with "; last read: '<the bytes of the token being read>'", which
// can be part of a secret in the body; the server never logs or echoes body text.
std::string WithoutBodyText(const std::string& error) {
  const size_t at = error.find("; last read: ");
  return at == std::string::npos ? error : error.substr(0, at);
}

void CopyRequestFields(const policy::Request& r, AdmissionOutcome* out) {
  out->uid = r.uid;
  out->kind = r.kind.kind;
  out->namespace_name = r.namespace_name;
  out->name = r.name;
  out->operation = r.operation;
  out->username = r.username;
  out->dry_run = r.dry_run;
}

}  // namespace

Result<AdmissionOutcome> DecideAdmission(std::string_view body, const policy::Policy& policy,
                                         const policy::ImageFacts& facts, const Deadline& deadline,
                                         const Clock& clock) {
  auto decoded = DecodeReviewText(body);
  if (!decoded) return Error{WithoutBodyText(decoded.error())};
  const DecodedReview& review = decoded.value();
  AdmissionOutcome out;
  CopyRequestFields(review.request, &out);

  // Image facts will be looked up between planning and deciding, under this same deadline; the
  // checks on both sides of the evaluation keep a slow step from answering late.
  const policy::Plan plan = policy::PlanRequest(review.request, policy);
  policy::Decision decision;
  if (clock.Now() < deadline.answer_by) {
    decision = DecidePlanWithFacts(plan, review.request, facts, policy, deadline.answer_by, clock);
  }
  if (clock.Now() >= deadline.answer_by) {
    out.deadline_exceeded = true;
    out.reply = TimeoutReply(review.api_version, review.request.uid, deadline, policy.on_timeout,
                             &out.verdict);
    return out;
  }
  out.verdict = VerdictOf(decision);
  AddDistinct(decision.violations, &out.denied_rules);
  out.rules = out.denied_rules;
  AddDistinct(decision.warnings, &out.rules);
  AddDistinct(decision.audits, &out.rules);
  out.note = !decision.error.empty() ? decision.error : decision.skip_reason;
  out.reply = ReplyTo(review.api_version, review.request.uid, decision);
  return out;
}

}  // namespace rootgate::server
