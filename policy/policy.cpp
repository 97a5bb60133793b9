#include "policy/policy.h"

namespace rootgate::policy {

std::optional<RuleId> RuleFromName(std::string_view name) {
  for (size_t i = 0; i < kRuleCount; ++i) {
    if (kRuleNames[i] == name) return static_cast<RuleId>(i);
  }
  return std::nullopt;
}

namespace {
constexpr std::array<std::string_view, 3> kModeNames = {"enforce", "warn", "audit"};
constexpr std::array<std::string_view, 5> kActionNames = {"off", "inherit", "deny", "warn", "audit"};
constexpr std::array<std::string_view, 3> kPresetNames = {"default", "pss-restricted", "pss-baseline"};

template <typename E, size_t N>
std::optional<E> FromName(const std::array<std::string_view, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<E>(i);
  }
  return std::nullopt;
}
}  // namespace

std::string_view ModeName(Mode m) { return kModeNames[static_cast<size_t>(m)]; }
std::string_view ActionName(Action a) { return kActionNames[static_cast<size_t>(a)]; }
std::string_view PresetName(Preset p) { return kPresetNames[static_cast<size_t>(p)]; }
std::optional<Mode> ModeFromName(std::string_view s) { return FromName<Mode>(kModeNames, s); }
std::optional<Action> ActionFromName(std::string_view s) {
  return FromName<Action>(kActionNames, s);
}
std::optional<Preset> PresetFromName(std::string_view s) {
  return FromName<Preset>(kPresetNames, s);
}

RuleActions PresetRules(Preset p) {
  RuleActions r;
  r.fill(Action::kOff);
  auto on = [&r](RuleId id) { r[static_cast<size_t>(id)] = Action::kInherit; };
  switch (p) {
    case Preset::kDefault:
      on(RuleId::kRootUser);
      on(RuleId::kUnknownUser);
      on(RuleId::kPrivileged);
      break;
    case Preset::kPssRestricted:
      on(RuleId::kRunAsNonRoot);
      on(RuleId::kRunAsUser);
      on(RuleId::kPrivileged);
      break;
    case Preset::kPssBaseline:
      on(RuleId::kPrivileged);
      break;
  }
  return r;
}

void Policy::ForNamespace(std::string_view ns, Mode* out_mode, RuleActions* out_rules) const {
  *out_mode = mode;
  *out_rules = rules;
  for (const NamespaceOverride& o : namespace_overrides) {
    bool match = false;
    for (const std::string& pattern : o.namespaces) match = match || GlobMatch(pattern, ns);
    if (!match) continue;
    if (o.mode) *out_mode = *o.mode;
    for (const auto& [id, action] : o.rules) (*out_rules)[static_cast<size_t>(id)] = action;
    return;
  }
}

const Policy& BuiltinDefaultPolicy() {
  static const Policy kPolicy;
  return kPolicy;
}

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative matcher with single-star backtracking: linear in practice, no recursion.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace rootgate::policy
