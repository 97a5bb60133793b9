// The background audit's gauges: the documented names and labels, the last complete scan's
// figures kept after a failed scan, and the decision label of each kind of result.
#include "server/webhook/background_audit.h"

#include <doctest/doctest.h>

#include <sstream>

namespace {

using namespace rootgate::server;

bool HasLine(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) {
    if (l == line) return true;
  }
  return false;
}

TEST_CASE("audit gauges: before any scan only the leader gauge and the counters") {
  AuditGauges g;
  std::string out;
  g.Render(&out);
  CHECK(HasLine(out, "rootgate_audit_leader 0"));
  CHECK(HasLine(out, "rootgate_audit_scans_total{result=\"success\"} 0"));
  CHECK(out.find("rootgate_audit_last_scan_success") == std::string::npos);
  CHECK(out.find("rootgate_audit_workloads") == std::string::npos);
  g.SetLeader(true);
  out.clear();
  g.Render(&out);
  CHECK(HasLine(out, "rootgate_audit_leader 1"));
  CHECK(HasLine(out, "# TYPE rootgate_audit_leader gauge"));
}

TEST_CASE("audit gauges: a failed scan keeps the last complete figures") {
  AuditGauges g;
  AuditFigures f;
  f.workloads[{"a", "deny"}] = 4;
  f.workloads[{"a", "allow"}] = 1;
  f.violations[{"a", "rootUser"}] = 2;
  f.observed_root = 1;
  g.RecordScan(&f, true, 1764775445.5, 0.25);
  std::string out;
  g.Render(&out);
  CHECK(HasLine(out, "rootgate_audit_workloads{namespace=\"a\",decision=\"deny\"} 4"));
  CHECK(HasLine(out, "rootgate_audit_workloads{namespace=\"a\",decision=\"allow\"} 1"));
  CHECK(HasLine(out, "rootgate_audit_violations{namespace=\"a\",rule=\"rootUser\"} 2"));
  CHECK(HasLine(out, "rootgate_audit_observed_root_containers 1"));
  CHECK(HasLine(out, "rootgate_audit_last_scan_timestamp_seconds 1764775445.500000"));
  CHECK(HasLine(out, "rootgate_audit_last_scan_duration_seconds 0.250000"));
  CHECK(HasLine(out, "rootgate_audit_last_scan_success 1"));
  g.RecordScan(nullptr, false, 1764775500, 3);
  out.clear();
  g.Render(&out);
  CHECK(HasLine(out, "rootgate_audit_last_scan_success 0"));
  CHECK(HasLine(out, "rootgate_audit_last_scan_timestamp_seconds 1764775500"));
  CHECK(HasLine(out, "rootgate_audit_workloads{namespace=\"a\",decision=\"deny\"} 4"));  // kept
  CHECK(HasLine(out, "rootgate_audit_scans_total{result=\"success\"} 1"));
  CHECK(HasLine(out, "rootgate_audit_scans_total{result=\"failure\"} 1"));
}

TEST_CASE("audit gauges: decision labels") {
  CheckResult r;
  r.decision.evaluated = true;
  CHECK(AuditDecisionLabel(r) == "allow");
  r.decision.audits.emplace_back();
  CHECK(AuditDecisionLabel(r) == "audit");
  r.decision.warnings.emplace_back();
  CHECK(AuditDecisionLabel(r) == "warn");
  r.decision.allowed = false;
  CHECK(AuditDecisionLabel(r) == "deny");
  r.skipped = true;
  CHECK(AuditDecisionLabel(r) == "skip");
  CheckResult exempt;  // allowed without evaluation (an exempt namespace)
  CHECK(AuditDecisionLabel(exempt) == "skip");
}

}  // namespace
