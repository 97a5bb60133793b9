#include "policy/placement.h"

#include <algorithm>
#include <charconv>

namespace rootgate::policy {

using nlohmann::json;

namespace {

Error WrongType(const std::string& path, const char* want, const json& got) {
  return Error{path + ": expected " + want + ", got " + got.type_name()};
}

// The value a node of `platform` has for a platform label.
std::string LabelValue(const Platform& platform, std::string_view key) {
  return key.ends_with("/os") ? platform.os : platform.architecture;
}

bool IsInteger(const std::string& s, int64_t* out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

// One requirement against a node of `platform` (every node has both platform labels).
bool Matches(const LabelRequirement& r, const Platform& platform) {
  const std::string value = LabelValue(platform, r.key);
  const bool listed = std::find(r.values.begin(), r.values.end(), value) != r.values.end();
  using Op = LabelRequirement::Op;
  switch (r.op) {
    case Op::kIn:
      return listed;
    case Op::kNotIn:
      return !listed;
    case Op::kExists:
      return true;
    case Op::kDoesNotExist:
      return false;
    case Op::kGt:
    case Op::kLt: {
      // Kubernetes compares integers; os and architecture names never parse as one.
      int64_t have = 0, want = 0;
      if (r.values.size() != 1 || !IsInteger(value, &have) || !IsInteger(r.values[0], &want)) return false;
      return r.op == Op::kGt ? have > want : have < want;
    }
  }
  return false;
}

std::optional<LabelRequirement::Op> OpFromName(const std::string& s) {
  using Op = LabelRequirement::Op;
  if (s == "In") return Op::kIn;
  if (s == "NotIn") return Op::kNotIn;
  if (s == "Exists") return Op::kExists;
  if (s == "DoesNotExist") return Op::kDoesNotExist;
  if (s == "Gt") return Op::kGt;
  if (s == "Lt") return Op::kLt;
  return std::nullopt;
}

std::optional<Error> ReadNodeSelector(const json& spec, const std::string& path, Placement* out) {
  auto it = spec.find("nodeSelector");
  if (it == spec.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) return WrongType(path, "an object", *it);
  for (auto& [key, value] : it->items()) {
    if (!value.is_string()) return WrongType(path + "." + key, "a string", value);
    if (IsPlatformLabel(key)) out->node_selector.emplace_back(key, value.get<std::string>());
  }
  return std::nullopt;
}

Result<LabelRequirement> ReadRequirement(const json& e, const std::string& path) {
  if (!e.is_object()) return WrongType(path, "an object", e);
  LabelRequirement r;
  auto key = e.find("key");
  if (key == e.end() || !key->is_string()) return Error{path + ".key: expected a string"};
  r.key = key->get<std::string>();
  auto op = e.find("operator");
  if (op == e.end() || !op->is_string()) return Error{path + ".operator: expected a string"};
  auto parsed = OpFromName(op->get<std::string>());
  if (!parsed) {
    return Error{path + ".operator: unknown operator \"" + op->get<std::string>().substr(0, 40) +
                 "\" (allowed: In, NotIn, Exists, DoesNotExist, Gt, Lt)"};
  }
  r.op = *parsed;
  auto values = e.find("values");
  if (values != e.end() && !values->is_null()) {
    if (!values->is_array()) return WrongType(path + ".values", "a list", *values);
    for (size_t i = 0; i < values->size(); ++i) {
      const json& v = (*values)[i];
      if (!v.is_string()) return WrongType(path + ".values[" + std::to_string(i) + "]", "a string", v);
      r.values.push_back(v.get<std::string>());
    }
  }
  return r;
}

// One nodeSelectorTerm: nullopt when it has no requirement at all (it then matches no node).
Result<std::optional<std::vector<LabelRequirement>>> ReadTerm(const json& term, const std::string& path) {
  if (!term.is_object()) return WrongType(path, "an object", term);
  bool empty = true;
  std::vector<LabelRequirement> kept;
  for (const char* list : {"matchExpressions", "matchFields"}) {
    auto it = term.find(list);
    if (it == term.end() || it->is_null()) continue;
    const std::string list_path = path + "." + list;
    if (!it->is_array()) return WrongType(list_path, "a list", *it);
    for (size_t i = 0; i < it->size(); ++i) {
      auto r = ReadRequirement((*it)[i], list_path + "[" + std::to_string(i) + "]");
      if (!r) return Error{r.error()};
      empty = false;
      // matchFields select by metadata.name; they cannot exclude a platform.
      if (std::string_view(list) == "matchExpressions" && IsPlatformLabel(r.value().key)) {
        kept.push_back(std::move(r).value());
      }
    }
  }
  if (empty) return std::optional<std::vector<LabelRequirement>>();
  return std::optional<std::vector<LabelRequirement>>(std::move(kept));
}

// Walks one level: nullptr when absent or null, an error when not an object.
Result<const json*> Child(const json& parent, const char* key, const std::string& path) {
  auto it = parent.find(key);
  if (it == parent.end() || it->is_null()) return static_cast<const json*>(nullptr);
  if (!it->is_object()) return WrongType(path, "an object", *it);
  return &*it;
}

std::optional<Error> ReadAffinity(const json& spec, const std::string& spec_path, Placement* out) {
  std::string path = spec_path + ".affinity";
  auto affinity = Child(spec, "affinity", path);
  if (!affinity) return Error{affinity.error()};
  if (affinity.value() == nullptr) return std::nullopt;
  path += ".nodeAffinity";
  auto node = Child(*affinity.value(), "nodeAffinity", path);
  if (!node) return Error{node.error()};
  if (node.value() == nullptr) return std::nullopt;
  path += ".requiredDuringSchedulingIgnoredDuringExecution";
  auto required = Child(*node.value(), "requiredDuringSchedulingIgnoredDuringExecution", path);
  if (!required) return Error{required.error()};
  if (required.value() == nullptr) return std::nullopt;
  path += ".nodeSelectorTerms";
  out->required_terms.emplace();
  auto terms = required.value()->find("nodeSelectorTerms");
  if (terms == required.value()->end() || terms->is_null()) return std::nullopt;  // matches no node
  if (!terms->is_array()) return WrongType(path, "a list", *terms);
  for (size_t i = 0; i < terms->size(); ++i) {
    auto term = ReadTerm((*terms)[i], path + "[" + std::to_string(i) + "]");
    if (!term) return Error{term.error()};
    out->required_terms->push_back(std::move(term).value());
  }
  return std::nullopt;
}

}  // namespace

bool IsPlatformLabel(std::string_view key) {
  return key == "kubernetes.io/os" || key == "kubernetes.io/arch" ||
         key == "beta.kubernetes.io/os" || key == "beta.kubernetes.io/arch";
}

bool Placement::Allows(const Platform& platform) const {
  for (const auto& [key, value] : node_selector) {
    if (LabelValue(platform, key) != value) return false;
  }
  if (!required_terms) return true;
  for (const auto& term : *required_terms) {
    if (!term) continue;  // an empty term matches no node
    if (std::all_of(term->begin(), term->end(),
                    [&](const LabelRequirement& r) { return Matches(r, platform); })) {
      return true;
    }
  }
  return false;
}

Result<Placement> ReadPlacement(const json& pod_spec, const std::string& spec_path) {
  Placement out;
  if (auto e = ReadNodeSelector(pod_spec, spec_path + ".nodeSelector", &out)) return *e;
  if (auto e = ReadAffinity(pod_spec, spec_path, &out)) return *e;
  return out;
}

}  // namespace rootgate::policy
