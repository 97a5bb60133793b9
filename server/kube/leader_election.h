// Leader election on a coordination.k8s.io/v1 Lease, as client-go's tools/leaderelection does
// it: each candidate GETs the Lease and then creates it (404) or updates it with the
// resourceVersion it read (optimistic concurrency: a 409 means another candidate wrote first and
// this round is lost). A Lease held by someone else is taken over only when its record has not
// changed for its leaseDurationSeconds, measured on OUR clock from the moment we first saw that
// record (never by comparing renewTime with our wall clock, so clock skew between nodes does not
// matter). The holder renews every retry period and steps down when it has not renewed for the
// renew deadline (shorter than the lease duration, so it stops before anyone may take over). On
// shutdown the holder releases: holderIdentity "" and leaseDurationSeconds 1, so the next
// candidate takes over at its next try. Defaults are client-go's: 15 s, 10 s, 2 s.
//
// The core (TryAcquireOrRenew, Step, Release) is driven by the caller with a Clock, so it is
// unit-tested with a fake clock and an in-memory transport; Run is the loop on a thread.
// Thread-safety: Step/TryAcquireOrRenew/Release from one thread at a time (the loop's);
// IsLeader() and Leader() from any thread. Errors never throw: an API failure is a lost
// round, logged by the caller through `on_error`.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "server/kube/kube_client.h"
#include "server/util/clock.h"

namespace rootgate::server::kube {

struct LeaderElectionConfig {
  std::string namespace_name;  // the Lease's namespace (rootgate's own)
  std::string name = "rootgate-audit";
  std::string identity;        // unique per candidate: POD_NAME, else hostname_pid
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

// The Lease's spec as read or written.
struct LeaseRecord {
  std::string holder;
  int lease_duration_seconds = 0;
  std::string acquire_time, renew_time;  // MicroTime "2026-12-03T15:04:05.000000Z"
  int lease_transitions = 0;
};

// MicroTime of a wall-clock instant: RFC 3339, microseconds, UTC.
std::string MicroTime(std::chrono::system_clock::time_point t);

class LeaderElector {
 public:
  using WallClock = std::function<std::chrono::system_clock::time_point()>;

  // `client`, `clock` must outlive this. `wall` stamps acquireTime/renewTime (default:
  // system_clock::now).
  LeaderElector(KubeClient& client, LeaderElectionConfig config, const Clock& clock, WallClock wall = {});

  // One round: GET the Lease, then create, renew or take it over. True when this candidate
  // holds the Lease after the round. Updates IsLeader() only through Step.
  bool TryAcquireOrRenew();

  // The loop body: a round, then the leadership state: acquired → leader; renewed → stays
  // leader; failed while leader → still leader until renew_deadline has passed since the
  // last renewal, then steps down; another holder seen → steps down at once. Calls
  // `on_change(leading)` on every change. Returns the time to wait before the next Step.
  std::chrono::nanoseconds Step();

  // Gives the Lease up if this candidate holds it (holderIdentity "", leaseDurationSeconds 1).
  // Sets IsLeader() false first. True when released (or not held).
  bool Release();

  // Runs Step until `Stop()`, then Release()s. Blocks; call on its own thread.
  void Run();
  // Wakes Run and makes it return (after releasing). Thread-safe.
  void Stop();

  bool IsLeader() const { return leader_.load(); }
  const LeaderElectionConfig& config() const { return config_; }

  void set_on_change(std::function<void(bool leading)> f) { on_change_ = std::move(f); }
  // Each failed round's error (a message without credentials).
  void set_on_error(std::function<void(const std::string&)> f) { on_error_ = std::move(f); }

 private:
  std::string LeasePath() const;
  std::string CollectionPath() const;
  nlohmann::json LeaseObject(const LeaseRecord& r, const std::string& resource_version) const;
  void SetLeader(bool leading);
  void Error(const std::string& message);

  KubeClient& client_;
  const LeaderElectionConfig config_;
  const Clock& clock_;
  WallClock wall_;
  std::function<void(bool)> on_change_;
  std::function<void(const std::string&)> on_error_;

  // The last record seen and when (on clock_) it was first seen in that form.
  std::string observed_;  // the spec, serialised; "" = none yet
  LeaseRecord observed_record_;
  Clock::TimePoint observed_time_{};
  bool other_holder_ = false;  // the last round saw a valid lease held by someone else
  Clock::TimePoint last_renew_{};
  std::atomic<bool> leader_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
};

// The candidate identity: $POD_NAME when set, else hostname_pid.
std::string DefaultLeaderIdentity();
// rootgate's namespace: the service account's namespace file, else $POD_NAMESPACE; "" if neither.
std::string DefaultLeaseNamespace(const std::string& serviceaccount_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace rootgate::server::kube
