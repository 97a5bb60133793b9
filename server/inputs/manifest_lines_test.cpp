// Lines of finding fields in YAML and JSON manifests: the deepest existing node along the path,
// counted in the file (documents after the first, List items, AdmissionReview objects).
#include "server/inputs/manifest_lines.h"

#include <doctest/doctest.h>

#include <string>

#include "server/inputs/check_text.h"

namespace {

using rootgate::policy::BuiltinDefaultPolicy;
using rootgate::policy::NoImageFacts;
using rootgate::server::CheckReport;
using rootgate::server::CheckText;
using rootgate::server::FindingLine;
using rootgate::server::JoinFieldPath;
using rootgate::server::JsonFieldLines;
using rootgate::server::YamlFieldLine;

// The line of every violation of every result, "kind:line" joined by spaces.
std::string Lines(const std::string& text) {
  CheckReport report;
  CheckText("f", text, BuiltinDefaultPolicy(), NoImageFacts(), &report);
  std::string s;
  for (const auto& r : report.results) {
    for (const auto& f : r.decision.violations) {
      s += (s.empty() ? "" : " ") + r.kind + ":" + std::to_string(FindingLine(r, f));
    }
  }
  return s;
}

TEST_CASE("JoinFieldPath") {
  CHECK(JoinFieldPath("", "spec.x") == "spec.x");
  CHECK(JoinFieldPath("items[2]", "spec.x") == "items[2].spec.x");
  CHECK(JoinFieldPath("[0]", "Config.User") == "[0].Config.User");
}

TEST_CASE("YamlFieldLine: the key of the deepest existing entry, else the item") {
  const YAML::Node n = YAML::Load("a:\n  list:\n    - x: 1\n      y:\n        z: 2\n    - w: 3\n");
  CHECK(YamlFieldLine(n, 10, "a.list[0].y.z") == 14);
  CHECK(YamlFieldLine(n, 10, "a.list[0].y.missing") == 13);
  CHECK(YamlFieldLine(n, 10, "a.list[1].w") == 15);
  CHECK(YamlFieldLine(n, 10, "a.list[7].w") == 11);
  CHECK(YamlFieldLine(n, 10, "nope") == 10);
}

TEST_CASE("JsonFieldLines: keys and array items, deepest existing prefix") {
  const std::string text = "\n{\"a\": {\n  \"list\": [\n    {\"x\": 1},\n    {\"y\": {\"z\": \"q\\\"}\"}}\n  ]}}\n";
  const auto lines = JsonFieldLines(text, {"a.list[1].y.z", "a.list[0].nope", "b"});
  CHECK(lines.at("a.list[1].y.z") == 5);
  CHECK(lines.at("a.list[0].nope") == 4);
  CHECK(lines.at("b") == 2);
}

TEST_CASE("YAML findings point at the offending field, or the container when it is unset") {
  const std::string text =
      "apiVersion: v1\n"           // 1
      "kind: Service\n"
      "metadata: {name: s}\n"
      "---\n"
      "apiVersion: v1\n"           // 5
      "kind: Pod\n"
      "metadata: {name: p}\n"
      "spec:\n"
      "  containers:\n"
      "  - name: a\n"              // 10
      "    image: busybox\n"
      "    securityContext:\n"
      "      runAsUser: 0\n"       // 13
      "  - name: b\n"              // 14
      "    image: busybox\n"
      "    securityContext: {runAsUser: 5, privileged: true}\n";  // 16
  CHECK(Lines(text) == "Pod:13 Pod:16");
  // Without a securityContext, an unknown user points at the container item.
  CHECK(Lines("kind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n") == "Pod:6");
}

TEST_CASE("JSON List items: findings point into the item") {
  const std::string text =
      "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n"
      " {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"a\"},\n"
      "  \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"x\", \"securityContext\": {\"runAsUser\": 1}}]}},\n"
      " {\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"b\"},\n"
      "  \"spec\": {\n"
      "   \"containers\": [{\"name\": \"c\", \"image\": \"x\",\n"
      "     \"securityContext\": {\n"
      "       \"runAsUser\": 0}}]}}]}\n";
  CHECK(Lines(text) == "Pod:8");
}

}  // namespace
