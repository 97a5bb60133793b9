// The stable rule IDs of ARCHITECTURE.md. They appear in JSON output, metric labels, deny
// reasons and policy files; never rename one. Pure; thread-safe.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace rootgate::policy {

enum class RuleId {
  kRootUser,
  kUnknownUser,
  kRunAsNonRoot,
  kRunAsUser,
  kPrivileged,
  kAllowPrivilegeEscalation,
  kRootGroup,
  kUidRange,
};

inline constexpr size_t kRuleCount = 8;

inline constexpr std::array<std::string_view, kRuleCount> kRuleNames = {
    "rootUser",  "unknownUser",  "runAsNonRoot",         "runAsUser",
    "privileged", "allowPrivilegeEscalation", "rootGroup", "uidRange"};

constexpr std::string_view RuleName(RuleId id) { return kRuleNames[static_cast<size_t>(id)]; }

// The rule with this exact (case-sensitive) ID, or nullopt.
std::optional<RuleId> RuleFromName(std::string_view name);

}  // namespace rootgate::policy
