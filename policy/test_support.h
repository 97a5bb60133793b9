// Test-only helpers for the policy/ unit tests: the one minimal valid pod every case starts
// from, single-field edits to it, image facts, and rule-ID sets that print well in doctest.
// Not part of the library; include only from *_test.cpp.
#pragma once

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/evaluator.h"
#include "policy/workload.h"

namespace rootgate::policy::testing {

// The base pod's image, and an image whose config sets no USER (root by default).
inline constexpr const char* kImage = "registry.example.com/team/web:1.0";
inline constexpr const char* kRootImage = "registry.example.com/team/rootimg:1.0";

// The minimal valid pod: one container "web" running kImage, no securityContext at all.
inline nlohmann::json BasePod() {
  return nlohmann::json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "namespace": "demo"},
    "spec": {"containers": [{"name": "web", "image": "registry.example.com/team/web:1.0"}]}})");
}

// One edit: a JSON pointer into the object and the value to put there (null = unset, which the
// API server treats like an absent field). Missing parents are created.
using Edit = std::pair<std::string, nlohmann::json>;
using Edits = std::vector<Edit>;

inline nlohmann::json Apply(nlohmann::json doc, const Edits& edits) {
  for (const auto& [pointer, value] : edits) doc[nlohmann::json::json_pointer(pointer)] = value;
  return doc;
}

// Facts: kImage has config User `user` (nullptr: nothing known about kImage), kRootImage has
// no USER.
inline ImageFactMap FactsWithUser(const char* user) {
  ImageFactMap facts;
  if (user != nullptr) facts.Set(kImage, ImageFact{true, user, "", ""});
  facts.Set(kRootImage, ImageFact{true, "", "", ""});
  return facts;
}

inline Policy PolicyFor(Preset preset) {
  Policy p;
  p.preset = preset;
  p.rules = PresetRules(preset);
  return p;
}

inline Policy WithRule(Policy p, RuleId id, Action action) {
  p.rules[static_cast<size_t>(id)] = action;
  return p;
}

// Sorted, de-duplicated, comma-joined rule IDs: comparable and readable in a failure report.
inline std::string Ids(const std::set<std::string>& ids) {
  std::string s;
  for (const std::string& id : ids) s += (s.empty() ? "" : ",") + id;
  return s;
}

inline std::string Ids(const std::vector<Finding>& findings) {
  std::set<std::string> ids;
  for (const Finding& f : findings) ids.insert(std::string(RuleName(f.rule)));
  return Ids(ids);
}

// The first finding of `rule`, or a default Finding with an empty field when there is none.
inline Finding FindingOf(const std::vector<Finding>& findings, RuleId rule) {
  for (const Finding& f : findings) {
    if (f.rule == rule) return f;
  }
  return Finding{};
}

inline bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// Builds the view of `object` as `kind` and evaluates it in namespace `ns` for `username`.
inline Decision Decide(const nlohmann::json& object, const ImageFacts& facts, const Policy& policy,
                       std::string_view group = "", std::string_view kind = "Pod",
                       std::string_view ns = "demo", std::string_view username = "") {
  auto view = BuildWorkloadView(group, kind, object);
  if (!view.ok()) FAIL("BuildWorkloadView: " << view.error());
  return Evaluate(view.value(), facts, policy, EvalContext{ns, username, nullptr});
}

}  // namespace rootgate::policy::testing
