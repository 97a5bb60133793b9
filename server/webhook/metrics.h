// rootgate's Prometheus metrics: a small fixed registry of counters, gauges and one histogram,
// rendered in the Prometheus text exposition format (version 0.0.4). Every label takes values
// from a fixed set (unknown kinds and operations count as "other"), so no request can grow the
// registry. Thread-safe: recording is a few relaxed atomic increments; Render reads them (and
// /proc for the process metrics) without stopping writers.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/rule_id.h"
#include "server/admission/admission_decision.h"

namespace rootgate::server {

// The label values of `kind`: the pod-bearing kinds rootgate evaluates, then "other".
inline constexpr std::array<std::string_view, 10> kMetricKinds = {
    "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
    "ReplicationController", "PodTemplate", "other"};
// The label values of `operation`.
inline constexpr std::array<std::string_view, 5> kMetricOperations = {"CREATE", "UPDATE", "DELETE",
                                                                      "CONNECT", "other"};
// Upper bounds (seconds) of rootgate_admission_decision_duration_seconds.
inline constexpr std::array<double, 16> kDurationBuckets = {
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   10};

// The HTTPS listener's connections, written by ConnectionPool and ConnectionGuard and
// rendered by Metrics. Relaxed atomics: each figure is exact, a set of them read together not
// necessarily consistent.
struct ConnectionCounters {
  std::atomic<int64_t> open{0};        // accepted for serving and not yet closed
  std::atomic<int64_t> threads{0};     // worker threads alive, busy or idle
  std::atomic<uint64_t> accepted{0};   // taken for serving (refused ones not included)
  std::atomic<uint64_t> refused{0};    // closed at once: the connection cap was reached
  std::atomic<uint64_t> timed_out{0};  // closed: a request not received in time
};

class Metrics {
 public:
  explicit Metrics(std::string version);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One admission decision (a 200 reply) and the time it took.
  void RecordDecision(const AdmissionOutcome& outcome, std::chrono::nanoseconds duration);
  // One HTTP response with this status code, on any path.
  void RecordHttpStatus(int code);
  // One POST /validate request read and answered without cpp-httplib's parser (fast_request.h).
  void RecordFastPathRequest() { fast_path_requests_.fetch_add(1, kRelaxed); }
  // In-flight admission requests; see InflightGuard.
  void AddInflight(int64_t delta) { inflight_.fetch_add(delta, std::memory_order_relaxed); }
  int64_t Inflight() const { return inflight_.load(std::memory_order_relaxed); }
  void RecordPolicyReload(bool ok) { policy_reloads_[ok ? 0 : 1].fetch_add(1, kRelaxed); }
  void RecordCertificateReload(bool ok) { cert_reloads_[ok ? 0 : 1].fetch_add(1, kRelaxed); }
  // When the serving certificate now in use expires (Unix seconds).
  void SetCertificateNotAfter(int64_t unix_seconds) { cert_not_after_.store(unix_seconds, kRelaxed); }

  // The HTTPS listener's connection figures, for the server to update.
  ConnectionCounters& connections() { return connections_; }
  const ConnectionCounters& connections() const { return connections_; }

  // Every metric, in the Prometheus text format.
  std::string Render() const;
  // Metrics kept elsewhere (registry lookups: RenderRegistryMetrics; the background audit's
  // gauges), appended by Render in the order added. Added before the server starts; `render`
  // must outlive this object and be thread-safe.
  void AddExtraMetrics(std::function<void(std::string*)> render) { extra_.push_back(std::move(render)); }

 private:
  static constexpr auto kRelaxed = std::memory_order_relaxed;
  static constexpr size_t kRequestCells = kVerdictCount * kMetricKinds.size() * kMetricOperations.size();

  void RenderAdmission(std::string* out) const;
  void RenderHttp(std::string* out) const;
  void RenderReloads(std::string* out) const;
  void RenderConnections(std::string* out) const;

  const std::string version_;
  std::array<std::atomic<uint64_t>, kRequestCells> requests_{};
  std::array<std::atomic<uint64_t>, policy::kRuleCount> violations_{};
  std::atomic<uint64_t> deadline_exceeded_{0};
  std::atomic<uint64_t> fast_path_requests_{0};
  std::array<std::atomic<uint64_t>, kDurationBuckets.size() + 1> duration_buckets_{};  // +Inf last
  std::atomic<uint64_t> duration_sum_ns_{0};
  std::array<std::atomic<uint64_t>, 600> http_status_{};  // index: status code 100..599
  std::atomic<int64_t> inflight_{0};
  std::array<std::atomic<uint64_t>, 2> policy_reloads_{};  // success, error
  std::array<std::atomic<uint64_t>, 2> cert_reloads_{};    // success, error
  std::atomic<int64_t> cert_not_after_{0};
  ConnectionCounters connections_;
  std::vector<std::function<void(std::string*)>> extra_;
};

// Counts one in-flight admission request for its lifetime. Not copyable.
class InflightGuard {
 public:
  explicit InflightGuard(Metrics& m) : m_(m) { m_.AddInflight(1); }
  ~InflightGuard() { m_.AddInflight(-1); }
  InflightGuard(const InflightGuard&) = delete;
  InflightGuard& operator=(const InflightGuard&) = delete;

 private:
  Metrics& m_;
};

// The process_* metrics of the calling process, read from /proc (Linux): resident memory, CPU
// seconds, open file descriptors, start time. Appends nothing for what cannot be read.
void RenderProcessMetrics(std::string* out);

}  // namespace rootgate::server
