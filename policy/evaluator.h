// The evaluator: one workload view + image facts + policy → a Decision. Stateless and const:
// shared by all threads without locks.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/decision.h"
#include "policy/image_facts.h"
#include "policy/policy.h"
#include "policy/workload.h"

namespace rootgate::policy {

struct EvalContext {
  std::string_view namespace_name;  // the request's namespace (or the manifest's)
  std::string_view username;        // userInfo.username; empty offline
  // When set, only these ephemeral containers are evaluated (an ephemeralcontainers UPDATE).
  const std::vector<std::string>* only_ephemeral = nullptr;
};

// Decides a workload. Never fails: a well-typed view always gets a decision.
Decision Evaluate(const WorkloadView& view, const ImageFacts& facts, const Policy& policy,
                  const EvalContext& ctx);

// The images (as written) whose config User the decision would read and that no static
// override answers: what the server should look up before calling Evaluate. Deduplicated.
std::vector<std::string> ImagesNeedingFacts(const WorkloadView& view, const Policy& policy);

// The uid each Linux container is predicted to run as, for comparing with what the kubelet
// reports (audit): the effective runAsUser, else the image user (a name through the passwd
// uid the facts carry; `root` is 0). `uid` unset: unknown. Windows pods give no predictions.
struct PredictedUser {
  std::string container;
  ContainerKind kind = ContainerKind::kRegular;
  std::optional<int64_t> uid;
  std::string source;  // "spec.containers[0].securityContext.runAsUser", "image docker.io/x:1"
};
std::vector<PredictedUser> PredictUsers(const WorkloadView& view, const ImageFacts& facts,
                                        const Policy& policy);

}  // namespace rootgate::policy
