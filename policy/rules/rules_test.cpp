// Every rule and every preset, table-driven: each row is the minimal valid pod of
// policy/test_support.h with one change, and the rule IDs SEMANTICS.md says it violates (and
// warns about). Expected values come from SEMANTICS.md and Pod Security Admission's
// check_runAsNonRoot / check_runAsUser / check_privileged, never from rootgate's output.
#include <doctest/doctest.h>

#include "policy/test_support.h"

namespace {

using namespace rootgate::policy;
using namespace rootgate::policy::testing;
using nlohmann::json;

constexpr const char* kSc = "/spec/containers/0/securityContext";
constexpr const char* kPodSc = "/spec/securityContext";

std::string P(const char* base, const char* leaf) { return std::string(base) + leaf; }

json Container(const char* name, const char* image, json security = nullptr) {
  json c = {{"name", name}, {"image", image}};
  if (!security.is_null()) c["securityContext"] = std::move(security);
  return c;
}

struct Row {
  const char* name;
  Edits edits;
  const char* image_user;  // kImage's config User; nullptr: unknown
  std::set<std::string> denied;
  std::set<std::string> warned = {};
};

void RunTable(const Policy& policy, const std::vector<Row>& rows) {
  for (const Row& r : rows) {
    INFO("case: " << std::string(r.name));
    const json pod = Apply(BasePod(), r.edits);
    const Decision d = Decide(pod, FactsWithUser(r.image_user), policy);
    CHECK(Ids(d.violations) == Ids(r.denied));
    CHECK(Ids(d.warnings) == Ids(r.warned));
    CHECK(d.audits.empty());
    CHECK(d.allowed == r.denied.empty());
    CHECK(d.evaluated);
  }
}

const std::set<std::string> kNone;
const std::set<std::string> kRoot = {"rootUser"};
const std::set<std::string> kUnknown = {"unknownUser"};
const std::set<std::string> kPriv = {"privileged"};

TEST_CASE("default preset: who the container runs as (Linux)") {
  const std::vector<Row> rows = {
      {"base pod, image USER 1000", {}, "1000", kNone},
      {"container runAsUser 0", {{P(kSc, "/runAsUser"), 0}}, "1000", kRoot},
      {"pod runAsUser 0", {{P(kPodSc, "/runAsUser"), 0}}, "1000", kRoot},
      {"container 1000 overrides pod 0",
       {{P(kPodSc, "/runAsUser"), 0}, {P(kSc, "/runAsUser"), 1000}},
       "1000",
       kNone},
      {"container 0 overrides pod 1000",
       {{P(kPodSc, "/runAsUser"), 1000}, {P(kSc, "/runAsUser"), 0}},
       "1000",
       kRoot},
      {"runAsUser 1000 over a root image", {{P(kSc, "/runAsUser"), 1000}}, "0", kNone},
      {"image has no USER", {}, "", kRoot},
      {"image USER 0", {}, "0", kRoot},
      {"image USER 0000", {}, "0000", kRoot},
      {"image USER 0:1000", {}, "0:1000", kRoot},
      {"image USER +0", {}, "+0", kRoot},
      {"image USER root", {}, "root", kRoot},
      {"image USER root:root", {}, "root:root", kRoot},
      {"image USER :1000 (empty user part)", {}, ":1000", kRoot},
      {"image USER 1000:0 (group ignored)", {}, "1000:0", kNone},
      {"image USER 2147483647", {}, "2147483647", kNone},
      // A name with no /etc/passwd read for it (these facts give none): unknown, fail closed.
      {"image USER nginx, uid not resolved: unknown", {}, "nginx", kUnknown},
      {"image USER nginx, pod runAsNonRoot",
       {{P(kPodSc, "/runAsNonRoot"), true}},
       "nginx",
       kUnknown},
      {"image USER nginx, container runAsNonRoot",
       {{P(kSc, "/runAsNonRoot"), true}},
       "nginx",
       kUnknown},
      {"image USER nginx, runAsUser 101", {{P(kSc, "/runAsUser"), 101}}, "nginx", kNone},
      {"image USER nginx, runAsNonRoot false",
       {{P(kSc, "/runAsNonRoot"), false}},
       "nginx",
       kUnknown},
      {"image unknown", {}, nullptr, kUnknown},
      {"image unknown, pod runAsNonRoot", {{P(kPodSc, "/runAsNonRoot"), true}}, nullptr, kNone},
      {"image unknown, container runAsNonRoot", {{P(kSc, "/runAsNonRoot"), true}}, nullptr, kNone},
      {"image unknown, container false overrides pod true",
       {{P(kPodSc, "/runAsNonRoot"), true}, {P(kSc, "/runAsNonRoot"), false}},
       nullptr,
       kUnknown},
      {"image unknown, runAsUser 1000", {{P(kSc, "/runAsUser"), 1000}}, nullptr, kNone},
      {"image unknown, runAsUser 0", {{P(kSc, "/runAsUser"), 0}}, nullptr, kRoot},
      {"runAsNonRoot true and runAsUser 0",
       {{P(kSc, "/runAsNonRoot"), true}, {P(kSc, "/runAsUser"), 0}},
       "1000",
       kRoot},
      {"runAsNonRoot true, image has no USER", {{P(kPodSc, "/runAsNonRoot"), true}}, "", kRoot},
      {"runAsNonRoot true, image USER root", {{P(kSc, "/runAsNonRoot"), true}}, "root", kRoot},
      {"hostUsers false, runAsUser 0",
       {{"/spec/hostUsers", false}, {P(kSc, "/runAsUser"), 0}},
       "1000",
       kNone},
      {"hostUsers false, image no USER", {{"/spec/hostUsers", false}}, "", kNone},
      {"hostUsers false, image unknown", {{"/spec/hostUsers", false}}, nullptr, kNone},
      {"hostUsers false, image USER nginx (no warning)",
       {{"/spec/hostUsers", false}},
       "nginx",
       kNone},
      {"hostUsers false, privileged",
       {{"/spec/hostUsers", false}, {P(kSc, "/privileged"), true}},
       "1000",
       kPriv},
      {"hostUsers true, runAsUser 0",
       {{"/spec/hostUsers", true}, {P(kSc, "/runAsUser"), 0}},
       "1000",
       kRoot},
      {"second container with a root image",
       {{"/spec/containers/1", Container("b", kRootImage)}},
       "1000",
       kRoot},
      {"init container runAsUser 0",
       {{"/spec/initContainers/0", Container("init", kImage, {{"runAsUser", 0}})}},
       "1000",
       kRoot},
      {"ephemeral container, unknown image",
       {{"/spec/ephemeralContainers/0", Container("debug", "busybox:1.36")}},
       "1000",
       kUnknown},
      {"invalid image reference", {{"/spec/containers/0/image", "UPPER/Case"}}, "1000", kUnknown},
  };
  RunTable(BuiltinDefaultPolicy(), rows);
}

TEST_CASE("default preset: user namespaces when the policy does not allow root in them") {
  Policy policy;
  policy.allow_root_in_user_namespaces = false;
  const Edit userns = {"/spec/hostUsers", false};
  const std::vector<Row> rows = {
      {"hostUsers false, runAsUser 0", {userns, {P(kSc, "/runAsUser"), 0}}, "1000", kRoot},
      {"hostUsers false, image no USER", {userns}, "", kRoot},
      {"hostUsers false, image unknown", {userns}, nullptr, kUnknown},
      {"hostUsers false, image USER nginx", {userns}, "nginx", kUnknown},
      {"hostUsers false, image USER 1000", {userns}, "1000", kNone},
  };
  RunTable(policy, rows);
}

TEST_CASE("default preset: privileged in every kind of container") {
  const json priv = {{"privileged", true}};
  const std::vector<Row> rows = {
      {"regular container", {{P(kSc, "/privileged"), true}}, "1000", kPriv},
      {"privileged false", {{P(kSc, "/privileged"), false}}, "1000", kNone},
      {"init container",
       {{"/spec/initContainers/0", Container("init", kImage, priv)}},
       "1000",
       kPriv},
      {"restartable sidecar",
       {{"/spec/initContainers/0", json{{"name", "proxy"},
                                        {"image", kImage},
                                        {"restartPolicy", "Always"},
                                        {"securityContext", priv}}}},
       "1000",
       kPriv},
      {"ephemeral container",
       {{"/spec/ephemeralContainers/0", Container("dbg", kImage, priv)}},
       "1000",
       kPriv},
      {"privileged with runAsUser 1000 and runAsNonRoot",
       {{P(kSc, "/privileged"), true},
        {P(kSc, "/runAsUser"), 1000},
        {P(kSc, "/runAsNonRoot"), true}},
       "1000",
       kPriv},
  };
  RunTable(BuiltinDefaultPolicy(), rows);
}

TEST_CASE("default preset: Windows pods") {
  const Edit windows = {"/spec/os/name", "windows"};
  const char* win = "/spec/containers/0/securityContext/windowsOptions/runAsUserName";
  const char* pod_win = "/spec/securityContext/windowsOptions/runAsUserName";
  const std::vector<Row> rows = {
      {"ContainerUser image", {windows}, "ContainerUser", kNone},
      {"runAsUserName ContainerAdministrator",
       {windows, {win, "ContainerAdministrator"}},
       "ContainerUser",
       kRoot},
      {"runAsUserName containeradministrator",
       {windows, {win, "containeradministrator"}},
       "ContainerUser",
       kRoot},
      {"runAsUserName CONTAINERADMINISTRATOR",
       {windows, {win, "CONTAINERADMINISTRATOR"}},
       "ContainerUser",
       kRoot},
      {"runAsUserName ContainerUser", {windows, {win, "ContainerUser"}}, "ContainerUser", kNone},
      {"pod ContainerAdministrator",
       {windows, {pod_win, "ContainerAdministrator"}},
       "ContainerUser",
       kRoot},
      {"container ContainerUser overrides pod ContainerAdministrator",
       {windows, {pod_win, "ContainerAdministrator"}, {win, "ContainerUser"}},
       "ContainerUser",
       kNone},
      {"image user ContainerAdministrator", {windows}, "ContainerAdministrator", kRoot},
      {"image user containeradministrator", {windows}, "containeradministrator", kRoot},
      {"runAsUserName ContainerUser over an administrator image",
       {windows, {win, "ContainerUser"}},
       "ContainerAdministrator",
       kNone},
  };
  RunTable(BuiltinDefaultPolicy(), rows);
}

TEST_CASE("pss-restricted preset: runAsNonRoot, runAsUser, privileged as PSA") {
  const Edit pod_nonroot = {P(kPodSc, "/runAsNonRoot"), true};
  const std::set<std::string> nonroot = {"runAsNonRoot"}, uid = {"runAsUser"};
  const std::vector<Row> rows = {
      {"pod unset, container unset", {}, "1000", nonroot},
      {"pod true, container unset", {pod_nonroot}, "1000", kNone},
      {"pod unset, container true", {{P(kSc, "/runAsNonRoot"), true}}, "1000", kNone},
      {"pod false, container true",
       {{P(kPodSc, "/runAsNonRoot"), false}, {P(kSc, "/runAsNonRoot"), true}},
       "1000",
       nonroot},
      {"pod true, container false",
       {pod_nonroot, {P(kSc, "/runAsNonRoot"), false}},
       "1000",
       nonroot},
      {"container false", {{P(kSc, "/runAsNonRoot"), false}}, "1000", nonroot},
      {"pod true covers an init container",
       {pod_nonroot, {"/spec/initContainers/0", Container("init", kImage)}},
       "1000",
       kNone},
      {"container true, init container unset",
       {{P(kSc, "/runAsNonRoot"), true}, {"/spec/initContainers/0", Container("init", kImage)}},
       "1000",
       nonroot},
      {"container true, ephemeral container unset",
       {{P(kSc, "/runAsNonRoot"), true}, {"/spec/ephemeralContainers/0", Container("dbg", kImage)}},
       "1000",
       nonroot},
      {"hostUsers false skips runAsNonRoot", {{"/spec/hostUsers", false}}, "1000", kNone},
      {"Windows pod is not exempt", {{"/spec/os/name", "windows"}}, "ContainerUser", nonroot},
      {"pod runAsUser 0", {pod_nonroot, {P(kPodSc, "/runAsUser"), 0}}, "1000", uid},
      {"pod runAsUser 0, container 1000",
       {pod_nonroot, {P(kPodSc, "/runAsUser"), 0}, {P(kSc, "/runAsUser"), 1000}},
       "1000",
       uid},
      {"container runAsUser 0", {pod_nonroot, {P(kSc, "/runAsUser"), 0}}, "1000", uid},
      {"container runAsUser 1000", {pod_nonroot, {P(kSc, "/runAsUser"), 1000}}, "1000", kNone},
      {"hostUsers false skips runAsUser",
       {{"/spec/hostUsers", false}, {P(kPodSc, "/runAsUser"), 0}},
       "1000",
       kNone},
      {"image without USER is not read", {pod_nonroot}, "", kNone},
      {"unknown image is not read", {pod_nonroot}, nullptr, kNone},
      {"privileged", {pod_nonroot, {P(kSc, "/privileged"), true}}, "1000", kPriv},
      {"allowPrivilegeEscalation is not in the preset",
       {pod_nonroot, {P(kSc, "/allowPrivilegeEscalation"), true}},
       "1000",
       kNone},
  };
  RunTable(PolicyFor(Preset::kPssRestricted), rows);
}

TEST_CASE("pss-baseline preset: privileged alone") {
  const std::vector<Row> rows = {
      {"base pod", {}, "1000", kNone},
      {"runAsUser 0", {{P(kSc, "/runAsUser"), 0}}, "1000", kNone},
      {"image without USER", {}, "", kNone},
      {"unknown image", {}, nullptr, kNone},
      {"runAsNonRoot false", {{P(kPodSc, "/runAsNonRoot"), false}}, "1000", kNone},
      {"privileged", {{P(kSc, "/privileged"), true}}, "1000", kPriv},
      {"privileged init container",
       {{"/spec/initContainers/0", Container("init", kImage, {{"privileged", true}})}},
       "1000",
       kPriv},
  };
  RunTable(PolicyFor(Preset::kPssBaseline), rows);
}

TEST_CASE("optional rootGroup: effective runAsGroup 0") {
  const std::set<std::string> group = {"rootGroup"};
  const std::vector<Row> rows = {
      {"unset", {}, "1000", kNone},
      {"pod runAsGroup 0", {{P(kPodSc, "/runAsGroup"), 0}}, "1000", group},
      {"container runAsGroup 0", {{P(kSc, "/runAsGroup"), 0}}, "1000", group},
      {"container 1000 overrides pod 0",
       {{P(kPodSc, "/runAsGroup"), 0}, {P(kSc, "/runAsGroup"), 1000}},
       "1000",
       kNone},
      {"container 0 overrides pod 1000",
       {{P(kPodSc, "/runAsGroup"), 1000}, {P(kSc, "/runAsGroup"), 0}},
       "1000",
       group},
  };
  RunTable(WithRule(BuiltinDefaultPolicy(), RuleId::kRootGroup, Action::kInherit), rows);
}

TEST_CASE("optional allowPrivilegeEscalation: must be explicitly false") {
  const std::set<std::string> ape = {"allowPrivilegeEscalation"};
  const char* field = "/spec/containers/0/securityContext/allowPrivilegeEscalation";
  const std::vector<Row> rows = {
      {"unset", {}, "1000", ape},
      {"true", {{field, true}}, "1000", ape},
      {"false", {{field, false}}, "1000", kNone},
      {"Windows pod is exempt", {{"/spec/os/name", "windows"}}, "ContainerUser", kNone},
      {"init container unset",
       {{field, false}, {"/spec/initContainers/0", Container("init", kImage)}},
       "1000",
       ape},
  };
  RunTable(WithRule(BuiltinDefaultPolicy(), RuleId::kAllowPrivilegeEscalation, Action::kInherit),
           rows);
}

TEST_CASE("optional uidRange: known uid inside the allowed ranges") {
  Policy policy = WithRule(BuiltinDefaultPolicy(), RuleId::kUidRange, Action::kInherit);
  policy.allowed_uid_ranges = {{1000, 1999}, {5000, 5000}};
  const std::set<std::string> range = {"uidRange"};
  const std::vector<Row> rows = {
      {"image uid 1000 (lower bound)", {}, "1000", kNone},
      {"runAsUser 1999 (upper bound)", {{P(kSc, "/runAsUser"), 1999}}, "1000", kNone},
      {"runAsUser 5000 (single-uid range)", {{P(kSc, "/runAsUser"), 5000}}, "1000", kNone},
      {"runAsUser 999", {{P(kSc, "/runAsUser"), 999}}, "1000", range},
      {"runAsUser 2000", {{P(kSc, "/runAsUser"), 2000}}, "1000", range},
      {"pod runAsUser 3000", {{P(kPodSc, "/runAsUser"), 3000}}, "1000", range},
      {"image uid 4000", {}, "4000", range},
      {"image without USER is uid 0", {}, "", {"rootUser", "uidRange"}},
      {"image USER root is uid 0", {}, "root", {"rootUser", "uidRange"}},
      {"unknown image under runAsNonRoot: warning",
       {{P(kPodSc, "/runAsNonRoot"), true}},
       nullptr,
       kNone,
       range},
      {"named image user under runAsNonRoot: warning",
       {{P(kPodSc, "/runAsNonRoot"), true}},
       "nginx",
       kUnknown,
       range},
  };
  RunTable(policy, rows);
}

TEST_CASE("findings name the container, the real field, and the fix") {
  const Policy& policy = BuiltinDefaultPolicy();
  SUBCASE("container runAsUser 0") {
    const json pod = Apply(BasePod(), {{P(kSc, "/runAsUser"), 0}});
    const Finding f =
        FindingOf(Decide(pod, FactsWithUser("1000"), policy).violations, RuleId::kRootUser);
    CHECK(f.container == "web");
    CHECK(f.field == "spec.containers[0].securityContext.runAsUser");
    CHECK(Contains(f.message, "spec.containers[0].securityContext.runAsUser"));
    CHECK(Contains(f.message, "set runAsUser to a non-zero UID"));
  }
  SUBCASE("pod runAsUser 0: the field is where the 0 came from") {
    const json pod = Apply(BasePod(), {{P(kPodSc, "/runAsUser"), 0}});
    const Finding f =
        FindingOf(Decide(pod, FactsWithUser("1000"), policy).violations, RuleId::kRootUser);
    CHECK(f.container == "web");
    CHECK(f.field == "spec.securityContext.runAsUser");
    CHECK(Contains(f.message, "spec.securityContext.runAsUser"));
    CHECK(Contains(f.message, "non-zero UID"));
  }
  SUBCASE("image without USER: the message of SEMANTICS.md") {
    const json pod = Apply(BasePod(), {{"/spec/containers/0/image", "nginx:1.25"}});
    ImageFactMap facts;
    facts.Set("nginx:1.25", ImageFact{true, "", "", ""});
    const Finding f = FindingOf(Decide(pod, facts, policy).violations, RuleId::kRootUser);
    CHECK(f.field == "spec.containers[0].securityContext.runAsUser");
    CHECK(f.message ==
          "container \"web\" would run as root: image docker.io/library/nginx:1.25 has no USER "
          "and spec.containers[0].securityContext.runAsUser is not set; set runAsUser to a "
          "non-zero UID");
  }
  SUBCASE("named image user under runAsNonRoot: set runAsUser to the numeric uid") {
    const json pod = Apply(BasePod(), {{P(kSc, "/runAsNonRoot"), true}});
    const Finding f =
        FindingOf(Decide(pod, FactsWithUser("nginx"), policy).violations, RuleId::kUnknownUser);
    CHECK(f.field == "spec.containers[0].securityContext.runAsUser");
    CHECK(Contains(f.message, "\"nginx\""));
    CHECK(Contains(f.message, "spec.containers[0].securityContext.runAsUser"));
    CHECK(Contains(f.message, "numeric UID"));
  }
  SUBCASE("unknown image: the lookup failure is in the message") {
    ImageFactMap facts;
    facts.Set(kImage, ImageFact{false, "", "", "registry registry.example.com: timed out"});
    const Finding f = FindingOf(Decide(BasePod(), facts, policy).violations, RuleId::kUnknownUser);
    CHECK(f.field == "spec.containers[0].securityContext.runAsUser");
    CHECK(Contains(f.message, "timed out"));
    CHECK(Contains(f.message, "runAsNonRoot"));
  }
  SUBCASE("privileged sidecar") {
    const json pod = Apply(
        BasePod(), {{"/spec/initContainers/0", json{{"name", "proxy"},
                                                    {"image", kImage},
                                                    {"restartPolicy", "Always"},
                                                    {"securityContext", {{"privileged", true}}}}}});
    const Finding f =
        FindingOf(Decide(pod, FactsWithUser("1000"), policy).violations, RuleId::kPrivileged);
    CHECK(f.container == "proxy");
    CHECK(f.field == "spec.initContainers[0].securityContext.privileged");
    CHECK(Contains(f.message, "spec.initContainers[0].securityContext.privileged"));
  }
  SUBCASE("Windows administrator set at pod level") {
    const json pod =
        Apply(BasePod(),
              {{"/spec/os/name", "windows"},
               {"/spec/securityContext/windowsOptions/runAsUserName", "ContainerAdministrator"}});
    const Finding f = FindingOf(Decide(pod, FactsWithUser("ContainerUser"), policy).violations,
                                RuleId::kRootUser);
    CHECK(f.field == "spec.securityContext.windowsOptions.runAsUserName");
    CHECK(Contains(f.message, "ContainerUser"));
  }
  SUBCASE("rootGroup from the pod") {
    const Policy p = WithRule(policy, RuleId::kRootGroup, Action::kInherit);
    const json pod = Apply(BasePod(), {{P(kPodSc, "/runAsGroup"), 0}});
    const Finding f =
        FindingOf(Decide(pod, FactsWithUser("1000"), p).violations, RuleId::kRootGroup);
    CHECK(f.field == "spec.securityContext.runAsGroup");
    CHECK(f.container == "web");
  }
  SUBCASE("pss-restricted pod-level runAsUser 0 names the pod field") {
    const json pod =
        Apply(BasePod(), {{P(kPodSc, "/runAsUser"), 0}, {P(kPodSc, "/runAsNonRoot"), true}});
    const Finding f =
        FindingOf(Decide(pod, FactsWithUser("1000"), PolicyFor(Preset::kPssRestricted)).violations,
                  RuleId::kRunAsUser);
    CHECK(f.field == "spec.securityContext.runAsUser");
    CHECK(Contains(f.message, "spec.securityContext.runAsUser"));
  }
}

}  // namespace
