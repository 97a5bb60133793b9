#include "server/webhook/background_audit.h"

#include <cmath>
#include <cstdio>

#include "policy/rule_id.h"
#include "server/audit/audit.h"
#include "server/util/logging.h"

namespace rootgate::server {

namespace {

void Header(std::string* out, const char* name, const char* type, const char* help) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
  out->append(type).append("\n");
}

void Sample(std::string* out, const char* name, const std::string& labels, double v) {
  out->append(name);
  if (!labels.empty()) out->append("{").append(labels).append("}");
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, " %.0f\n", v);
  } else {
    std::snprintf(buf, sizeof buf, " %.6f\n", v);
  }
  out->append(buf);
}

// Label values are namespace names (DNS labels) and fixed words; escaped anyway.
std::string Escaped(const std::string& v) {
  std::string s;
  for (char c : v) {
    if (c == '\\' || c == '"') s += '\\';
    if (c == '\n') {
      s += "\\n";
      continue;
    }
    s += c;
  }
  return s;
}

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Counts each result into the figures, and hands it on to the report builder.
class FiguresSink final : public audit::AuditSink {
 public:
  explicit FiguresSink(audit::AuditSink* next) : next_(next) {}
  void OnResult(const audit::AuditResult& r) override {
    const std::string& ns = r.check.namespace_name;
    ++figures.workloads[{ns, AuditDecisionLabel(r.check)}];
    bool seen[policy::kRuleCount] = {};
    for (const policy::Finding& f : r.check.decision.violations) {
      const auto i = static_cast<size_t>(f.rule);
      if (i < policy::kRuleCount && !seen[i]) {
        seen[i] = true;
        ++figures.violations[{ns, std::string(policy::RuleName(f.rule))}];
      }
    }
    if (next_ != nullptr) next_->OnResult(r);
  }
  AuditFigures figures;

 private:
  audit::AuditSink* next_;
};

}  // namespace

std::string AuditDecisionLabel(const CheckResult& r) {
  if (r.skipped || !r.decision.evaluated) return "skip";
  if (!r.decision.allowed) return "deny";
  if (!r.decision.warnings.empty()) return "warn";
  if (!r.decision.audits.empty()) return "audit";
  return "allow";
}

void AuditGauges::RecordScan(const AuditFigures* figures, bool ok, double end_unix, double duration_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  have_scan_ = true;
  last_ok_ = ok;
  last_end_ = end_unix;
  last_duration_ = duration_seconds;
  if (figures != nullptr) {
    figures_ = *figures;
    have_figures_ = true;
  }
  ++(ok ? scans_ok_ : scans_failed_);
}

void AuditGauges::Render(std::string* out) const {
  Header(out, "rootgate_audit_leader", "gauge",
         "1 when this replica holds the audit Lease and runs the background audit, else 0.");
  Sample(out, "rootgate_audit_leader", "", leader_.load() ? 1 : 0);
  std::lock_guard<std::mutex> lock(mu_);
  Header(out, "rootgate_audit_scans_total", "counter", "Background audit scans this replica finished, by result.");
  Sample(out, "rootgate_audit_scans_total", "result=\"success\"", static_cast<double>(scans_ok_));
  Sample(out, "rootgate_audit_scans_total", "result=\"failure\"", static_cast<double>(scans_failed_));
  if (!have_scan_) return;
  Header(out, "rootgate_audit_last_scan_timestamp_seconds", "gauge",
         "When this replica's last background audit scan ended (Unix seconds), successful or not.");
  Sample(out, "rootgate_audit_last_scan_timestamp_seconds", "", last_end_);
  Header(out, "rootgate_audit_last_scan_duration_seconds", "gauge", "How long this replica's last scan took.");
  Sample(out, "rootgate_audit_last_scan_duration_seconds", "", last_duration_);
  Header(out, "rootgate_audit_last_scan_success", "gauge",
         "1 when the last scan listed every kind (and wrote the reports, with --write-reports), 0 when it failed; "
         "the workload gauges keep the last successful scan's figures.");
  Sample(out, "rootgate_audit_last_scan_success", "", last_ok_ ? 1 : 0);
  if (!have_figures_) return;
  Header(out, "rootgate_audit_workloads", "gauge",
         "Workloads (pods and pod-bearing controllers) in the last successful scan, by namespace and decision.");
  for (const auto& [key, n] : figures_.workloads) {
    Sample(out, "rootgate_audit_workloads",
           "namespace=\"" + Escaped(key.first) + "\",decision=\"" + key.second + "\"", static_cast<double>(n));
  }
  Header(out, "rootgate_audit_violations", "gauge",
         "Workloads with a denying finding of a rule in the last successful scan, by namespace and rule.");
  for (const auto& [key, n] : figures_.violations) {
    Sample(out, "rootgate_audit_violations", "namespace=\"" + Escaped(key.first) + "\",rule=\"" + key.second + "\"",
           static_cast<double>(n));
  }
  Header(out, "rootgate_audit_observed_root_containers", "gauge",
         "Containers the kubelet reports running as uid 0 (status.containerStatuses[].user), last successful scan.");
  Sample(out, "rootgate_audit_observed_root_containers", "", static_cast<double>(figures_.observed_root));
}

BackgroundAudit::BackgroundAudit(BackgroundAuditOptions options, const Snapshot<policy::Policy>& policy,
                                 ImageResolver* resolver)
    : options_(std::move(options)), policy_(policy), resolver_(resolver) {}

BackgroundAudit::~BackgroundAudit() { Stop(); }

bool BackgroundAudit::Sleep(std::chrono::nanoseconds d) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, d, [this] { return stop_.load(); });
  return !stop_.load();
}

Result<bool> BackgroundAudit::Start(const kube::ClientConfig& config) {
  kube::KubeClientOptions scan;
  scan.timeout = options_.request_timeout;
  scan.rate_limit = std::make_shared<TokenBucket>(options_.qps, options_.burst, clock_);
  scan.sleep = [this](std::chrono::milliseconds d) { Sleep(d); };
  scan.cancelled = [this] { return Cancelled(); };
  auto scan_client = kube::KubeClient::Create(config, scan);
  if (!scan_client) return Error{scan_client.error()};
  // The Lease's calls must end well within the renew deadline.
  kube::KubeClientOptions lease;
  lease.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.lease.renew_deadline) / 2;
  lease.max_retries = 2;
  lease.sleep = [this](std::chrono::milliseconds d) { Sleep(d); };
  auto lease_client = kube::KubeClient::Create(config, lease);
  if (!lease_client) return Error{lease_client.error()};
  scan_client_ = std::move(scan_client).value();
  lease_client_ = std::move(lease_client).value();
  if (options_.pull_secrets && resolver_ != nullptr) {
    kube::PullSecretOptions secrets;
    secrets.log = false;  // a refusal is named in the verdicts (and reports) of the images it leaves unread
    pull_secrets_ = std::make_unique<kube::PullSecretStore>(*scan_client_, clock_, secrets);
  }
  elector_ = std::make_unique<kube::LeaderElector>(*lease_client_, options_.lease, clock_);
  elector_->set_on_change([this](bool leading) {
    gauges_.SetLeader(leading);
    LogNow(leading ? spdlog::level::info : spdlog::level::warn,
           leading ? "audit lease acquired; this replica runs the background audit" : "audit lease lost or released",
           {{"lease", options_.lease.namespace_name + "/" + options_.lease.name}, {"identity", options_.lease.identity}});
    { std::lock_guard<std::mutex> lock(mu_); }
    cv_.notify_all();
  });
  // Every failed round is logged, at warn when its message differs from the last one's (an
  // outage is not a line every 2 s at warn).
  elector_->set_on_error([this, last = std::string()](const std::string& e) mutable {
    Log(e == last ? spdlog::level::debug : spdlog::level::warn, "audit lease round failed",
        {{"lease", options_.lease.namespace_name + "/" + options_.lease.name}, {"error", e}});
    last = e;
  });
  LogNow(spdlog::level::info, "background audit started",
         {{"interval_s", std::chrono::duration<double>(options_.interval).count()},
          {"lease", options_.lease.namespace_name + "/" + options_.lease.name},
          {"identity", options_.lease.identity},
          {"write_reports", options_.write_reports},
          {"qps", options_.qps},
          {"burst", options_.burst},
          {"api_server", config.server}});
  election_thread_ = std::thread([this] { elector_->Run(); });
  scan_thread_ = std::thread([this] { ScanLoop(); });
  return true;
}

void BackgroundAudit::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  if (elector_) elector_->Stop();
}

void BackgroundAudit::Stop() {
  RequestStop();
  if (scan_thread_.joinable()) scan_thread_.join();
  if (election_thread_.joinable()) election_thread_.join();
}

void BackgroundAudit::ScanLoop() {
  while (!stop_.load()) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_.load() || IsLeader(); });
    }
    if (stop_.load()) return;
    Scan();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.interval, [this] { return stop_.load() || !IsLeader(); });
  }
}

void BackgroundAudit::Scan() {
  const auto policy = policy_.Get();
  if (!policy) return;
  const auto started = std::chrono::steady_clock::now();
  audit::AuditOptions o;
  o.page_size = options_.page_size;
  o.resolver = resolver_;
  o.pull_secrets = pull_secrets_.get();
  o.clock = &clock_;
  std::optional<audit::ReportBuilder> reports;
  if (options_.write_reports) {
    reports.emplace(*policy, options_.report_api, static_cast<int64_t>(UnixNow()));
  }
  FiguresSink sink(reports ? &*reports : nullptr);
  const audit::AuditSummary summary = audit::RunAudit(*scan_client_, *policy, o, sink);
  sink.figures.observed_root = static_cast<int64_t>(summary.observed_root);
  if (stop_.load()) {
    Log(spdlog::level::info, "background audit scan cancelled: shutting down");
    return;
  }
  std::string error;
  if (!summary.complete()) {
    error = summary.errors[0].error.message;
    if (summary.errors.size() > 1) error += " (and " + std::to_string(summary.errors.size() - 1) + " more kinds)";
  }
  if (!IsLeader()) {
    // Usually the same API outage: the scan's calls were cancelled when the Lease was lost.
    error = "the audit Lease was lost during the scan" + (error.empty() ? "" : ": " + error);
  }
  std::vector<std::string> done;
  if (error.empty() && reports && !Cancelled()) {
    const auto errors = audit::WriteReports(*scan_client_, options_.report_api, reports->Reports(), "", &done);
    if (!errors.empty()) error = "writing reports: " + errors[0];
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!error.empty()) {
    // The figures of an incomplete scan are not published: the last complete ones stay.
    // Listing worked and only writing failed: the figures are right, the scan still failed.
    gauges_.RecordScan(summary.complete() ? &sink.figures : nullptr, false, UnixNow(), seconds);
    LogNow(spdlog::level::err, "background audit scan failed; keeping the last complete scan's gauges",
           {{"error", error}, {"duration_ms", seconds * 1000}, {"requests", summary.requests.requests}});
    return;
  }
  gauges_.RecordScan(&sink.figures, true, UnixNow(), seconds);
  LogNow(spdlog::level::info, "background audit scan finished",
         {{"objects", summary.objects},
          {"allowed", summary.allowed},
          {"denied", summary.denied},
          {"skipped", summary.skipped},
          {"observed_root", summary.observed_root},
          {"object_errors", summary.object_errors.size()},
          {"reports_written", done.size()},
          {"requests", summary.requests.requests},
          {"duration_ms", seconds * 1000}});
}

}  // namespace rootgate::server
