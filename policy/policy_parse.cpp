#include "policy/policy_parse.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <functional>
#include <map>
#include <set>

#include "policy/yaml_merge.h"

namespace rootgate::policy {

namespace {

constexpr std::string_view kApiVersion = "rootgate.io/v1alpha1";

// Parse failure carrying the message; thrown only inside this file and caught in ParsePolicy.
struct ParseFailure {
  std::string message;
};

[[noreturn]] void Fail(const YAML::Node& node, const std::string& field, const std::string& what) {
  std::string where = node.Mark().is_null() ? "" : "line " + std::to_string(node.Mark().line + 1) + ": ";
  throw ParseFailure{where + field + ": " + what};
}

std::string Kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "nothing";
  }
}

std::string ReadString(const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) Fail(n, field, "expected a string, got " + Kind(n));
  return n.Scalar();
}

bool ReadBool(const YAML::Node& n, const std::string& field) {
  const std::string s = ReadString(n, field);
  if (s == "true") return true;
  if (s == "false") return false;
  Fail(n, field, "expected true or false, got \"" + s + "\"");
}

int64_t ReadInt(const YAML::Node& n, const std::string& field) {
  const std::string s = ReadString(n, field);
  try {
    size_t used = 0;
    long long v = std::stoll(s, &used, 10);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  Fail(n, field, "expected an integer, got \"" + s + "\"");
}

std::vector<std::string> ReadStringList(const YAML::Node& n, const std::string& field) {
  if (!n.IsSequence()) Fail(n, field, "expected a list of strings, got " + Kind(n));
  std::vector<std::string> out;
  for (size_t i = 0; i < n.size(); ++i) {
    out.push_back(ReadString(n[i], field + "[" + std::to_string(i) + "]"));
    if (out.back().empty()) Fail(n[i], field + "[" + std::to_string(i) + "]", "must not be empty");
  }
  return out;
}

template <typename E>
E ReadEnum(const YAML::Node& n, const std::string& field, std::optional<E> (*from)(std::string_view),
           const char* allowed) {
  const std::string s = ReadString(n, field);
  std::optional<E> v = from(s);
  if (!v) Fail(n, field, "unknown value \"" + s + "\" (allowed: " + allowed + ")");
  return *v;
}

using FieldHandler = std::function<void(const YAML::Node& value, const std::string& field)>;

// Visits a mapping's fields; unknown and duplicate keys are errors.
void ForFields(const YAML::Node& map, const std::string& prefix,
               const std::map<std::string, FieldHandler>& handlers) {
  if (!map.IsMap()) Fail(map, prefix.empty() ? "policy" : prefix, "expected a mapping, got " + Kind(map));
  std::set<std::string> seen;
  for (const auto& kv : map) {
    const std::string key = ReadString(kv.first, prefix.empty() ? "key" : prefix + " key");
    const std::string field = prefix.empty() ? key : prefix + "." + key;
    if (!seen.insert(key).second) Fail(kv.first, field, "duplicate field");
    auto h = handlers.find(key);
    if (h == handlers.end()) {
      std::string known;
      for (const auto& [name, _] : handlers) known += (known.empty() ? "" : ", ") + name;
      Fail(kv.first, field, "unknown field (known: " + known + ")");
    }
    h->second(kv.second, field);
  }
}

std::string RuleList() {
  std::string s;
  for (std::string_view n : kRuleNames) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

std::vector<std::pair<RuleId, Action>> ReadRules(const YAML::Node& n, const std::string& field) {
  std::vector<std::pair<RuleId, Action>> out;
  if (!n.IsMap()) Fail(n, field, "expected a mapping of rule ID to action, got " + Kind(n));
  std::set<std::string> seen;
  for (const auto& kv : n) {
    const std::string id = ReadString(kv.first, field + " key");
    const std::string rule_field = field + "." + id;
    std::optional<RuleId> rule = RuleFromName(id);
    if (!rule) Fail(kv.first, rule_field, "unknown rule ID (known: " + RuleList() + ")");
    if (!seen.insert(id).second) Fail(kv.first, rule_field, "duplicate rule");
    out.emplace_back(*rule, ReadEnum<Action>(kv.second, rule_field, &ActionFromName,
                                             "deny, warn, audit, off, inherit"));
  }
  return out;
}

void ReadExemptions(const YAML::Node& n, const std::string& prefix, Exemptions* e) {
  ForFields(n, prefix,
            {{"namespaces", [&](auto& v, auto& f) { e->namespaces = ReadStringList(v, f); }},
             {"usernames", [&](auto& v, auto& f) { e->usernames = ReadStringList(v, f); }},
             {"images", [&](auto& v, auto& f) { e->images = ReadStringList(v, f); }},
             {"runtimeClassNames",
              [&](auto& v, auto& f) { e->runtime_class_names = ReadStringList(v, f); }}});
}

template <typename T>
std::vector<T> ReadList(const YAML::Node& n, const std::string& field,
                        const std::function<T(const YAML::Node&, const std::string&)>& item) {
  if (!n.IsSequence()) Fail(n, field, "expected a list, got " + Kind(n));
  std::vector<T> out;
  for (size_t i = 0; i < n.size(); ++i) out.push_back(item(n[i], field + "[" + std::to_string(i) + "]"));
  return out;
}

NamespaceOverride ReadNamespaceOverride(const YAML::Node& n, const std::string& prefix) {
  NamespaceOverride o;
  ForFields(n, prefix,
            {{"namespaces", [&](auto& v, auto& f) { o.namespaces = ReadStringList(v, f); }},
             {"mode",
              [&](auto& v, auto& f) {
                o.mode = ReadEnum<Mode>(v, f, &ModeFromName, "enforce, warn, audit");
              }},
             {"rules", [&](auto& v, auto& f) { o.rules = ReadRules(v, f); }}});
  if (o.namespaces.empty()) Fail(n, prefix + ".namespaces", "required and must not be empty");
  return o;
}

ImageOverride ReadImageOverride(const YAML::Node& n, const std::string& prefix) {
  ImageOverride o;
  bool has_image = false, has_user = false;
  ForFields(n, prefix,
            {{"image", [&](auto& v, auto& f) { o.image = ReadString(v, f); has_image = true; }},
             {"user", [&](auto& v, auto& f) { o.user = ReadString(v, f); has_user = true; }}});
  if (!has_image || o.image.empty()) Fail(n, prefix + ".image", "required");
  if (!has_user) Fail(n, prefix + ".user", "required (use \"\" for an image with no USER)");
  return o;
}

UidRange ReadUidRange(const YAML::Node& n, const std::string& prefix) {
  UidRange r;
  bool has_min = false, has_max = false;
  ForFields(n, prefix,
            {{"min", [&](auto& v, auto& f) { r.min = ReadInt(v, f); has_min = true; }},
             {"max", [&](auto& v, auto& f) { r.max = ReadInt(v, f); has_max = true; }}});
  if (!has_min || !has_max) Fail(n, prefix, "needs both min and max");
  if (r.min < 0 || r.max > kMaxUid || r.min > r.max) {
    Fail(n, prefix, "needs 0 <= min <= max <= 2147483647");
  }
  return r;
}

// A registry host[:port] pattern: no scheme, no path; compared in lower case.
std::string ReadHostPattern(const YAML::Node& n, const std::string& field) {
  std::string s = ReadString(n, field);
  if (s.empty()) Fail(n, field, "must not be empty");
  if (s.find("://") != std::string::npos) {
    Fail(n, field, "expected host[:port] without a scheme, got \"" + s + "\"");
  }
  for (char& c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                    c == ':' || c == '*' || c == '?' || c == '[' || c == ']';
    if (!ok) Fail(n, field, "expected a host[:port] pattern, got \"" + s + "\"");
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

// A platform of the cluster's nodes: os/arch[/variant].
Platform ReadPlatform(const YAML::Node& n, const std::string& field) {
  auto p = ParsePlatform(ReadString(n, field));
  if (!p) Fail(n, field, p.error());
  return p.value();
}

std::vector<std::string> ReadHostPatterns(const YAML::Node& n, const std::string& field) {
  return ReadList<std::string>(n, field, &ReadHostPattern);
}

// A mirror: HOST[:PORT][/PREFIX] without wildcards; the prefix is repository path components.
std::string ReadMirrorTarget(const YAML::Node& n, const std::string& field) {
  std::string s = ReadString(n, field);
  const auto bad = [&] {
    Fail(n, field, "expected HOST[:PORT][/PATH] without scheme or wildcards, got \"" + s + "\"");
  };
  if (s.empty() || s.find("://") != std::string::npos) bad();
  const size_t slash = s.find('/');
  for (size_t i = 0; i < s.size(); ++i) {
    char& c = s[i];
    const bool in_host = i < slash;
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                    (in_host ? (c == ':' || c == '[' || c == ']') : (c == '_' || c == '/'));
    if (!ok) bad();
    if (in_host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (slash == 0 || s.back() == '/' || s.find("//") != std::string::npos) bad();
  return s;
}

RegistryMirror ReadMirror(const YAML::Node& n, const std::string& prefix) {
  RegistryMirror m;
  ForFields(n, prefix,
            {{"registry", [&](auto& v, auto& f) { m.registry = ReadHostPattern(v, f); }},
             {"mirror", [&](auto& v, auto& f) { m.mirror = ReadMirrorTarget(v, f); }}});
  if (m.registry.empty()) Fail(n, prefix + ".registry", "required");
  if (m.mirror.empty()) Fail(n, prefix + ".mirror", "required");
  return m;
}

void ReadRegistries(const YAML::Node& n, const std::string& prefix, RegistryPolicy* r) {
  ForFields(n, prefix,
            {{"allow", [&](auto& v, auto& f) { r->allow = ReadHostPatterns(v, f); }},
             {"deny", [&](auto& v, auto& f) { r->deny = ReadHostPatterns(v, f); }},
             {"insecure", [&](auto& v, auto& f) { r->insecure = ReadHostPatterns(v, f); }},
             {"mirrors",
              [&](auto& v, auto& f) { r->mirrors = ReadList<RegistryMirror>(v, f, &ReadMirror); }}});
}

Policy ReadPolicy(const YAML::Node& root) {
  Policy p;
  std::optional<Preset> preset;
  std::vector<std::pair<RuleId, Action>> rules;
  ForFields(
      root, "",
      {{"apiVersion",
        [&](auto& v, auto& f) {
          if (ReadString(v, f) != kApiVersion) Fail(v, f, "must be " + std::string(kApiVersion));
        }},
       {"kind",
        [&](auto& v, auto& f) {
          if (ReadString(v, f) != "Policy") Fail(v, f, "must be Policy");
        }},
       {"mode", [&](auto& v, auto& f) { p.mode = ReadEnum<Mode>(v, f, &ModeFromName, "enforce, warn, audit"); }},
       {"preset",
        [&](auto& v, auto& f) {
          preset = ReadEnum<Preset>(v, f, &PresetFromName, "default, pss-restricted, pss-baseline");
        }},
       {"rules", [&](auto& v, auto& f) { rules = ReadRules(v, f); }},
       {"controllers",
        [&](auto& v, auto& f) {
          const std::string s = ReadString(v, f);
          if (s != "enforce" && s != "warn") Fail(v, f, "unknown value \"" + s + "\" (allowed: enforce, warn)");
          p.enforce_controllers = s == "enforce";
        }},
       {"userNamespaces",
        [&](auto& v, auto& f) {
          ForFields(v, f, {{"allowRoot", [&](auto& v2, auto& f2) {
                              p.allow_root_in_user_namespaces = ReadBool(v2, f2);
                            }}});
        }},
       {"onTimeout",
        [&](auto& v, auto& f) {
          const std::string s = ReadString(v, f);
          if (s != "deny" && s != "allow") Fail(v, f, "unknown value \"" + s + "\" (allowed: deny, allow)");
          p.on_timeout = s == "deny" ? OnTimeout::kDeny : OnTimeout::kAllowWithWarning;
        }},
       {"exemptions", [&](auto& v, auto& f) { ReadExemptions(v, f, &p.exemptions); }},
       {"namespaceOverrides",
        [&](auto& v, auto& f) {
          p.namespace_overrides = ReadList<NamespaceOverride>(v, f, &ReadNamespaceOverride);
        }},
       {"imageOverrides",
        [&](auto& v, auto& f) { p.image_overrides = ReadList<ImageOverride>(v, f, &ReadImageOverride); }},
       {"allowedUIDRanges",
        [&](auto& v, auto& f) { p.allowed_uid_ranges = ReadList<UidRange>(v, f, &ReadUidRange); }},
       {"registries", [&](auto& v, auto& f) { ReadRegistries(v, f, &p.registries); }},
       {"nodePlatforms",
        [&](auto& v, auto& f) { p.node_platforms = ReadList<Platform>(v, f, &ReadPlatform); }},
       {"namedUsers",
        [&](auto& v, auto& f) {
          const std::string s = ReadString(v, f);
          if (s != "assume" && s != "resolve") {
            Fail(v, f, "unknown value \"" + s + "\" (allowed: assume, resolve)");
          }
          p.named_users = s == "resolve" ? NamedUsers::kResolve : NamedUsers::kAssume;
        }}});
  if (preset) p.preset = *preset;
  p.rules = PresetRules(p.preset);
  for (const auto& [id, action] : rules) p.rules[static_cast<size_t>(id)] = action;
  return p;
}

}  // namespace

Result<Policy> ParsePolicy(std::string_view yaml_text) {
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsNull()) return Error{"policy is empty"};
    if (auto error = ResolveMergeKeys(root, MergeOrder::kOwnKeysWin)) return Error{*error};
    return ReadPolicy(root);
  } catch (const ParseFailure& f) {
    return Error{f.message};
  } catch (const YAML::Exception& e) {
    return Error{"line " + std::to_string(e.mark.line + 1) + ", column " +
                 std::to_string(e.mark.column + 1) + ": " + e.msg};
  } catch (const std::exception& e) {
    return Error{std::string("policy: ") + e.what()};
  }
}

std::string_view BuiltinDefaultPolicyYaml() {
  return R"(apiVersion: rootgate.io/v1alpha1
kind: Policy
mode: enforce
preset: default
controllers: enforce
userNamespaces:
  allowRoot: true
onTimeout: deny
)";
}

}  // namespace rootgate::policy
