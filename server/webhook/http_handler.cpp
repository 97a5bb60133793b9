#include "server/webhook/http_handler.h"

#include <algorithm>
#include <cctype>
#include <exception>

#include <nlohmann/json.hpp>

#include "server/util/duration.h"

namespace rootgate::server {

using nlohmann::json;

std::chrono::nanoseconds AdmissionTimeout(std::string_view param) {
  auto parsed = ParseGoDuration(param);
  if (!parsed || parsed->count() <= 0) return kDefaultAdmissionTimeout;
  return std::min<std::chrono::nanoseconds>(*parsed, kMaxAdmissionTimeout);
}

std::string JsonError(std::string_view message) {
  return json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool IsJsonContentType(std::string_view content_type) {
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  size_t b = 0, e = media.size();
  while (b < e && std::isspace(static_cast<unsigned char>(media[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(media[e - 1]))) --e;
  constexpr std::string_view kJson = "application/json";
  if (e - b != kJson.size()) return false;
  for (size_t i = 0; i < kJson.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(media[b + i])) != kJson[i]) return false;
  }
  return true;
}

ValidateHandler::ValidateHandler(const Snapshot<policy::Policy>& policy,
                                 const policy::ImageFacts& facts, const Clock& clock,
                                 size_t max_body)
    : policy_(policy), facts_(facts), clock_(clock), max_body_(max_body) {}

namespace {

HandledRequest Fail(int status, std::string message) {
  HandledRequest out;
  out.http.status = status;
  out.http.body = JsonError(message);
  out.error = std::move(message);
  return out;
}

}  // namespace

HandledRequest ValidateHandler::HandleUnguarded(const HttpRequest& request,
                                                Clock::TimePoint start) const {
  if (request.method != "POST") {
    HandledRequest out = Fail(405, "method " + std::string(request.method) +
                                       " not allowed on /validate; use POST");
    out.http.allow = "POST";
    return out;
  }
  if (!IsJsonContentType(request.content_type)) {
    return Fail(415, "unsupported content type \"" + std::string(request.content_type) +
                         "\"; send application/json");
  }
  if (request.body.size() > max_body_) {
    return Fail(413, "request body of " + std::to_string(request.body.size()) +
                         " bytes exceeds the limit of " + std::to_string(max_body_) + " bytes");
  }
  const std::shared_ptr<const policy::Policy> policy = policy_.Get();
  if (!policy) return Fail(503, "no policy loaded");
  const Deadline deadline = MakeDeadline(start, AdmissionTimeout(request.timeout));
  auto outcome = DecideAdmission(request.body, *policy, facts_, deadline, clock_);
  if (!outcome) return Fail(400, outcome.error());
  HandledRequest out;
  out.http.body = ReplyText(outcome.value().reply);
  out.outcome = std::move(outcome).value();
  return out;
}

HandledRequest ValidateHandler::Handle(const HttpRequest& request) const noexcept {
  const Clock::TimePoint start = clock_.Now();
  HandledRequest out;
  try {
    out = HandleUnguarded(request, start);
  } catch (const std::exception& e) {
    out = HandledRequest{};
    out.http.status = 500;
    out.error = std::string("internal error: ") + e.what();
  } catch (...) {
    out = HandledRequest{};
    out.http.status = 500;
    out.error = "internal error";
  }
  if (out.http.status == 500) {
    out.outcome.reset();
    // Built without anything that allocates beyond a short string, so it cannot throw again.
    out.http.body = R"({"error":"internal error"})";
  }
  out.duration = clock_.Now() - start;
  return out;
}

}  // namespace rootgate::server
