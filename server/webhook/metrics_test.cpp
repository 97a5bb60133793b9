// The Prometheus text of Metrics: each recorded event appears under the documented name and
// labels, histogram buckets are cumulative, unknown label values fold into "other", and the
// /proc-based process metrics are present and plausible.
#include "server/webhook/metrics.h"

#include <doctest/doctest.h>

#include <ctime>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace rootgate::server;
using namespace std::chrono_literals;

// The value of the sample line that starts with `series` followed by a space; -1 when absent.
double Value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

AdmissionOutcome Outcome(Verdict v, std::string kind, std::string op, std::vector<rootgate::policy::RuleId> denied) {
  AdmissionOutcome o;
  o.verdict = v;
  o.kind = std::move(kind);
  o.operation = std::move(op);
  o.denied_rules = std::move(denied);
  return o;
}

}  // namespace

TEST_CASE("metrics: admission decisions by decision, kind and operation") {
  Metrics m("1.2.3");
  using rootgate::policy::RuleId;
  m.RecordDecision(Outcome(Verdict::kDeny, "Pod", "CREATE", {RuleId::kRootUser, RuleId::kPrivileged}), 120us);
  m.RecordDecision(Outcome(Verdict::kDeny, "Pod", "CREATE", {RuleId::kRootUser}), 2ms);
  m.RecordDecision(Outcome(Verdict::kAllow, "Widget", "PATCH", {}), 40us);
  AdmissionOutcome late = Outcome(Verdict::kWarn, "Deployment", "UPDATE", {});
  late.deadline_exceeded = true;
  m.RecordDecision(late, 9s);
  const std::string text = m.Render();
  CHECK(Value(text, R"(rootgate_admission_requests_total{decision="deny",kind="Pod",operation="CREATE"})") == 2);
  CHECK(Value(text, R"(rootgate_admission_requests_total{decision="allow",kind="other",operation="other"})") == 1);
  CHECK(Value(text, R"(rootgate_admission_requests_total{decision="warn",kind="Deployment",operation="UPDATE"})") == 1);
  CHECK(Value(text, R"(rootgate_admission_violations_total{rule="rootUser"})") == 2);
  CHECK(Value(text, R"(rootgate_admission_violations_total{rule="privileged"})") == 1);
  CHECK(Value(text, R"(rootgate_admission_violations_total{rule="uidRange"})") == 0);
  CHECK(Value(text, "rootgate_admission_deadline_exceeded_total") == 1);
  CHECK(Value(text, R"(rootgate_admission_decision_duration_seconds_bucket{le="5e-05"})") == 1);
  CHECK(Value(text, R"(rootgate_admission_decision_duration_seconds_bucket{le="0.00025"})") == 2);
  CHECK(Value(text, R"(rootgate_admission_decision_duration_seconds_bucket{le="0.0025"})") == 3);
  CHECK(Value(text, R"(rootgate_admission_decision_duration_seconds_bucket{le="10"})") == 4);
  CHECK(Value(text, R"(rootgate_admission_decision_duration_seconds_bucket{le="+Inf"})") == 4);
  CHECK(Value(text, "rootgate_admission_decision_duration_seconds_count") == 4);
  CHECK(Value(text, "rootgate_admission_decision_duration_seconds_sum") == doctest::Approx(9.00216));
  CHECK(text.find("# TYPE rootgate_admission_decision_duration_seconds histogram") != std::string::npos);
  CHECK(Value(text, R"(rootgate_build_info{version="1.2.3"})") == 1);
}

TEST_CASE("metrics: HTTP codes, in-flight, reloads, certificate expiry") {
  Metrics m("x");
  m.RecordHttpStatus(200);
  m.RecordHttpStatus(200);
  m.RecordHttpStatus(413);
  m.RecordHttpStatus(9999);  // out of range: counted as 500
  {
    InflightGuard a(m), b(m);
    CHECK(Value(m.Render(), "rootgate_inflight_requests") == 2);
  }
  m.RecordPolicyReload(true);
  m.RecordPolicyReload(false);
  m.RecordPolicyReload(false);
  m.RecordCertificateReload(true);
  m.SetCertificateNotAfter(1900000000);
  const std::string text = m.Render();
  CHECK(Value(text, R"(rootgate_http_requests_total{code="200"})") == 2);
  CHECK(Value(text, R"(rootgate_http_requests_total{code="413"})") == 1);
  CHECK(Value(text, R"(rootgate_http_requests_total{code="500"})") == 1);
  CHECK(Value(text, "rootgate_inflight_requests") == 0);
  CHECK(Value(text, R"(rootgate_policy_reloads_total{result="success"})") == 1);
  CHECK(Value(text, R"(rootgate_policy_reloads_total{result="error"})") == 2);
  CHECK(Value(text, R"(rootgate_certificate_reloads_total{result="success"})") == 1);
  CHECK(Value(text, R"(rootgate_certificate_reloads_total{result="error"})") == 0);
  CHECK(Value(text, "rootgate_certificate_expiry_timestamp_seconds") == 1900000000);
}

TEST_CASE("metrics: process metrics from /proc") {
  std::string text;
  RenderProcessMetrics(&text);
  CHECK(Value(text, "process_resident_memory_bytes") > 1 << 20);
  CHECK(Value(text, "process_open_fds") >= 3);  // stdin, stdout, stderr at least
  CHECK(Value(text, "process_cpu_seconds_total") >= 0);
  const double start = Value(text, "process_start_time_seconds");
  const double now = static_cast<double>(std::time(nullptr));
  CHECK(start > now - 24 * 3600);  // this test process started recently...
  CHECK(start <= now + 1);         // ...and not in the future
}

TEST_CASE("metrics: concurrent recording loses nothing") {
  Metrics m("x");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) {
        m.RecordDecision(Outcome(Verdict::kAllow, "Pod", "CREATE", {}), 1us);
        m.RecordHttpStatus(200);
      }
    });
  }
  for (auto& t : threads) t.join();
  const std::string text = m.Render();
  CHECK(Value(text, R"(rootgate_admission_requests_total{decision="allow",kind="Pod",operation="CREATE"})") == 40000);
  CHECK(Value(text, R"(rootgate_http_requests_total{code="200"})") == 40000);
  CHECK(Value(text, "rootgate_admission_decision_duration_seconds_count") == 40000);
}

TEST_CASE("metrics: HTTPS connections") {
  Metrics m("1.0.0");
  ConnectionCounters& c = m.connections();
  c.open = 3;
  c.threads = 35;
  c.accepted = 10;
  c.refused = 2;
  c.timed_out = 4;
  const std::string text = m.Render();
  CHECK(Value(text, "rootgate_open_connections") == 3);
  CHECK(Value(text, "rootgate_worker_threads") == 35);
  CHECK(Value(text, "rootgate_connections_accepted_total") == 10);
  CHECK(Value(text, "rootgate_connections_refused_total") == 2);
  CHECK(Value(text, "rootgate_connections_timed_out_total") == 4);
  CHECK(text.find("# TYPE rootgate_connections_refused_total counter") != std::string::npos);
  CHECK(text.find("# TYPE rootgate_open_connections gauge") != std::string::npos);
}
