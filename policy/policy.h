// The policy model: what to check and what to do about it. A Policy is immutable once built and
// shared read-only by all threads. Parsing from YAML lives in policy_parse.h.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/platform.h"
#include "policy/result.h"
#include "policy/rule_id.h"

namespace rootgate::policy {

// What an admission reply does with a violation, before per-rule overrides.
enum class Mode { kEnforce, kWarn, kAudit };

// A rule's action. kInherit follows the mode (enforce → deny, warn → warn, audit → audit).
enum class Action { kOff, kInherit, kDeny, kWarn, kAudit };

// The action a rule takes under `mode`: `action` itself unless it is kInherit.
constexpr Action ResolveAction(Action action, Mode mode) {
  if (action != Action::kInherit) return action;
  switch (mode) {
    case Mode::kEnforce:
      return Action::kDeny;
    case Mode::kWarn:
      return Action::kWarn;
    case Mode::kAudit:
      return Action::kAudit;
  }
  return Action::kDeny;
}

enum class Preset { kDefault, kPssRestricted, kPssBaseline };

std::string_view ModeName(Mode m);
std::string_view ActionName(Action a);
std::string_view PresetName(Preset p);
std::optional<Mode> ModeFromName(std::string_view s);
std::optional<Action> ActionFromName(std::string_view s);
std::optional<Preset> PresetFromName(std::string_view s);

using RuleActions = std::array<Action, kRuleCount>;

// The rules a preset turns on (kInherit); the others are kOff.
RuleActions PresetRules(Preset p);

struct UidRange {
  int64_t min = 0;
  int64_t max = 0;
};

struct Exemptions {
  std::vector<std::string> namespaces;         // globs against the request namespace
  std::vector<std::string> usernames;          // exact userInfo.username
  std::vector<std::string> images;             // globs against normalised and written reference
  std::vector<std::string> runtime_class_names;  // exact spec.runtimeClassName
};

struct NamespaceOverride {
  std::vector<std::string> namespaces;  // globs
  std::optional<Mode> mode;
  std::vector<std::pair<RuleId, Action>> rules;
};

// A static answer for an image's config User, used before any registry lookup.
struct ImageOverride {
  std::string image;  // glob against normalised and written reference
  std::string user;   // as in an image config: "1000", "app", "0:0", "" (= no USER)
};

// What the webhook does when image facts cannot be had before the admission deadline.
enum class OnTimeout { kDeny, kAllowWithWarning };

// A registry rewrite for mirrors and air-gapped clusters: images of `registry` are looked up at
// `mirror` instead (same repository path, below the mirror's optional path prefix).
struct RegistryMirror {
  std::string registry;  // host[:port] pattern of the reference's registry: "docker.io"
  std::string mirror;    // HOST[:PORT][/PREFIX]: "mirror.internal:5000/dockerhub"
};

// Which registries image lookups may reach (applied in server/registry/registry_limits.h).
// Patterns are globs on "host" or "host:port", compared without regard to case.
struct RegistryPolicy {
  // Non-empty: only matching registries are looked up. An entry without wildcards also lets
  // that registry resolve to loopback, link-local or metadata addresses (refused otherwise).
  std::vector<std::string> allow;
  std::vector<std::string> deny;      // never looked up; wins over allow
  std::vector<std::string> insecure;  // reached over plain HTTP (no TLS); everything else verifies
  std::vector<RegistryMirror> mirrors;  // first match wins
};

// What a named image user (`USER app`) becomes. kResolve (the default): its uid from the image's
// /etc/passwd (read from its layers within a byte cap); when that cannot be read the user is
// unknown (fail closed). kAssume: an explicit opt-in that trusts image authors and takes a name
// other than `root` as non-root, with a warning.
enum class NamedUsers { kAssume, kResolve };

struct Policy {
  Mode mode = Mode::kEnforce;
  Preset preset = Preset::kDefault;
  RuleActions rules = PresetRules(Preset::kDefault);
  bool enforce_controllers = true;            // false: controller violations only warn
  bool allow_root_in_user_namespaces = true;  // hostUsers: false skips rootUser/unknownUser
  Exemptions exemptions;
  std::vector<NamespaceOverride> namespace_overrides;
  std::vector<ImageOverride> image_overrides;
  std::vector<UidRange> allowed_uid_ranges;   // empty: any non-zero uid
  OnTimeout on_timeout = OnTimeout::kDeny;
  RegistryPolicy registries;
  NamedUsers named_users = NamedUsers::kResolve;
  // The platforms the cluster's nodes have (nodePlatforms); empty: not named, any platform. Only
  // these entries of a multi-platform image are looked up (the --platform flag overrides it).
  std::vector<Platform> node_platforms;

  // The mode and rule actions for a namespace after namespace overrides (first match wins).
  void ForNamespace(std::string_view ns, Mode* mode, RuleActions* rules) const;
};

// The policy compiled into the binary: preset default, mode enforce, nothing exempt.
const Policy& BuiltinDefaultPolicy();

// Shell-style glob: '*' matches any run of characters (including '/'), '?' one character.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace rootgate::policy
