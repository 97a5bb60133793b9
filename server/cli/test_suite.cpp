// Suite parsing and case judging for `rootgate test` (see test_suite.h).
#include "server/cli/test_suite.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>

#include "policy/rule_id.h"
#include "policy/yaml_merge.h"

namespace rootgate::server {

namespace {

namespace fs = std::filesystem;

std::string At(const YAML::Node& node, const std::string& field, const std::string& message) {
  return "line " + std::to_string(node.Mark().line + 1) + ": " + field + ": " + message;
}

std::string Resolve(const std::string& suite_path, const std::string& path) {
  if (fs::path(path).is_absolute()) return fs::path(path).lexically_normal().string();
  return (fs::path(suite_path).parent_path() / path).lexically_normal().string();
}

std::string Normal(const std::string& path) { return fs::path(path).lexically_normal().string(); }

Result<std::string> ReadString(const YAML::Node& node, const std::string& field) {
  if (!node.IsScalar()) return Error{At(node, field, "expected a string")};
  return node.Scalar();
}

Result<std::vector<std::string>> ReadStrings(const YAML::Node& node, const std::string& field) {
  if (!node.IsSequence()) return Error{At(node, field, "expected a list of strings")};
  std::vector<std::string> out;
  for (size_t i = 0; i < node.size(); ++i) {
    auto s = ReadString(node[i], field + "[" + std::to_string(i) + "]");
    if (!s) return Error{s.error()};
    out.push_back(s.value());
  }
  return out;
}

Result<std::set<std::string>> ReadRuleIds(const YAML::Node& node, const std::string& field) {
  auto list = ReadStrings(node, field);
  if (!list) return Error{list.error()};
  std::set<std::string> ids;
  for (size_t i = 0; i < list.value().size(); ++i) {
    const std::string& id = list.value()[i];
    if (!policy::RuleFromName(id)) {
      std::string known;
      for (std::string_view n : policy::kRuleNames) known += (known.empty() ? "" : ", ") + std::string(n);
      return Error{At(node[i], field + "[" + std::to_string(i) + "]",
                      "unknown rule ID \"" + id + "\" (known: " + known + ")")};
    }
    ids.insert(id);
  }
  return ids;
}

// Calls `read(key, value)` for each entry of a mapping; refuses keys outside `known`.
std::optional<std::string> ForEachField(
    const YAML::Node& map, const std::string& where, const std::vector<std::string>& known,
    const std::function<std::optional<std::string>(const std::string&, const YAML::Node&)>& read) {
  if (!map.IsMap()) return At(map, where.empty() ? "suite" : where, "expected a mapping");
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.Scalar();
    const std::string field = where.empty() ? key : where + "." + key;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      return At(it->first, field, "unknown field (known: " + list + ")");
    }
    if (auto error = read(key, it->second)) return error;
  }
  return std::nullopt;
}

std::optional<CaseVerdict> CaseVerdictFromName(std::string_view s) {
  if (s == "allow") return CaseVerdict::kAllow;
  if (s == "deny") return CaseVerdict::kDeny;
  if (s == "skip") return CaseVerdict::kSkip;
  return std::nullopt;
}

Result<SuiteCase> ReadCase(const YAML::Node& node, const std::string& where, const std::string& suite_path) {
  SuiteCase c;
  c.line = node.Mark().line + 1;
  bool has_expect = false;
  const auto read = [&](const std::string& key, const YAML::Node& v) -> std::optional<std::string> {
    const std::string field = where + "." + key;
    if (key == "rules" || key == "warnings") {
      auto ids = ReadRuleIds(v, field);
      if (!ids) return ids.error();
      (key == "rules" ? c.rules : c.warnings) = ids.value();
      return std::nullopt;
    }
    auto s = ReadString(v, field);
    if (!s) return s.error();
    if (key == "expect") {
      auto verdict = CaseVerdictFromName(s.value());
      if (!verdict) return At(v, field, "expected allow, deny or skip, got \"" + s.value() + "\"");
      c.expect = *verdict;
      has_expect = true;
    } else if (key == "document") {
      size_t n = 0;
      const std::string& t = s.value();
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (ec != std::errc() || end != t.data() + t.size()) return At(v, field, "expected a document index (0, 1, ...)");
      c.document = n;
    } else {
      std::optional<std::string>& target = key == "kind" ? c.kind : key == "namespace" ? c.namespace_name
                                         : key == "name" ? c.name : c.file;
      target = key == "file" ? Resolve(suite_path, s.value()) : s.value();
    }
    return std::nullopt;
  };
  if (auto error = ForEachField(node, where, {"kind", "namespace", "name", "file", "document", "expect", "rules", "warnings"}, read)) {
    return Error{*error};
  }
  if (!has_expect) return Error{At(node, where + ".expect", "missing (allow, deny or skip)")};
  if (!c.kind && !c.namespace_name && !c.name && !c.file) {
    return Error{At(node, where, "give at least one of kind, namespace, name, file")};
  }
  if (c.expect != CaseVerdict::kDeny && c.rules && !c.rules->empty()) {
    return Error{At(node, where + ".rules", "denied rule IDs only go with expect: deny")};
  }
  return c;
}

Result<Suite> ReadSuite(const YAML::Node& root, const std::string& suite_path) {
  Suite s;
  s.path = suite_path;
  s.name = suite_path;
  std::optional<YAML::Node> cases_node, resources_node;
  const auto read = [&](const std::string& key, const YAML::Node& v) -> std::optional<std::string> {
    if (key == "cases") return cases_node = v, std::nullopt;
    if (key == "resources") return resources_node = v, std::nullopt;
    if (key == "buildArgs") {
      if (!v.IsMap()) return At(v, key, "expected a mapping of NAME: value");
      for (auto it = v.begin(); it != v.end(); ++it) {
        auto value = ReadString(it->second, "buildArgs." + it->first.Scalar());
        if (!value) return value.error();
        s.build_args[it->first.Scalar()] = value.value();
      }
      return std::nullopt;
    }
    auto value = ReadString(v, key);
    if (!value) return value.error();
    if (key == "name") s.name = value.value();
    if (key == "preset") s.preset = value.value();
    if (key == "policy") s.policy_file = Resolve(suite_path, value.value());
    return std::nullopt;
  };
  if (auto error = ForEachField(root, "", {"name", "preset", "policy", "resources", "buildArgs", "cases"}, read)) {
    return Error{*error};
  }
  if (!s.preset.empty() && !s.policy_file.empty()) return Error{At(root, "policy", "give policy or preset, not both")};
  if (!resources_node) return Error{At(root, "resources", "missing: the files or directories to check")};
  auto resources = ReadStrings(*resources_node, "resources");
  if (!resources) return Error{resources.error()};
  if (resources.value().empty()) return Error{At(*resources_node, "resources", "empty")};
  for (const std::string& r : resources.value()) s.resources.push_back(Resolve(suite_path, r));
  if (!cases_node || !cases_node->IsSequence() || cases_node->size() == 0) {
    return Error{At(cases_node ? *cases_node : root, "cases", "expected a non-empty list of cases")};
  }
  for (size_t i = 0; i < cases_node->size(); ++i) {
    auto c = ReadCase((*cases_node)[i], "cases[" + std::to_string(i) + "]", suite_path);
    if (!c) return Error{c.error()};
    s.cases.push_back(std::move(c).value());
  }
  return s;
}

std::set<std::string> RuleSet(const std::vector<policy::Finding>& findings) {
  std::set<std::string> ids;
  for (const policy::Finding& f : findings) ids.insert(std::string(policy::RuleName(f.rule)));
  return ids;
}

std::string SetText(const std::set<std::string>& ids) {
  std::string s;
  for (const std::string& id : ids) s += (s.empty() ? "" : ", ") + id;
  return "[" + s + "]";
}

// "skip", "allow", "deny [rootUser]", with ", warn [unknownUser]" when something warns.
std::string Got(const CheckResult& r) {
  if (r.skipped) return "skip";
  std::string s = r.decision.allowed ? "allow" : "deny " + SetText(RuleSet(r.decision.violations));
  if (!r.decision.warnings.empty()) s += ", warn " + SetText(RuleSet(r.decision.warnings));
  return s;
}

bool Matches(const SuiteCase& c, const CheckResult& r) {
  return (!c.kind || *c.kind == r.kind) && (!c.namespace_name || *c.namespace_name == r.namespace_name) &&
         (!c.name || *c.name == r.name) && (!c.file || *c.file == Normal(r.source)) &&
         (!c.document || *c.document == r.document);
}

}  // namespace

std::string_view CaseVerdictName(CaseVerdict v) {
  switch (v) {
    case CaseVerdict::kAllow:
      return "allow";
    case CaseVerdict::kDeny:
      return "deny";
    case CaseVerdict::kSkip:
      return "skip";
  }
  return "allow";
}

std::string SuiteCase::Label() const {
  std::string s = kind.value_or("any kind");
  if (namespace_name || name) s += " " + (namespace_name ? *namespace_name + "/" : "") + name.value_or("*");
  if (file) s += " in " + *file;
  if (document) s += "#" + std::to_string(*document);
  return s;
}

Result<Suite> ParseSuite(std::string_view yaml_text, const std::string& suite_path) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    if (!root.IsDefined() || root.IsNull()) return Error{"line 1: suite: empty file"};
    if (auto error = policy::ResolveMergeKeys(root, policy::MergeOrder::kOwnKeysWin)) {
      return Error{*error};
    }
    return ReadSuite(root, suite_path);
  } catch (const YAML::Exception& e) {
    return Error{"line " + std::to_string(e.mark.line + 1) + ": " + e.msg};
  }
}

CaseOutcome JudgeCase(const SuiteCase& c, const CheckReport& report) {
  CaseOutcome o;
  std::vector<const CheckResult*> found;
  for (const CheckResult& r : report.results) {
    if (Matches(c, r)) found.push_back(&r);
  }
  if (found.size() != 1) {
    o.detail = found.empty() ? "no result matches " + c.Label()
                             : std::to_string(found.size()) + " results match " + c.Label() +
                                   "; add namespace, file or document to pick one";
    return o;
  }
  const CheckResult& r = *found[0];
  o.got = Got(r);
  o.where = r.source + (r.kind == "Dockerfile" ? ":" + std::to_string(r.line) : "#" + std::to_string(r.document));
  const CaseVerdict got = r.skipped ? CaseVerdict::kSkip : r.decision.allowed ? CaseVerdict::kAllow : CaseVerdict::kDeny;
  if (got != c.expect) {
    o.detail = "expected " + std::string(CaseVerdictName(c.expect)) + ", got " + o.got;
  } else if (c.rules && *c.rules != RuleSet(r.decision.violations)) {
    o.detail = "expected denied rules " + SetText(*c.rules) + ", got " + SetText(RuleSet(r.decision.violations));
  } else if (c.warnings && *c.warnings != RuleSet(r.decision.warnings)) {
    o.detail = "expected warnings " + SetText(*c.warnings) + ", got " + SetText(RuleSet(r.decision.warnings));
  }
  o.passed = o.detail.empty();
  return o;
}

}  // namespace rootgate::server
