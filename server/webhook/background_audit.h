// `rootgate serve --audit-interval DUR`: the cluster audit (server/audit) run in the webhook's
// process, on one replica at a time. A LeaderElector (server/kube/leader_election.h) on the Lease
// rootgate-audit in rootgate's own namespace picks the replica; while it leads, a scan thread
// runs RunAudit every interval, keeps gauges for /metrics and, with --write-reports, the
// PolicyReports (or OpenReports) current. The scan has its own API client with its own
// token-bucket rate limit (--audit-qps, --audit-burst), so it never takes from admission's
// threads or budget; the Lease has a client of its own so a long scan cannot starve renewals.
// An API failure marks the last scan failed (rootgate_audit_last_scan_success 0, a log line)
// and keeps the gauges of the last complete scan. Losing the lead cancels a running scan at its
// next API call (counted as a failed scan); Stop() cancels it too (not counted).
// Thread-safe: Start/RequestStop/Stop from the serve thread; RenderMetrics from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "policy/policy.h"
#include "server/audit/audit_output.h"
#include "server/kube/kube_client.h"
#include "server/kube/kubeconfig.h"
#include "server/kube/leader_election.h"
#include "server/kube/pull_secrets.h"
#include "server/registry/image_resolver.h"
#include "server/util/clock.h"
#include "server/util/snapshot.h"

namespace rootgate::server {

struct BackgroundAuditOptions {
  std::chrono::nanoseconds interval = std::chrono::minutes(5);
  bool write_reports = false;
  audit::ReportApi report_api = audit::ReportApi::kPolicyReport;
  double qps = 5;   // the scan's API requests a second (client-go's default QPS)
  int burst = 10;   // and burst (client-go's default)
  std::chrono::milliseconds request_timeout{10000};  // per scan API call, retries included
  size_t page_size = 250;
  kube::LeaderElectionConfig lease;  // namespace, name, identity, timings
  // serve --kube-api: each pod's images are looked up with its own pull secrets (read through
  // the scan's client, so under its rate limit), as admission does.
  bool pull_secrets = false;
};

// What one complete scan found; the gauges show the last one.
struct AuditFigures {
  std::map<std::pair<std::string, std::string>, int64_t> workloads;   // (namespace, decision)
  std::map<std::pair<std::string, std::string>, int64_t> violations;  // (namespace, rule): workloads
  int64_t observed_root = 0;  // containers the kubelet reports running as uid 0
};

// The decision label of an audit result: allow, deny, warn, audit or skip.
std::string AuditDecisionLabel(const CheckResult& r);

// The gauges, rendered in the Prometheus text format. Thread-safe.
class AuditGauges {
 public:
  void SetLeader(bool leading) { leader_.store(leading); }
  // A scan ended at `end_unix` after `duration`, successful or not. `figures` (when the scan
  // listed everything) replace the published ones; nullptr keeps the last complete scan's.
  void RecordScan(const AuditFigures* figures, bool ok, double end_unix, double duration_seconds);
  void Render(std::string* out) const;

 private:
  std::atomic<bool> leader_{false};
  mutable std::mutex mu_;
  AuditFigures figures_;
  bool have_scan_ = false, have_figures_ = false, last_ok_ = false;
  double last_end_ = 0, last_duration_ = 0;
  uint64_t scans_ok_ = 0, scans_failed_ = 0;
};

class BackgroundAudit {
 public:
  // `policy` and `resolver` (may be null) must outlive this.
  BackgroundAudit(BackgroundAuditOptions options, const Snapshot<policy::Policy>& policy, ImageResolver* resolver);
  ~BackgroundAudit();

  // Makes the two API clients for `config` and starts the election and scan threads.
  Result<bool> Start(const kube::ClientConfig& config);
  // Asks both threads to stop (non-blocking; safe from the signal thread).
  void RequestStop();
  // RequestStop, then joins: a running scan is cancelled at its next API call and the Lease is
  // released (when held) before this returns.
  void Stop();

  const AuditGauges& gauges() const { return gauges_; }
  bool IsLeader() const { return elector_ && elector_->IsLeader(); }

 private:
  void ScanLoop();
  void Scan();
  // Sleeps up to `d`, waking early on stop. False when stopping.
  bool Sleep(std::chrono::nanoseconds d);
  bool Cancelled() const { return stop_.load() || !IsLeader(); }

  const BackgroundAuditOptions options_;
  const Snapshot<policy::Policy>& policy_;
  ImageResolver* resolver_;
  const SteadyClock clock_;
  AuditGauges gauges_;
  std::unique_ptr<kube::KubeClient> scan_client_, lease_client_;
  std::unique_ptr<kube::PullSecretStore> pull_secrets_;  // with options_.pull_secrets and a resolver
  std::unique_ptr<kube::LeaderElector> elector_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;  // stop, or a change of leadership
  std::thread election_thread_, scan_thread_;
};

}  // namespace rootgate::server
