// A workload view: the pod spec inside a Kubernetes object, by kind, with the security fields
// rootgate reads already type-checked. Built once per object, then read by every rule.
// Pure; a built view is immutable and safe to share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/placement.h"
#include "policy/result.h"

namespace rootgate::policy {

// The fields of a PodSecurityContext / SecurityContext that rootgate reads. Unset stays nullopt.
struct SecurityFields {
  std::optional<int64_t> run_as_user;
  std::optional<int64_t> run_as_group;
  std::optional<bool> run_as_non_root;
  std::optional<bool> privileged;                  // container only
  std::optional<bool> allow_privilege_escalation;  // container only
  std::optional<std::string> windows_run_as_user_name;
  std::optional<bool> windows_host_process;  // windowsOptions.hostProcess
};

enum class ContainerKind { kInit, kRegular, kEphemeral };

struct ContainerView {
  ContainerKind kind = ContainerKind::kRegular;
  size_t index = 0;          // position in its list
  std::string name;
  std::string image;         // as written
  bool restartable = false;  // init container with restartPolicy: Always (a sidecar)
  SecurityFields security;
  std::string path;          // "spec.template.spec.containers[1]"
};

struct WorkloadView {
  std::string group;  // "" for core, "apps", "batch"
  std::string kind;
  std::string namespace_name;
  std::string name;
  bool is_pod = false;    // false: a controller (the spec is a template)
  std::string spec_path;  // "spec", "spec.template.spec", "template.spec", ...
  SecurityFields pod_security;
  bool windows = false;                  // spec.os.name == "windows"
  std::optional<bool> host_users;        // spec.hostUsers
  std::string runtime_class_name;        // spec.runtimeClassName
  Placement placement;                   // spec.nodeSelector, required node affinity
  std::vector<ContainerView> containers;  // init, then regular, then ephemeral
  const nlohmann::json* pod_spec = nullptr;  // points into the object the view was built from
};

// The group of an apiVersion: "apps/v1" → "apps", "v1" → "".
std::string_view GroupOf(std::string_view api_version);

// True when rootgate knows where the pod spec of this group/kind lives.
bool IsPodBearingKind(std::string_view group, std::string_view kind);

// Builds the view of `object` (a Pod, a controller, a PodTemplate). `object` must outlive the
// view. Returns an error naming the field path when a field rootgate reads has the wrong type,
// e.g. `spec.containers[0].securityContext.runAsUser: expected an integer, got string`.
// Precondition: IsPodBearingKind(group, kind).
Result<WorkloadView> BuildWorkloadView(std::string_view group, std::string_view kind,
                                       const nlohmann::json& object);

}  // namespace rootgate::policy
