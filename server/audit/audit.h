// The cluster audit engine: lists Pods and every pod-bearing controller kind through the API
// client (paged, bounded memory), evaluates each object with the same view → facts → Evaluate
// path as `rootgate check` and the webhook, adds what the kubelet reports each container runs as
// (status.*ContainerStatuses[].user.linux), and hands every result to a sink as it is found.
// No flag parsing and no output format here: `rootgate audit` (audit_cli.cpp) and the webhook's
// background scan drive it with their own options and sinks.
// Thread-compatible: one RunAudit per client at a time from one thread (the client and the
// resolver are thread-safe themselves). Never throws; every failure is in the summary.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/evaluator.h"
#include "policy/policy.h"
#include "policy/workload.h"
#include "server/report/check.h"
#include "server/util/clock.h"
#include "server/registry/image_resolver.h"
#include "server/kube/kube_client.h"
#include "server/kube/kube_list.h"

namespace rootgate::server::audit {

// Pods, then Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob (batch/v1),
// ReplicationController, PodTemplate.
const std::vector<kube::ApiResource>& AuditedResources();

// A container's identity as the kubelet reports it.
struct ObservedUser {
  std::string container;
  int64_t uid = 0;
  std::optional<int64_t> gid;
  std::string field;  // "status.containerStatuses[0].user.linux.uid"
};

struct AuditResult {
  CheckResult check;  // source "cluster", kind/namespace/name, the decision (observed findings in it)
  std::string uid;  // metadata.uid
  std::string owner_kind, owner_name;  // a Pod's controller (ownerReferences[controller=true])
  std::vector<ObservedUser> observed;
};

struct AuditOptions {
  std::string namespace_name;  // "" = all namespaces
  size_t page_size = 250;
  // Resources to list; empty: AuditedResources().
  std::vector<kube::ApiResource> resources;
  // Image users from registries (--resolve-images); nullptr: none (unknown unless the spec or
  // a policy override fixes them). Each batch of objects gets `lookup_timeout` for its lookups.
  ImageResolver* resolver = nullptr;
  // With a resolver: each pod's pull secrets (kube/pull_secrets.h) for its lookups; nullptr: none.
  PullKeyringSource* pull_secrets = nullptr;
  const Clock* clock = nullptr;
  std::chrono::nanoseconds lookup_timeout = std::chrono::seconds(30);
};

// A kind that could not be listed (completely): nothing is claimed about it.
struct KindError {
  std::string resource;  // "deployments.apps"
  kube::KubeError error;
};

struct AuditSummary {
  size_t objects = 0;  // results handed to the sink
  size_t allowed = 0, denied = 0, skipped = 0;
  size_t observed_containers = 0, observed_root = 0;
  std::vector<std::string> notes;  // 410 restarts and the like
  std::vector<KindError> errors;
  std::vector<CheckError> object_errors;  // objects the engine could not read
  kube::RequestStats requests;
  std::chrono::milliseconds duration{0};
  bool complete() const { return errors.empty(); }
};

// Receives results as they are found (from the calling thread).
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual void OnResult(const AuditResult& result) = 0;
  // One kind listed (or failed: its error is in `list.error`).
  virtual void OnResourceDone(const kube::ApiResource& resource, const kube::ListAllResult& list) {
    (void)resource;
    (void)list;
  }
};

AuditSummary RunAudit(kube::KubeClient& client, const policy::Policy& policy,
                      const AuditOptions& options, AuditSink& sink);

// Evaluates one listed object (kind and apiVersion from `resource`, as LIST items lack them).
// Pure apart from `facts`; used by RunAudit and by tests.
std::optional<AuditResult> EvaluateObject(const kube::ApiResource& resource, const nlohmann::json& object,
                                          const policy::Policy& policy, const policy::ImageFacts& facts,
                                          std::string* error);

// The kubelet's reports in a Pod's status, and their findings: an observed uid 0 is a rootUser
// finding (the rule's action in the object's namespace) unless a user namespace maps it and
// the policy allows that; an observation that contradicts the prediction is a warning naming
// both. Appends to `result` (observed, decision). Pure.
void AddObserved(const nlohmann::json& pod, const policy::WorkloadView& view,
                 const std::vector<policy::PredictedUser>& predicted, const policy::Policy& policy,
                 AuditResult* result);

}  // namespace rootgate::server::audit
