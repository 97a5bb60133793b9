// Windows: HostProcess containers are `privileged` in every preset (Pod Security Admission's
// check_windowsHostProcess), and the root-equivalent Windows accounts are `rootUser`
// (SEMANTICS.md, the Windows paragraph). Table-driven over the minimal pod of
// policy/test_support.h; expected values come from SEMANTICS.md, issue 17, PSA's
// check_windowsHostProcess and the kubelet's Windows verifyRunAsNonRoot, never from rootgate's
// output.
#include <doctest/doctest.h>

#include "policy/policy_parse.h"
#include "policy/test_support.h"
#include "policy/windows_user.h"

namespace {

using namespace rootgate::policy;
using namespace rootgate::policy::testing;
using nlohmann::json;

const Edit kWindows = {"/spec/os/name", "windows"};
constexpr const char* kUser = "/spec/containers/0/securityContext/windowsOptions/runAsUserName";
constexpr const char* kPodUser = "/spec/securityContext/windowsOptions/runAsUserName";
constexpr const char* kHostProcess = "/spec/containers/0/securityContext/windowsOptions/hostProcess";
constexpr const char* kPodHostProcess = "/spec/securityContext/windowsOptions/hostProcess";
const Edit kHostNetwork = {"/spec/hostNetwork", true};

const std::set<std::string> kNone;
const std::set<std::string> kRoot = {"rootUser"};
const std::set<std::string> kUnknown = {"unknownUser"};
const std::set<std::string> kPriv = {"privileged"};
const std::set<std::string> kPrivRoot = {"privileged", "rootUser"};

json Container(const char* name, json security) {
  return {{"name", name}, {"image", kImage}, {"securityContext", std::move(security)}};
}

json HostProcessOn() { return {{"windowsOptions", {{"hostProcess", true}}}}; }

struct Row {
  const char* name;
  Edits edits;
  const char* image_user;  // kImage's config User; nullptr: unknown
  std::set<std::string> denied;
};

void RunTable(const Policy& policy, const std::vector<Row>& rows) {
  for (const Row& r : rows) {
    INFO("case: " << std::string(r.name));
    const Decision d = Decide(Apply(BasePod(), r.edits), FactsWithUser(r.image_user), policy);
    CHECK(Ids(d.violations) == Ids(r.denied));
    CHECK(d.allowed == r.denied.empty());
  }
}

Policy Parsed(const std::string& yaml) {
  auto p = ParsePolicy(yaml);
  REQUIRE_MESSAGE(p.ok(), p.error());
  return p.value();
}

TEST_CASE("Windows accounts: which are administrators") {
  CHECK(WindowsAdminAccount("ContainerAdministrator") == "ContainerAdministrator");
  CHECK(WindowsAdminAccount("containeradministrator") == "ContainerAdministrator");
  CHECK(WindowsAdminAccount("NT AUTHORITY\\SYSTEM") == "NT AUTHORITY\\SYSTEM");
  CHECK(WindowsAdminAccount("nt authority\\system") == "NT AUTHORITY\\SYSTEM");
  CHECK(WindowsAdminAccount("SYSTEM") == "NT AUTHORITY\\SYSTEM");
  CHECK(WindowsAdminAccount("System") == "NT AUTHORITY\\SYSTEM");
  CHECK(WindowsAdminAccount("BUILTIN\\Administrators") == "BUILTIN\\Administrators");
  CHECK(WindowsAdminAccount("Administrators") == "BUILTIN\\Administrators");
  CHECK(WindowsAdminAccount("builtin\\ADMINISTRATORS") == "BUILTIN\\Administrators");
  for (const char* other : {"ContainerUser", "NT AUTHORITY\\Local service",
                            "NT AUTHORITY\\NetworkService", "", "SYSTEMS", "NT AUTHORITY SYSTEM",
                            "ContainerAdministrator ", "MyAdministrators", "1000", "root"}) {
    CAPTURE(other);
    CHECK_FALSE(WindowsAdminAccount(other).has_value());
  }
  CHECK(WindowsImageAccount("") == "ContainerAdministrator");
  CHECK(WindowsImageAccount("ContainerUser") == "ContainerUser");
}

TEST_CASE("privileged: HostProcess on the pod or any container, in every preset") {
  const std::vector<Row> rows = {
      {"Windows pod, no HostProcess", {kWindows}, "ContainerUser", kNone},
      {"hostProcess false on pod and container",
       {kWindows, {kPodHostProcess, false}, {kHostProcess, false}},
       "ContainerUser",
       kNone},
      {"pod-level hostProcess",
       {kWindows, kHostNetwork, {kPodHostProcess, true}, {kUser, "NT AUTHORITY\\Local service"}},
       "ContainerUser",
       kPriv},
      {"container hostProcess",
       {kWindows, kHostNetwork, {kHostProcess, true}, {kUser, "NT AUTHORITY\\Local service"}},
       "ContainerUser",
       kPriv},
      {"init container hostProcess",
       {kWindows, {"/spec/initContainers/0", Container("setup", HostProcessOn())}},
       "ContainerUser",
       kPriv},
      {"ephemeral container hostProcess",
       {kWindows, {"/spec/ephemeralContainers/0", Container("dbg", HostProcessOn())}},
       "ContainerUser",
       kPriv},
      {"pod-level hostProcess without spec.os",
       {kHostNetwork, {kPodHostProcess, true}, {kPodUser, "NT AUTHORITY\\Local service"}},
       "ContainerUser",
       kPriv},
      {"container hostProcess with spec.os.name linux",
       {{"/spec/os/name", "linux"}, {kHostProcess, true}, {kUser, "NT AUTHORITY\\Local service"}},
       "ContainerUser",
       kPriv},
  };
  for (Preset preset : {Preset::kDefault, Preset::kPssBaseline}) {
    CAPTURE(static_cast<int>(preset));
    RunTable(PolicyFor(preset), rows);
  }
  // pss-restricted adds runAsNonRoot, which these pods satisfy at pod level.
  std::vector<Row> restricted = rows;
  for (Row& r : restricted) r.edits.push_back({"/spec/securityContext/runAsNonRoot", true});
  RunTable(PolicyFor(Preset::kPssRestricted), restricted);
}

TEST_CASE("privileged: where a HostProcess finding points, and its fix") {
  const Policy policy = PolicyFor(Preset::kPssBaseline);
  SUBCASE("pod level: one pod finding with the pod's field") {
    const Decision d = Decide(Apply(BasePod(), {kWindows, kHostNetwork, {kPodHostProcess, true}}),
                              FactsWithUser("ContainerUser"), policy);
    REQUIRE(d.violations.size() == 1);
    const Finding& f = d.violations[0];
    CHECK(f.rule == RuleId::kPrivileged);
    CHECK(f.container.empty());
    CHECK(f.field == "spec.securityContext.windowsOptions.hostProcess");
    CHECK(Contains(f.message, "spec.securityContext.windowsOptions.hostProcess is true"));
    CHECK(Contains(f.message, "normal Windows container"));
    CHECK(Contains(f.message, "exempt its namespace or image"));
  }
  SUBCASE("every container that sets it, each with its own field") {
    const json pod = Apply(BasePod(), {kWindows,
                                       kHostNetwork,
                                       {kHostProcess, true},
                                       {"/spec/initContainers/0", Container("setup", HostProcessOn())}});
    const Decision d = Decide(pod, FactsWithUser("ContainerUser"), policy);
    REQUIRE(d.violations.size() == 2);
    CHECK(d.violations[0].container == "setup");
    CHECK(d.violations[0].field == "spec.initContainers[0].securityContext.windowsOptions.hostProcess");
    CHECK(Contains(d.violations[0].message, "init container \"setup\""));
    CHECK(d.violations[1].container == "web");
    CHECK(d.violations[1].field == "spec.containers[0].securityContext.windowsOptions.hostProcess");
  }
  SUBCASE("a controller template") {
    json deploy = {{"apiVersion", "apps/v1"},
                   {"kind", "Deployment"},
                   {"metadata", {{"name", "agent"}, {"namespace", "demo"}}},
                   {"spec", {{"template", {{"spec", BasePod()["spec"]}}}}}};
    deploy = Apply(deploy, {{"/spec/template/spec/os/name", "windows"},
                            {"/spec/template/spec/hostNetwork", true},
                            {"/spec/template/spec/securityContext/windowsOptions/hostProcess", true}});
    const Decision d = Decide(deploy, FactsWithUser("ContainerUser"), policy, "apps", "Deployment");
    REQUIRE(d.violations.size() == 1);
    CHECK(d.violations[0].field == "spec.template.spec.securityContext.windowsOptions.hostProcess");
  }
  SUBCASE("a privileged container and a HostProcess one are two findings") {
    const json pod = Apply(BasePod(), {{"/spec/containers/0/securityContext/privileged", true},
                                       {"/spec/containers/1", Container("hpc", HostProcessOn())}});
    const Decision d = Decide(pod, FactsWithUser("1000"), policy);
    REQUIRE(d.violations.size() == 2);
    CHECK(d.violations[0].field == "spec.containers[0].securityContext.privileged");
    CHECK(d.violations[1].field == "spec.containers[1].securityContext.windowsOptions.hostProcess");
  }
}

TEST_CASE("privileged: an exempt image or namespace lets a node agent run as HostProcess") {
  const json pod = Apply(BasePod(), {kWindows, kHostNetwork, {kPodHostProcess, true}});
  const Policy by_image = Parsed(
      "preset: pss-baseline\nexemptions:\n  images: [\"registry.example.com/team/web:*\"]\n");
  CHECK(Decide(pod, FactsWithUser("ContainerUser"), by_image).allowed);
  const Policy by_ns = Parsed("preset: pss-baseline\nexemptions:\n  namespaces: [kube-system]\n");
  CHECK(Decide(pod, FactsWithUser("ContainerUser"), by_ns, "", "Pod", "kube-system").allowed);
  CHECK_FALSE(Decide(pod, FactsWithUser("ContainerUser"), by_ns, "", "Pod", "demo").allowed);
  // Another container of the pod, not exempt, still runs as HostProcess through the pod field.
  const json two = Apply(pod, {{"/spec/containers/1", json{{"name", "app"}, {"image", kRootImage}}}});
  const Decision d = Decide(two, FactsWithUser("ContainerUser"), by_image);
  CHECK(Ids(d.violations) == "privileged");
}

TEST_CASE("rootUser: the Windows administrator accounts, from runAsUserName or the image") {
  const std::vector<Row> rows = {
      {"runAsUserName ContainerUser", {kWindows, {kUser, "ContainerUser"}}, "ContainerUser", kNone},
      {"runAsUserName NT AUTHORITY\\SYSTEM",
       {kWindows, {kUser, "NT AUTHORITY\\SYSTEM"}},
       "ContainerUser",
       kRoot},
      {"runAsUserName nt authority\\system",
       {kWindows, {kUser, "nt authority\\system"}},
       "ContainerUser",
       kRoot},
      {"runAsUserName SYSTEM", {kWindows, {kUser, "SYSTEM"}}, "ContainerUser", kRoot},
      {"runAsUserName system", {kWindows, {kUser, "system"}}, "ContainerUser", kRoot},
      {"runAsUserName BUILTIN\\Administrators",
       {kWindows, {kUser, "BUILTIN\\Administrators"}},
       "ContainerUser",
       kRoot},
      {"runAsUserName Administrators", {kWindows, {kUser, "Administrators"}}, "ContainerUser", kRoot},
      {"runAsUserName NT AUTHORITY\\Local service",
       {kWindows, {kUser, "NT AUTHORITY\\Local service"}},
       "ContainerUser",
       kNone},
      {"pod SYSTEM", {kWindows, {kPodUser, "NT AUTHORITY\\SYSTEM"}}, "ContainerUser", kRoot},
      {"container ContainerUser overrides pod SYSTEM",
       {kWindows, {kPodUser, "NT AUTHORITY\\SYSTEM"}, {kUser, "ContainerUser"}},
       "ContainerUser",
       kNone},
      {"container SYSTEM overrides pod ContainerUser",
       {kWindows, {kPodUser, "ContainerUser"}, {kUser, "SYSTEM"}},
       "ContainerUser",
       kRoot},
      {"init container BUILTIN\\Administrators",
       {kWindows,
        {"/spec/initContainers/0",
         Container("setup", {{"windowsOptions", {{"runAsUserName", "BUILTIN\\Administrators"}}}})}},
       "ContainerUser",
       kRoot},
      {"image with no User runs as ContainerAdministrator", {kWindows}, "", kRoot},
      {"image User NT AUTHORITY\\SYSTEM", {kWindows}, "NT AUTHORITY\\SYSTEM", kRoot},
      {"image User ContainerUser", {kWindows}, "ContainerUser", kNone},
      {"runAsUserName ContainerUser over an image with no User",
       {kWindows, {kUser, "ContainerUser"}},
       "",
       kNone},
      {"unknown image, no runAsUserName", {kWindows}, nullptr, kUnknown},
      // The kubelet on Windows refuses only the exact name ContainerAdministrator under
      // runAsNonRoot; an image with no User would start as ContainerAdministrator.
      {"unknown image under runAsNonRoot", {kWindows, {"/spec/securityContext/runAsNonRoot", true}},
       nullptr, kUnknown},
      {"image with no User under runAsNonRoot",
       {kWindows, {"/spec/securityContext/runAsNonRoot", true}},
       "",
       kRoot},
      {"unknown image, runAsUserName set", {kWindows, {kUser, "ContainerUser"}}, nullptr, kNone},
      {"HostProcess as SYSTEM (the issue's pod)",
       {kWindows, kHostNetwork, {kPodHostProcess, true}, {kPodUser, "NT AUTHORITY\\SYSTEM"}},
       "ContainerUser",
       kPrivRoot},
      {"HostProcess without spec.os, as SYSTEM",
       {kHostNetwork, {kHostProcess, true}, {kUser, "NT AUTHORITY\\SYSTEM"}},
       "1000",
       kPrivRoot},
      {"HostProcess as a group of Administrators",
       {kWindows, kHostNetwork, {kHostProcess, true}, {kUser, "Administrators"}},
       "ContainerUser",
       kPrivRoot},
      {"HostProcess as Local service", {kWindows, kHostNetwork, {kHostProcess, true},
                                        {kUser, "NT AUTHORITY\\Local service"}},
       "ContainerUser", kPriv},
      {"hostUsers false maps no Windows account away",
       {kWindows, {"/spec/hostUsers", false}, {kUser, "SYSTEM"}},
       "ContainerUser",
       kRoot},
  };
  RunTable(BuiltinDefaultPolicy(), rows);
}

TEST_CASE("rootUser: imageOverrides user \"\" for a Server Core image is ContainerAdministrator") {
  const Policy policy = Parsed(
      "imageOverrides:\n"
      "  - image: \"mcr.microsoft.com/windows/servercore:*\"\n"
      "    user: \"\"\n");
  const json pod = Apply(BasePod(), {kWindows,
                                     {"/spec/containers/0/image",
                                      "mcr.microsoft.com/windows/servercore:ltsc2022"}});
  const Decision d = Decide(pod, NoImageFacts(), policy);
  const Finding f = FindingOf(d.violations, RuleId::kRootUser);
  CHECK(f.reason == "image user ContainerAdministrator");
  CHECK(f.field == "spec.containers[0].securityContext.windowsOptions.runAsUserName");
  CHECK(Contains(f.message, "has no USER"));
  CHECK(Contains(f.message, "ContainerAdministrator"));
  CHECK(Contains(f.message, "\"ContainerUser\""));
  // The same image on a Linux pod is root the Linux way, with the Linux fix.
  const json linux_pod = Apply(pod, {{"/spec/os/name", "linux"}});
  const Finding lf = FindingOf(Decide(linux_pod, NoImageFacts(), policy).violations, RuleId::kRootUser);
  CHECK(lf.field == "spec.containers[0].securityContext.runAsUser");
  CHECK(Contains(lf.message, "set runAsUser to a non-zero UID"));
}

TEST_CASE("Windows messages name an account, never a UID") {
  const Policy policy = BuiltinDefaultPolicy();
  SUBCASE("pod-level SYSTEM") {
    const json pod = Apply(BasePod(), {kWindows, {kPodUser, "NT AUTHORITY\\SYSTEM"}});
    const Finding f = FindingOf(Decide(pod, FactsWithUser("ContainerUser"), policy).violations,
                                RuleId::kRootUser);
    CHECK(f.reason == "runAsUserName=NT AUTHORITY\\SYSTEM");
    CHECK(f.field == "spec.securityContext.windowsOptions.runAsUserName");
    CHECK(Contains(f.message, "spec.containers[0].securityContext.windowsOptions.runAsUserName is not set"));
    CHECK(Contains(f.message, "\"ContainerUser\""));
    CHECK_FALSE(Contains(f.message, "UID"));
  }
  SUBCASE("HostProcess: the fix is a node account") {
    const json pod = Apply(BasePod(), {kWindows, kHostNetwork, {kHostProcess, true}, {kUser, "SYSTEM"}});
    const Finding f = FindingOf(Decide(pod, FactsWithUser("ContainerUser"), policy).violations,
                                RuleId::kRootUser);
    CHECK(f.field == "spec.containers[0].securityContext.windowsOptions.runAsUserName");
    CHECK(Contains(f.message, "\"NT AUTHORITY\\Local service\""));
    CHECK_FALSE(Contains(f.message, "UID"));
  }
  SUBCASE("unknown user") {
    const json pod = Apply(BasePod(), {kWindows});
    const Finding f = FindingOf(Decide(pod, FactsWithUser(nullptr), policy).violations,
                                RuleId::kUnknownUser);
    CHECK(f.field == "spec.containers[0].securityContext.windowsOptions.runAsUserName");
    CHECK(Contains(f.message, "\"ContainerUser\""));
    CHECK_FALSE(Contains(f.message, "UID"));
    CHECK_FALSE(Contains(f.message, "runAsUser "));
  }
  SUBCASE("unknown user of a HostProcess container") {
    const json pod = Apply(BasePod(), {kWindows, kHostNetwork, {kPodHostProcess, true}});
    const Finding f = FindingOf(Decide(pod, FactsWithUser(nullptr), policy).violations,
                                RuleId::kUnknownUser);
    CHECK(Contains(f.message, "\"NT AUTHORITY\\Local service\""));
  }
  SUBCASE("Linux messages keep the UID") {
    const Finding f =
        FindingOf(Decide(BasePod(), FactsWithUser(nullptr), policy).violations, RuleId::kUnknownUser);
    CHECK(f.field == "spec.containers[0].securityContext.runAsUser");
    CHECK(Contains(f.message, "to a non-zero UID"));
  }
}

TEST_CASE("workload view: hostProcess must be a boolean") {
  const json pod = Apply(BasePod(), {{kHostProcess, "true"}});
  auto view = BuildWorkloadView("", "Pod", pod);
  REQUIRE_FALSE(view.ok());
  CHECK(view.error() ==
        "spec.containers[0].securityContext.windowsOptions.hostProcess: expected a boolean, got string");
}

}  // namespace
