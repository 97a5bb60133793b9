// The /validate transport without a socket: status codes and JSON error bodies for each kind of
// bad request, the same reply as `rootgate review` for every recorded fixture, the admission
// deadline and the policy's onTimeout (with a clock that advances on every reading), and
// recovery from an exception. Expected statuses come from the issue and the HTTP RFCs.
#include "server/webhook/http_handler.h"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "server/cli/review.h"

namespace {

using nlohmann::json;
using rootgate::policy::Policy;
using namespace rootgate::server;
using namespace std::chrono_literals;

// Each reading is `step` later than the one before.
class SteppingClock final : public Clock {
 public:
  explicit SteppingClock(std::chrono::nanoseconds step) : step_(step.count()) {}
  TimePoint Now() const override { return TimePoint(std::chrono::nanoseconds(ns_.fetch_add(step_))); }

 private:
  mutable std::atomic<int64_t> ns_{0};
  const int64_t step_;
};

class ThrowingFacts final : public rootgate::policy::ImageFacts {
 public:
  std::optional<rootgate::policy::ImageFact> Find(std::string_view) const override {
    throw std::runtime_error("registry client blew up");
  }
};

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  REQUIRE_MESSAGE(in.good(), "cannot read " << p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The AdmissionReview body of a recorded request (the fixture wraps it with method, headers).
std::string FixtureBody(const std::string& name) {
  return json::parse(ReadFile(std::string(ROOTGATE_FIXTURES_DIR) + "/" + name))["body"].dump();
}

struct Harness {
  explicit Harness(Policy p = rootgate::policy::BuiltinDefaultPolicy(),
                   std::chrono::nanoseconds step = 0ns, size_t max_body = kDefaultMaxBody)
      : policy(std::make_shared<const Policy>(std::move(p))), clock(step),
        handler(policy, facts, clock, max_body) {}
  Snapshot<Policy> policy;
  rootgate::policy::NoImageFacts facts;
  SteppingClock clock;
  ValidateHandler handler;
};

// The "error" of a JSON error body; fails the test when the body is not one.
std::string ErrorOf(const HandledRequest& h) {
  json body = json::parse(h.http.body);
  REQUIRE(body.is_object());
  REQUIRE(body.contains("error"));
  return body["error"];
}

// The recorded Pod CREATE (no securityContext, image nginx): denied by unknownUser.
const std::string& PodBody() {
  static const std::string body = FixtureBody("003-pod-create-no-securitycontext.json");
  return body;
}

}  // namespace

TEST_CASE("validate: each bad request gets its status and a JSON error") {
  Harness h(rootgate::policy::BuiltinDefaultPolicy(), 0ns, 4096);
  struct Case {
    const char* name;
    HttpRequest request;
    int status;
    const char* error_part;
  };
  const std::string big(4097, ' ');
  const std::vector<Case> cases = {
      {"GET", {"GET", "application/json", PodBody(), ""}, 405, "use POST"},
      {"PUT", {"PUT", "application/json", PodBody(), ""}, 405, "PUT"},
      {"text/plain", {"POST", "text/plain", PodBody(), ""}, 415, "text/plain"},
      {"no content type", {"POST", "", PodBody(), ""}, 415, "application/json"},
      {"json lookalike", {"POST", "application/json-patch+json", PodBody(), ""}, 415, "json-patch"},
      {"over the cap", {"POST", "application/json", big, ""}, 413, "4096"},
      {"empty", {"POST", "application/json", "", ""}, 400, "empty"},
      {"truncated", {"POST", "application/json", std::string_view(PodBody()).substr(0, 300), ""}, 400, "invalid JSON"},
      {"not JSON", {"POST", "application/json", "hello", ""}, 400, "invalid JSON"},
      {"JSON array", {"POST", "application/json", "[]", ""}, 400, "AdmissionReview"},
      {"not an AdmissionReview", {"POST", "application/json", R"({"kind":"Pod","apiVersion":"v1"})", ""}, 400, "AdmissionReview"},
      {"no request", {"POST", "application/json", R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1"})", ""}, 400, "request"},
      {"no uid", {"POST", "application/json", R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"operation":"CREATE"}})", ""}, 400, "request.uid"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const HandledRequest out = h.handler.Handle(c.request);
    CHECK(out.http.status == c.status);
    CHECK(ErrorOf(out).find(c.error_part) != std::string::npos);
    CHECK(out.error == ErrorOf(out));
    CHECK_FALSE(out.outcome.has_value());
    CHECK(out.http.allow == (c.status == 405 ? "POST" : ""));
  }
}

TEST_CASE("validate: a parse error never quotes the body") {
  Harness h;
  const std::string body = R"({"kind":"AdmissionReview","request":{"uid":"1","object":{"env":"hunter2-secret)";
  const HandledRequest out = h.handler.Handle({"POST", "application/json", body, ""});
  CHECK(out.http.status == 400);
  CHECK(out.http.body.find("hunter2") == std::string::npos);
}

TEST_CASE("validate: content type parameters and letter case are accepted") {
  Harness h;
  for (const char* type : {"application/json", "application/json; charset=utf-8", "Application/JSON",
                           " application/json ;charset=UTF-8"}) {
    CAPTURE(type);
    CHECK(h.handler.Handle({"POST", type, PodBody(), "10s"}).http.status == 200);
  }
}

TEST_CASE("validate: every recorded fixture gets exactly the reply `rootgate review` gives") {
  Harness h;
  size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ROOTGATE_FIXTURES_DIR)) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().filename().string());
    const std::string body = json::parse(ReadFile(entry.path()))["body"].dump();
    const HandledRequest out = h.handler.Handle({"POST", "application/json", body, "10s"});
    REQUIRE(out.http.status == 200);
    REQUIRE(out.outcome.has_value());
    const rootgate::policy::NoImageFacts facts;
    auto expected = ReviewBody(body, rootgate::policy::BuiltinDefaultPolicy(), facts);
    REQUIRE(expected.ok());
    CHECK(json::parse(out.http.body) == expected.value());
    CHECK(out.outcome->uid == json::parse(body)["request"]["uid"]);
    CHECK_FALSE(out.outcome->deadline_exceeded);
    ++seen;
  }
  CHECK(seen == 16);
}

TEST_CASE("validate: the outcome names the decision, the request and the rules") {
  Harness h;
  const HandledRequest out = h.handler.Handle(
      {"POST", "application/json", FixtureBody("011-daemonset-create-privileged-uid0.json"), ""});
  REQUIRE(out.outcome.has_value());
  const AdmissionOutcome& o = *out.outcome;
  CHECK(o.verdict == Verdict::kDeny);
  CHECK(o.kind == "DaemonSet");
  CHECK(o.operation == "CREATE");
  CHECK_FALSE(o.namespace_name.empty());
  CHECK_FALSE(o.username.empty());
  using rootgate::policy::RuleId;
  CHECK(std::count(o.denied_rules.begin(), o.denied_rules.end(), RuleId::kRootUser) == 1);
  CHECK(std::count(o.denied_rules.begin(), o.denied_rules.end(), RuleId::kPrivileged) == 1);
  CHECK(o.denied_rules.size() == 2);

  Policy warn = rootgate::policy::BuiltinDefaultPolicy();
  warn.mode = rootgate::policy::Mode::kWarn;
  Harness hw(warn);
  const HandledRequest warned = hw.handler.Handle({"POST", "application/json", PodBody(), ""});
  REQUIRE(warned.outcome.has_value());
  CHECK(warned.outcome->verdict == Verdict::kWarn);
  CHECK(json::parse(warned.http.body)["response"]["allowed"] == true);
  CHECK(warned.outcome->denied_rules.empty());
  CHECK(warned.outcome->rules.size() == 1);
}

TEST_CASE("validate: a decision past the deadline answers per onTimeout") {
  // Every clock reading is 300ms after the previous one: the request starts at 0, evaluation
  // starts at 300ms and ends at 600ms. With ?timeout=500ms the reply must be ready by 450ms.
  SUBCASE("deny") {
    Harness h(rootgate::policy::BuiltinDefaultPolicy(), 300ms);
    const HandledRequest out = h.handler.Handle({"POST", "application/json", PodBody(), "500ms"});
    REQUIRE(out.http.status == 200);
    const json reply = json::parse(out.http.body);
    CHECK(reply["response"]["allowed"] == false);
    CHECK(reply["response"]["status"]["code"] == 403);
    const std::string message = reply["response"]["status"]["message"];
    CHECK(message.find("deadline") != std::string::npos);
    CHECK(message.find("onTimeout: deny") != std::string::npos);
    CHECK(reply["response"]["uid"] == json::parse(PodBody())["request"]["uid"]);
    CHECK(out.outcome->deadline_exceeded);
    CHECK(out.outcome->verdict == Verdict::kDeny);
  }
  SUBCASE("allow with a warning") {
    Policy p = rootgate::policy::BuiltinDefaultPolicy();
    p.on_timeout = rootgate::policy::OnTimeout::kAllowWithWarning;
    Harness h(p, 300ms);
    const HandledRequest out = h.handler.Handle({"POST", "application/json", PodBody(), "500ms"});
    const json reply = json::parse(out.http.body);
    CHECK(reply["response"]["allowed"] == true);
    REQUIRE(reply["response"]["warnings"].size() == 1);
    CHECK(reply["response"]["warnings"][0].get<std::string>().find("onTimeout: allow") != std::string::npos);
    CHECK(out.outcome->verdict == Verdict::kWarn);
  }
  SUBCASE("the same clock with the default 10s timeout decides normally") {
    Harness h(rootgate::policy::BuiltinDefaultPolicy(), 300ms);
    const HandledRequest out = h.handler.Handle({"POST", "application/json", PodBody(), ""});
    CHECK_FALSE(out.outcome->deadline_exceeded);
    CHECK(json::parse(out.http.body)["response"]["status"]["message"].get<std::string>().find("[unknownUser]") != std::string::npos);
  }
}

TEST_CASE("validate: an exception becomes a 500 with a JSON body") {
  Snapshot<Policy> policy(std::make_shared<const Policy>(rootgate::policy::BuiltinDefaultPolicy()));
  ThrowingFacts facts;
  SteadyClock clock;
  ValidateHandler handler(policy, facts, clock, kDefaultMaxBody);
  const HandledRequest out = handler.Handle({"POST", "application/json", PodBody(), ""});
  CHECK(out.http.status == 500);
  CHECK(ErrorOf(out) == "internal error");
  CHECK(out.error.find("registry client blew up") != std::string::npos);
  CHECK_FALSE(out.outcome.has_value());
}

TEST_CASE("validate: no policy loaded is a 503") {
  Snapshot<Policy> empty;
  rootgate::policy::NoImageFacts facts;
  SteadyClock clock;
  ValidateHandler handler(empty, facts, clock, kDefaultMaxBody);
  CHECK(handler.Handle({"POST", "application/json", PodBody(), ""}).http.status == 503);
}

TEST_CASE("AdmissionTimeout: Go durations, default 10s, capped at 30s") {
  CHECK(AdmissionTimeout("10s") == 10s);
  CHECK(AdmissionTimeout("2.5s") == 2500ms);
  CHECK(AdmissionTimeout("500ms") == 500ms);
  CHECK(AdmissionTimeout("1m") == 30s);
  CHECK(AdmissionTimeout("45s") == 30s);
  CHECK(AdmissionTimeout("") == 10s);
  CHECK(AdmissionTimeout("ten") == 10s);
  CHECK(AdmissionTimeout("10") == 10s);  // Go requires a unit
  CHECK(AdmissionTimeout("-1s") == 10s);
  CHECK(AdmissionTimeout("0") == 10s);
}
