// Where a pod may be scheduled, as far as the image platform goes: its `nodeSelector` and its
// required node affinity (`requiredDuringSchedulingIgnoredDuringExecution`), read from the pod
// spec, and whether a node of a given os/architecture satisfies them. A node of platform P is
// taken to carry the labels the kubelet sets, kubernetes.io/os=P.os and kubernetes.io/arch=
// P.architecture (and their beta.kubernetes.io/ forms); requirements on any other label are
// assumed satisfiable. Matching follows Kubernetes (component-helpers nodeaffinity): selector
// entries and a term's expressions are ANDed, terms are ORed, an empty term matches no node.
// Pure; a built Placement is immutable and safe to share.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/platform.h"
#include "policy/result.h"

namespace rootgate::policy {

struct LabelRequirement {
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist, kGt, kLt };
  std::string key;
  Op op = Op::kIn;
  std::vector<std::string> values;
};

struct Placement {
  // nodeSelector entries on the platform labels (others cannot exclude a platform).
  std::vector<std::pair<std::string, std::string>> node_selector;
  // Required node affinity terms, when set. Each term keeps only its requirements on platform
  // labels; a term that was empty in the spec is `std::nullopt` (it matches no node).
  std::optional<std::vector<std::optional<std::vector<LabelRequirement>>>> required_terms;

  // True when a node of `platform` may run the pod. Only os and architecture are compared
  // (no node label carries the variant).
  bool Allows(const Platform& platform) const;
  // True when nothing restricts the platform.
  bool Unconstrained() const { return node_selector.empty() && !required_terms; }
};

// True for kubernetes.io/os, kubernetes.io/arch and their beta.kubernetes.io/ forms.
bool IsPlatformLabel(std::string_view key);

// Reads spec.nodeSelector and spec.affinity.nodeAffinity.requiredDuringScheduling...
// of a pod spec; `spec_path` prefixes error paths. Fails on a field of the wrong type or an
// unknown operator, naming the field: `spec.nodeSelector.kubernetes.io/arch: expected a string`.
Result<Placement> ReadPlacement(const nlohmann::json& pod_spec, const std::string& spec_path);

}  // namespace rootgate::policy
