// Multi-platform images (SEMANTICS.md, "The image's user"; issue 19): the platforms a pod can
// land on from nodeSelector and required node affinity (Kubernetes component-helpers
// nodeaffinity semantics), and the most privileged of their users applying.
#include "policy/platform_fact.h"

#include <doctest/doctest.h>

#include "policy/test_support.h"

namespace rootgate::policy {
namespace {

using nlohmann::json;
using testing::Apply;
using testing::BasePod;
using testing::Contains;
using testing::Decide;
using testing::FindingOf;
using testing::Ids;
using testing::kImage;

Platform P(const char* text) { return ParsePlatform(text).value(); }

// Arrays built element by element: a braced list of one json value is ambiguous in nlohmann.
json Array(const std::vector<json>& items) {
  json a = json::array();
  for (const json& i : items) a.push_back(i);
  return a;
}
json Term(const std::vector<json>& expressions) { return json{{"matchExpressions", Array(expressions)}}; }
json Expr(const char* key, const char* op, std::vector<std::string> values = {}) {
  json e = json::object();
  e["key"] = key;
  e["operator"] = op;
  if (!values.empty()) e["values"] = values;
  return e;
}
json RequiredRaw(const json& terms) {
  json r = json::object();
  r["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"] = terms;
  return r;
}
json Required(const std::vector<json>& terms) { return RequiredRaw(Array(terms)); }

// The platforms (of amd64, arm64, arm/v7, s390x on Linux and amd64 on Windows) a pod spec allows.
std::string Allowed(const json& spec_edits_pod) {
  auto view = BuildWorkloadView("", "Pod", spec_edits_pod);
  REQUIRE_MESSAGE(view.ok(), view.error());
  std::string out;
  for (const char* p : {"linux/amd64", "linux/arm64", "linux/arm/v7", "linux/s390x", "windows/amd64"}) {
    if (view.value().placement.Allows(P(p))) out += (out.empty() ? "" : " ") + std::string(p);
  }
  return out;
}

TEST_CASE("placement: nodeSelector and required node affinity on the platform labels") {
  const std::string all = "linux/amd64 linux/arm64 linux/arm/v7 linux/s390x windows/amd64";
  struct Case {
    const char* name;
    testing::Edits edits;
    std::string allowed;
  };
  const std::vector<Case> cases = {
      {"nothing set: every platform", {}, all},
      {"nodeSelector arch", {{"/spec/nodeSelector", {{"kubernetes.io/arch", "arm64"}}}}, "linux/arm64"},
      {"nodeSelector os", {{"/spec/nodeSelector", {{"kubernetes.io/os", "windows"}}}}, "windows/amd64"},
      {"nodeSelector os and arch, ANDed",
       {{"/spec/nodeSelector", {{"kubernetes.io/os", "linux"}, {"kubernetes.io/arch", "amd64"}}}},
       "linux/amd64"},
      {"nodeSelector beta label", {{"/spec/nodeSelector", {{"beta.kubernetes.io/arch", "arm"}}}}, "linux/arm/v7"},
      {"nodeSelector on another label does not restrict", {{"/spec/nodeSelector", {{"disk", "ssd"}}}}, all},
      {"affinity In", {{"/spec/affinity", Required({Term({Expr("kubernetes.io/arch", "In", {"arm64", "s390x"})})})}},
       "linux/arm64 linux/s390x"},
      {"affinity NotIn",
       {{"/spec/affinity", Required({Term({Expr("kubernetes.io/arch", "NotIn", {"amd64"})})})}},
       "linux/arm64 linux/arm/v7 linux/s390x"},
      {"affinity Exists", {{"/spec/affinity", Required({Term({Expr("kubernetes.io/arch", "Exists")})})}}, all},
      {"affinity DoesNotExist: every node has the label",
       {{"/spec/affinity", Required({Term({Expr("kubernetes.io/arch", "DoesNotExist")})})}}, ""},
      {"affinity Gt on arch: not an integer",
       {{"/spec/affinity", Required({Term({Expr("kubernetes.io/arch", "Gt", {"1"})})})}}, ""},
      {"expressions ANDed",
       {{"/spec/affinity", Required({Term({Expr("kubernetes.io/os", "In", {"linux"}),
                                           Expr("kubernetes.io/arch", "NotIn", {"amd64", "s390x"})})})}},
       "linux/arm64 linux/arm/v7"},
      {"terms ORed",
       {{"/spec/affinity", Required({Term({Expr("kubernetes.io/arch", "In", {"amd64"})}),
                                     Term({Expr("kubernetes.io/os", "In", {"windows"})})})}},
       "linux/amd64 windows/amd64"},
      {"an expression on another label is assumed satisfiable",
       {{"/spec/affinity", Required({Term({Expr("zone", "In", {"a"}), Expr("kubernetes.io/arch", "In", {"arm64"})})})}},
       "linux/arm64"},
      {"an empty term matches no node", {{"/spec/affinity", Required({json::object()})}}, ""},
      {"an empty term ORed with another", {{"/spec/affinity", Required({json::object(), Term({Expr("kubernetes.io/arch", "In", {"arm"})})})}},
       "linux/arm/v7"},
      {"matchFields only: any platform",
       {{"/spec/affinity", Required({json{{"matchFields", Array({Expr("metadata.name", "In", {"n1"})})}}})}}, all},
      {"nodeSelector and affinity both apply",
       {{"/spec/nodeSelector", {{"kubernetes.io/arch", "amd64"}}},
        {"/spec/affinity", Required({Term({Expr("kubernetes.io/arch", "NotIn", {"amd64"})})})}},
       ""},
      {"preferred affinity does not restrict",
       {{"/spec/affinity/nodeAffinity/preferredDuringSchedulingIgnoredDuringExecution",
         {{{"weight", 1}, {"preference", Term({Expr("kubernetes.io/arch", "In", {"arm64"})})}}}}},
       all},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(Allowed(Apply(BasePod(), c.edits)) == c.allowed);
  }
}

TEST_CASE("placement: bad fields are errors naming the field") {
  struct Case {
    testing::Edits edits;
    const char* error;
  };
  const std::vector<Case> cases = {
      {{{"/spec/nodeSelector", "arm64"}}, "spec.nodeSelector: expected an object, got string"},
      {{{"/spec/nodeSelector", {{"kubernetes.io/arch", 64}}}}, "spec.nodeSelector.kubernetes.io/arch: expected a string"},
      {{{"/spec/affinity", Required({Term({Expr("kubernetes.io/arch", "Near", {"x"})})})}},
       "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0]."
       "matchExpressions[0].operator: unknown operator \"Near\""},
      {{{"/spec/affinity", RequiredRaw("x")}},
       "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: expected a list"},
      {{{"/spec/affinity", Required({Term({json{{"key", "kubernetes.io/arch"}, {"operator", "In"}, {"values", Array({1})}}})})}},
       "matchExpressions[0].values[0]: expected a string"},
  };
  for (const Case& c : cases) {
    auto view = BuildWorkloadView("", "Pod", Apply(BasePod(), c.edits));
    CAPTURE(c.error);
    REQUIRE_FALSE(view.ok());
    CHECK(Contains(view.error(), c.error));
  }
}

TEST_CASE("PrivilegeOf: root over unknown over invalid over a name over a non-root uid") {
  CHECK(PrivilegeOf(ImageFact{true, "", "", ""}) == FactPrivilege::kRoot);
  CHECK(PrivilegeOf(ImageFact{true, "0:0", "", ""}) == FactPrivilege::kRoot);
  CHECK(PrivilegeOf(ImageFact{true, "root", "", ""}) == FactPrivilege::kRoot);
  CHECK(PrivilegeOf(ImageFact{true, "app", "", "", 0}) == FactPrivilege::kRoot);
  CHECK(PrivilegeOf(ImageFact{false, "", "", "timed out"}) == FactPrivilege::kUnknown);
  CHECK(PrivilegeOf(ImageFact{true, "4294967296", "", ""}) == FactPrivilege::kInvalid);
  CHECK(PrivilegeOf(ImageFact{true, "app", "", ""}) == FactPrivilege::kName);
  CHECK(PrivilegeOf(ImageFact{true, "app", "", "", 1000}) == FactPrivilege::kNonRoot);
  CHECK(PrivilegeOf(ImageFact{true, "1000", "", ""}) == FactPrivilege::kNonRoot);
  CHECK(FactPrivilege::kRoot > FactPrivilege::kUnknown);
  CHECK(FactPrivilege::kUnknown > FactPrivilege::kNonRoot);
}

// An index fact over (platform, user) entries; a user of nullptr is an entry whose config could
// not be read.
ImageFact Index(std::vector<std::pair<const char*, const char*>> entries) {
  ImageFact f{false, "", "registry registry.example.com", ""};
  for (const auto& [platform, user] : entries) {
    Platform p = std::string(platform).empty() ? Platform{} : P(platform);
    f.platforms.push_back({p, user ? ImageFact{true, user, "registry registry.example.com", ""}
                                   : ImageFact{false, "", "", "registry registry.example.com: 404 config"}});
  }
  return f;
}

TEST_CASE("a multi-platform image: every platform the pod can land on, the most privileged applies") {
  const ImageFact disagree = Index({{"linux/amd64", "1000"}, {"linux/arm64", "0"}, {"windows/amd64", "ContainerAdministrator"}});
  const ImageFact agree = Index({{"linux/amd64", "1000"}, {"linux/arm64", "1000"}, {"linux/arm/v7", "1000"}});
  const ImageFact arm_root = Index({{"linux/amd64", "1000"}, {"linux/arm/v7", ""}});
  const ImageFact one_unreadable = Index({{"linux/amd64", "1000"}, {"linux/arm64", nullptr}});
  const ImageFact windows_only = Index({{"windows/amd64", "ContainerUser"}});
  const ImageFact no_platform = Index({{"", "0"}});
  const json arm64 = json{{"kubernetes.io/arch", "arm64"}};
  const json amd64 = json{{"kubernetes.io/arch", "amd64"}};
  const json not_arm64 = Required({Term({Expr("kubernetes.io/arch", "NotIn", {"arm64"})})});
  const json in_amd64 = Required({Term({Expr("kubernetes.io/arch", "In", {"amd64"})})});
  struct Case {
    const char* name;
    const ImageFact* fact;
    testing::Edits edits;
    std::string violations;  // rule ids
    std::string in_message;  // in the first violation's message ("" when allowed)
  };
  const json windows_os = json{{"name", "windows"}};
  const std::vector<Case> cases = {
      {"disagreeing, no constraint: arm64 runs as root", &disagree, {}, "rootUser", "linux/arm64 runs as root"},
      {"disagreeing, nodeSelector arm64", &disagree, {{"/spec/nodeSelector", arm64}}, "rootUser", "linux/arm64 runs as root"},
      {"disagreeing, nodeSelector amd64", &disagree, {{"/spec/nodeSelector", amd64}}, "", ""},
      {"disagreeing, affinity In amd64", &disagree, {{"/spec/affinity", in_amd64}}, "", ""},
      {"disagreeing, affinity NotIn arm64", &disagree, {{"/spec/affinity", not_arm64}}, "", ""},
      {"disagreeing, runAsUser set: the image is not read", &disagree,
       {{"/spec/securityContext/runAsUser", 1000}}, "", ""},
      {"agreeing", &agree, {}, "", ""},
      {"arm/v7 root by default", &arm_root, {}, "rootUser", "linux/arm/v7 runs as root"},
      {"arm/v7 root, pinned to amd64", &arm_root, {{"/spec/nodeSelector", amd64}}, "", ""},
      {"one platform unreadable: unknown", &one_unreadable, {}, "unknownUser", "linux/arm64: registry registry.example.com: 404 config"},
      {"one platform unreadable, the pod avoids it", &one_unreadable, {{"/spec/affinity", not_arm64}}, "", ""},
      {"no platform the pod can land on", &disagree, {{"/spec/nodeSelector", json{{"kubernetes.io/arch", "s390x"}}}},
       "unknownUser", "no entry for a platform the pod can land on"},
      {"a Windows pod judges only Windows entries", &disagree, {{"/spec/os", windows_os}}, "rootUser",
       "windows/amd64 runs as root"},
      {"a Windows pod, non-admin Windows entry", &windows_only, {{"/spec/os", windows_os}}, "", ""},
      {"a Linux pod and a Windows-only index", &windows_only, {}, "unknownUser", "(Linux nodes; the index has windows/amd64)"},
      {"an entry without a platform counts for every pod", &no_platform, {{"/spec/nodeSelector", amd64}}, "rootUser",
       "an entry without a platform runs as root"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    ImageFactMap facts;
    facts.Set(kImage, *c.fact);
    const Decision d = Decide(Apply(BasePod(), c.edits), facts, Policy());
    CHECK(Ids(d.violations) == c.violations);
    if (!c.in_message.empty() && !d.violations.empty()) {
      CAPTURE(d.violations.front().message);
      CHECK(Contains(d.violations.front().message, c.in_message));
    }
  }
}

TEST_CASE("FactForPod: single-platform facts pass through; the message lists the platforms judged") {
  const ImageFact single{true, "0", "registry r", ""};
  CHECK(FactForPod(single, nullptr, false).user == "0");
  CHECK(FactForPod(single, nullptr, false).source == "registry r");
  const ImageFact f = FactForPod(Index({{"linux/amd64", "1000"}, {"linux/arm64", "0"}}), nullptr, false);
  CHECK(f.known);
  CHECK(f.user == "0");
  CHECK(f.source == "registry registry.example.com; linux/arm64 runs as root (of linux/amd64, linux/arm64, the most privileged applies)");
  const ImageFact first_of_equals = FactForPod(Index({{"linux/amd64", "1000"}, {"linux/arm64", "2000"}}), nullptr, false);
  CHECK(first_of_equals.user == "1000");
}

}  // namespace
}  // namespace rootgate::policy
