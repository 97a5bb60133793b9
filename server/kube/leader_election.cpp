#include "server/kube/leader_election.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <sstream>

namespace rootgate::server::kube {

using nlohmann::json;

namespace {

std::string StringAt(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

int IntAt(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int>() : 0;
}

LeaseRecord RecordOf(const json& spec) {
  LeaseRecord r;
  if (!spec.is_object()) return r;
  r.holder = StringAt(spec, "holderIdentity");
  r.lease_duration_seconds = IntAt(spec, "leaseDurationSeconds");
  r.acquire_time = StringAt(spec, "acquireTime");
  r.renew_time = StringAt(spec, "renewTime");
  r.lease_transitions = IntAt(spec, "leaseTransitions");
  return r;
}

}  // namespace

std::string MicroTime(std::chrono::system_clock::time_point t) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(us / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(us % 1000000));
  return std::string(buf) + frac;
}

LeaderElector::LeaderElector(KubeClient& client, LeaderElectionConfig config, const Clock& clock, WallClock wall)
    : client_(client), config_(std::move(config)), clock_(clock), wall_(std::move(wall)) {
  if (!wall_) wall_ = [] { return std::chrono::system_clock::now(); };
}

std::string LeaderElector::CollectionPath() const {
  return ApiResource{"coordination.k8s.io", "v1", "leases", "Lease", true}.Path(config_.namespace_name);
}

std::string LeaderElector::LeasePath() const { return CollectionPath() + "/" + config_.name; }

json LeaderElector::LeaseObject(const LeaseRecord& r, const std::string& resource_version) const {
  json meta = {{"name", config_.name}, {"namespace", config_.namespace_name}};
  if (!resource_version.empty()) meta["resourceVersion"] = resource_version;
  json spec = {{"holderIdentity", r.holder},
               {"leaseDurationSeconds", r.lease_duration_seconds},
               {"acquireTime", r.acquire_time},
               {"renewTime", r.renew_time},
               {"leaseTransitions", r.lease_transitions}};
  return {{"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"}, {"metadata", meta}, {"spec", spec}};
}

void LeaderElector::Error(const std::string& message) {
  if (on_error_) on_error_(message);
}

bool LeaderElector::TryAcquireOrRenew() {
  other_holder_ = false;
  const std::string now_text = MicroTime(wall_());
  const std::string where = "lease " + config_.namespace_name + "/" + config_.name;
  LeaseRecord mine;
  mine.holder = config_.identity;
  mine.lease_duration_seconds = static_cast<int>(config_.lease_duration.count());
  mine.acquire_time = now_text;
  mine.renew_time = now_text;

  auto got = client_.Get(LeasePath(), "get " + where);
  if (!got.ok()) {
    if (got.error->status != 404) {
      Error(got.error->message);
      return false;
    }
    auto created = client_.Create(CollectionPath(), LeaseObject(mine, ""), "create " + where);
    if (!created.ok()) {
      // 409 AlreadyExists: another candidate created it first.
      Error(created.error->message);
      return false;
    }
    observed_record_ = mine;
    observed_ = created.value.is_object() ? created.value.value("spec", json()).dump() : "";
    observed_time_ = clock_.Now();
    return true;
  }
  const json& lease = got.value;
  const json spec = lease.is_object() ? lease.value("spec", json::object()) : json::object();
  const LeaseRecord old = RecordOf(spec);
  const std::string serialised = spec.dump();
  if (serialised != observed_) {
    observed_ = serialised;
    observed_record_ = old;
    observed_time_ = clock_.Now();
  }
  const auto duration = std::chrono::seconds(old.lease_duration_seconds > 0 ? old.lease_duration_seconds
                                                                           : config_.lease_duration.count());
  if (!old.holder.empty() && old.holder != config_.identity && observed_time_ + duration > clock_.Now()) {
    other_holder_ = true;
    return false;  // held by someone else, and not expired as far as we have seen
  }
  if (old.holder == config_.identity) {
    mine.acquire_time = old.acquire_time.empty() ? now_text : old.acquire_time;
    mine.lease_transitions = old.lease_transitions;
  } else {
    mine.lease_transitions = old.lease_transitions + 1;
  }
  const std::string rv = lease.contains("metadata") && lease["metadata"].is_object()
                             ? StringAt(lease["metadata"], "resourceVersion") : "";
  auto updated = client_.Update(LeasePath(), LeaseObject(mine, rv), "update " + where);
  if (!updated.ok()) {
    // 409 Conflict: someone else wrote since our GET; this round is theirs.
    Error(updated.error->message);
    return false;
  }
  observed_record_ = mine;
  observed_ = updated.value.is_object() ? updated.value.value("spec", json()).dump() : "";
  observed_time_ = clock_.Now();
  return true;
}

void LeaderElector::SetLeader(bool leading) {
  if (leader_.exchange(leading) != leading && on_change_) on_change_(leading);
}

std::chrono::nanoseconds LeaderElector::Step() {
  const bool held = TryAcquireOrRenew();
  const auto now = clock_.Now();
  if (held) {
    last_renew_ = now;
    SetLeader(true);
  } else if (IsLeader() && (other_holder_ || now - last_renew_ >= config_.renew_deadline)) {
    SetLeader(false);  // someone else holds it, or we could not renew in time
  }
  if (IsLeader()) return config_.retry_period;
  // Candidates retry every retry period plus up to 1.2 of it (client-go's JitterFactor).
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(0.0, 1.2);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(config_.retry_period * (1.0 + jitter(rng)));
}

bool LeaderElector::Release() {
  if (!IsLeader()) return true;
  SetLeader(false);
  const std::string where = "lease " + config_.namespace_name + "/" + config_.name;
  auto got = client_.Get(LeasePath(), "get " + where);
  if (!got.ok()) {
    Error(got.error->message);
    return false;
  }
  const LeaseRecord old = RecordOf(got.value.value("spec", json::object()));
  if (old.holder != config_.identity) return true;  // no longer ours
  LeaseRecord released;
  released.lease_duration_seconds = 1;
  released.acquire_time = released.renew_time = MicroTime(wall_());
  released.lease_transitions = old.lease_transitions;
  const std::string rv = got.value.contains("metadata") ? StringAt(got.value["metadata"], "resourceVersion") : "";
  auto updated = client_.Update(LeasePath(), LeaseObject(released, rv), "release " + where);
  if (!updated.ok()) {
    Error(updated.error->message);
    return false;
  }
  return true;
}

void LeaderElector::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    lock.unlock();
    const auto wait = Step();
    lock.lock();
    cv_.wait_for(lock, wait, [this] { return stop_; });
  }
  lock.unlock();
  Release();
}

void LeaderElector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

std::string DefaultLeaderIdentity() {
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') return pod;
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(*host ? host : "rootgate") + "_" + std::to_string(getpid());
}

std::string DefaultLeaseNamespace(const std::string& serviceaccount_dir) {
  std::ifstream in(serviceaccount_dir + "/namespace");
  std::string ns;
  if (in && std::getline(in, ns) && !ns.empty()) return ns;
  if (const char* env = std::getenv("POD_NAMESPACE"); env != nullptr && *env != '\0') return env;
  return "";
}

}  // namespace rootgate::server::kube
