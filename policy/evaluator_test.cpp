// The evaluator around the rules: modes, per-rule actions, namespace overrides, exemptions,
// warn-only controllers, every pod-bearing kind and its real field paths, and type errors in the
// object. Expected values come from SEMANTICS.md ("Which containers", "Exemptions and modes").
#include <doctest/doctest.h>

#include "policy/test_support.h"

namespace {

using namespace rootgate::policy;
using namespace rootgate::policy::testing;
using nlohmann::json;

// The base pod with its container forced to uid 0: exactly one rootUser violation by default.
json RootPod() { return Apply(BasePod(), {{"/spec/containers/0/securityContext/runAsUser", 0}}); }

Policy InMode(Mode mode) {
  Policy p;
  p.mode = mode;
  return p;
}

TEST_CASE("modes: enforce denies, warn warns, audit annotates") {
  const ImageFactMap facts = FactsWithUser("1000");
  const json pod = RootPod();
  SUBCASE("enforce") {
    const Decision d = Decide(pod, facts, InMode(Mode::kEnforce));
    CHECK_FALSE(d.allowed);
    CHECK(d.code == 403);
    CHECK(Ids(d.violations) == "rootUser");
    CHECK(d.warnings.empty());
    CHECK(d.audits.empty());
  }
  SUBCASE("warn") {
    const Decision d = Decide(pod, facts, InMode(Mode::kWarn));
    CHECK(d.allowed);
    CHECK(d.violations.empty());
    CHECK(Ids(d.warnings) == "rootUser");
    CHECK(d.audits.empty());
  }
  SUBCASE("audit") {
    const Decision d = Decide(pod, facts, InMode(Mode::kAudit));
    CHECK(d.allowed);
    CHECK(d.violations.empty());
    CHECK(d.warnings.empty());
    CHECK(Ids(d.audits) == "rootUser");
  }
  SUBCASE("warn mode: one warning per violation") {
    const json two = Apply(pod, {{"/spec/containers/1", {{"name", "b"}, {"image", kRootImage}}}});
    CHECK(Decide(two, facts, InMode(Mode::kWarn)).warnings.size() == 2);
  }
}

struct ActionRow {
  const char* name;
  Mode mode;
  RuleId rule;
  Action action;
  const char* image_user;  // nullptr: unknown
  Edits edits;
  const char* denied;
  const char* warned;
  const char* audited;
};

TEST_CASE("per-rule actions override the mode") {
  const Edits uid0 = {{"/spec/containers/0/securityContext/runAsUser", 0}};
  const std::vector<ActionRow> rows = {
      {"enforce, unknownUser warn",
       Mode::kEnforce,
       RuleId::kUnknownUser,
       Action::kWarn,
       nullptr,
       {},
       "",
       "unknownUser",
       ""},
      {"enforce, unknownUser audit",
       Mode::kEnforce,
       RuleId::kUnknownUser,
       Action::kAudit,
       nullptr,
       {},
       "",
       "",
       "unknownUser"},
      {"enforce, rootUser off", Mode::kEnforce, RuleId::kRootUser, Action::kOff, "1000", uid0, "",
       "", ""},
      {"enforce, unknownUser off: no named-user warning either",
       Mode::kEnforce,
       RuleId::kUnknownUser,
       Action::kOff,
       "nginx",
       {},
       "",
       "",
       ""},
      {"warn, rootUser deny", Mode::kWarn, RuleId::kRootUser, Action::kDeny, "1000", uid0,
       "rootUser", "", ""},
      {"audit, rootUser warn", Mode::kAudit, RuleId::kRootUser, Action::kWarn, "1000", uid0, "",
       "rootUser", ""},
      {"warn, privileged inherits warn",
       Mode::kWarn,
       RuleId::kPrivileged,
       Action::kInherit,
       "1000",
       {{"/spec/containers/0/securityContext/privileged", true}},
       "",
       "privileged",
       ""},
  };
  for (const ActionRow& r : rows) {
    INFO("case: " << std::string(r.name));
    const Policy p = WithRule(InMode(r.mode), r.rule, r.action);
    const Decision d = Decide(Apply(BasePod(), r.edits), FactsWithUser(r.image_user), p);
    CHECK(Ids(d.violations) == r.denied);
    CHECK(Ids(d.warnings) == r.warned);
    CHECK(Ids(d.audits) == r.audited);
    CHECK(d.allowed == (std::string(r.denied).empty()));
  }
}

TEST_CASE("namespace overrides: mode and rules per namespace glob") {
  Policy p;
  p.namespace_overrides.push_back({{"dev-*"}, Mode::kWarn, {}});
  p.namespace_overrides.push_back(
      {{"ci-*", "build"}, std::nullopt, {{RuleId::kPrivileged, Action::kOff}}});
  const ImageFactMap facts = FactsWithUser("1000");
  const json root = RootPod();
  const json priv = Apply(BasePod(), {{"/spec/containers/0/securityContext/privileged", true}});
  CHECK(Decide(root, facts, p, "", "Pod", "dev-team").allowed);
  CHECK(Ids(Decide(root, facts, p, "", "Pod", "dev-team").warnings) == "rootUser");
  CHECK_FALSE(Decide(root, facts, p, "", "Pod", "dev").allowed);
  CHECK_FALSE(Decide(root, facts, p, "", "Pod", "prod").allowed);
  CHECK(Decide(priv, facts, p, "", "Pod", "ci-42").allowed);
  CHECK(Decide(priv, facts, p, "", "Pod", "ci-42").warnings.empty());
  CHECK(Decide(priv, facts, p, "", "Pod", "build").allowed);
  CHECK_FALSE(Decide(root, facts, p, "", "Pod", "ci-42").allowed);  // only privileged is off
  CHECK_FALSE(Decide(priv, facts, p, "", "Pod", "prod").allowed);
}

TEST_CASE("exemptions: namespaces, usernames, images, runtimeClassNames") {
  const ImageFactMap facts = FactsWithUser("1000");
  const json root = RootPod();
  SUBCASE("namespace glob") {
    Policy p;
    p.exemptions.namespaces = {"kube-*"};
    const Decision d = Decide(root, facts, p, "", "Pod", "kube-system");
    CHECK(d.allowed);
    CHECK_FALSE(d.evaluated);
    CHECK(Contains(d.skip_reason, "kube-system"));
    CHECK_FALSE(Decide(root, facts, p, "", "Pod", "kube").allowed);
    CHECK_FALSE(Decide(root, facts, p, "", "Pod", "demo").allowed);
  }
  SUBCASE("username, exact") {
    Policy p;
    p.exemptions.usernames = {"system:serviceaccount:kube-system:replicaset-controller"};
    CHECK(Decide(root, facts, p, "", "Pod", "demo",
                 "system:serviceaccount:kube-system:replicaset-controller")
              .allowed);
    CHECK_FALSE(Decide(root, facts, p, "", "Pod", "demo", "alice").allowed);
    CHECK_FALSE(Decide(root, facts, p, "", "Pod", "demo", "").allowed);
  }
  SUBCASE("image glob against the normalised reference and as written") {
    const json nginx = Apply(root, {{"/spec/containers/0/image", "nginx:1.25"}});
    Policy normalised, written, neither;
    normalised.exemptions.images = {"docker.io/library/nginx:*"};
    written.exemptions.images = {"nginx:*"};
    neither.exemptions.images = {"nginx"};
    CHECK(Decide(nginx, facts, normalised).allowed);
    CHECK(Decide(nginx, facts, written).allowed);
    CHECK_FALSE(Decide(nginx, facts, neither).allowed);
  }
  SUBCASE("an exempt image exempts only its container") {
    Policy p;
    p.exemptions.images = {"registry.example.com/team/web:*"};
    const json two = Apply(root, {{"/spec/containers/1", {{"name", "b"}, {"image", kRootImage}}}});
    const Decision d = Decide(two, facts, p);
    CHECK(Ids(d.violations) == "rootUser");
    REQUIRE(d.violations.size() == 1);
    CHECK(d.violations[0].container == "b");
  }
  SUBCASE("runtimeClassName, exact") {
    Policy p;
    p.exemptions.runtime_class_names = {"kata"};
    CHECK(Decide(Apply(root, {{"/spec/runtimeClassName", "kata"}}), facts, p).allowed);
    CHECK_FALSE(Decide(Apply(root, {{"/spec/runtimeClassName", "runc"}}), facts, p).allowed);
    CHECK_FALSE(Decide(root, facts, p).allowed);
  }
}

TEST_CASE("image overrides answer before image facts, by glob on either spelling") {
  const ImageFactMap facts = FactsWithUser("1000");  // the registry says 1000
  Policy p;
  p.image_overrides = {{"registry.example.com/team/*", "0"}, {"nginx:*", "101"}};
  SUBCASE("the override wins over the facts") {
    const Decision d = Decide(BasePod(), facts, p);
    CHECK(Ids(d.violations) == "rootUser");
    CHECK(Contains(FindingOf(d.violations, RuleId::kRootUser).message, "imageOverrides"));
  }
  SUBCASE("glob against the reference as written") {
    const json nginx = Apply(BasePod(), {{"/spec/containers/0/image", "nginx:1.25"}});
    CHECK(Decide(nginx, NoImageFacts(), p).allowed);
  }
  SUBCASE("glob against the normalised reference") {
    Policy hub;
    hub.image_overrides = {{"docker.io/library/busybox:*", ""}};
    const json busybox = Apply(BasePod(), {{"/spec/containers/0/image", "busybox:1.36"}});
    CHECK(Ids(Decide(busybox, NoImageFacts(), hub).violations) == "rootUser");
  }
  SUBCASE("no override, no facts: unknown") {
    const json other = Apply(BasePod(), {{"/spec/containers/0/image", "ghcr.io/org/tool:2"}});
    CHECK(Ids(Decide(other, NoImageFacts(), p).violations) == "unknownUser");
  }
}

TEST_CASE("ImagesNeedingFacts: only images whose user the spec leaves open") {
  Policy p;
  p.image_overrides = {{"nginx:*", "101"}};
  p.exemptions.images = {"registry.k8s.io/*"};
  const json pod =
      Apply(BasePod(),
            {{"/spec/containers/1", {{"name", "b"}, {"image", "busybox:1.36"}}},
             {"/spec/containers/2", {{"name", "c"}, {"image", "busybox:1.36"}}},
             {"/spec/containers/3",
              {{"name", "d"}, {"image", "alpine:3"}, {"securityContext", {{"runAsUser", 1000}}}}},
             {"/spec/containers/4", {{"name", "e"}, {"image", "nginx:1.25"}}},
             {"/spec/containers/5", {{"name", "f"}, {"image", "registry.k8s.io/pause:3.9"}}},
             {"/spec/initContainers/0", {{"name", "i"}, {"image", "Bad/Ref:"}}}});
  auto view = BuildWorkloadView("", "Pod", pod);
  REQUIRE(view.ok());
  CHECK(ImagesNeedingFacts(view.value(), p) == std::vector<std::string>{kImage, "busybox:1.36"});
}

// Wraps a pod spec the way `kind` holds it.
json Wrap(const std::string& api_version, const std::string& kind, const json& pod_spec) {
  json o = {{"apiVersion", api_version}, {"kind", kind}, {"metadata", {{"name", "w"}}}};
  const json tmpl = {{"metadata", {{"labels", {{"app", "w"}}}}}, {"spec", pod_spec}};
  if (kind == "Pod") {
    o["spec"] = pod_spec;
  } else if (kind == "PodTemplate") {
    o["template"] = tmpl;
  } else if (kind == "CronJob") {
    o["spec"] = {{"schedule", "* * * * *"}, {"jobTemplate", {{"spec", {{"template", tmpl}}}}}};
  } else {
    o["spec"] = {{"template", tmpl}};
  }
  return o;
}

struct KindRow {
  const char* api_version;
  const char* kind;
  const char* prefix;
  bool is_pod;
};

const std::vector<KindRow> kKinds = {
    {"v1", "Pod", "spec", true},
    {"apps/v1", "Deployment", "spec.template.spec", false},
    {"extensions/v1beta1", "Deployment", "spec.template.spec", false},
    {"apps/v1", "ReplicaSet", "spec.template.spec", false},
    {"apps/v1", "StatefulSet", "spec.template.spec", false},
    {"apps/v1", "DaemonSet", "spec.template.spec", false},
    {"batch/v1", "Job", "spec.template.spec", false},
    {"batch/v1", "CronJob", "spec.jobTemplate.spec.template.spec", false},
    {"batch/v1beta1", "CronJob", "spec.jobTemplate.spec.template.spec", false},
    {"v1", "ReplicationController", "spec.template.spec", false},
    {"v1", "PodTemplate", "template.spec", false},
};

TEST_CASE("every pod-bearing kind: the pod spec is found and field paths use its real prefix") {
  const ImageFactMap facts = FactsWithUser("1000");
  json spec = RootPod()["spec"];
  spec["initContainers"] = json::array(
      {json{{"name", "init"}, {"image", kImage}, {"securityContext", {{"privileged", true}}}}});
  for (const KindRow& k : kKinds) {
    INFO((std::string(k.api_version) + " " + k.kind));
    const std::string group(GroupOf(k.api_version));
    CHECK(IsPodBearingKind(group, k.kind));
    const json object = Wrap(k.api_version, k.kind, spec);
    auto view = BuildWorkloadView(group, k.kind, object);
    CHECK(view.ok());
    if (!view.ok()) continue;
    CHECK(view.value().is_pod == k.is_pod);
    CHECK(view.value().spec_path == k.prefix);
    const Decision d = Decide(object, facts, BuiltinDefaultPolicy(), group, k.kind);
    CHECK(Ids(d.violations) == "privileged,rootUser");
    CHECK(FindingOf(d.violations, RuleId::kRootUser).field ==
          std::string(k.prefix) + ".containers[0].securityContext.runAsUser");
    CHECK(FindingOf(d.violations, RuleId::kPrivileged).field ==
          std::string(k.prefix) + ".initContainers[0].securityContext.privileged");
    const json pod_level = Wrap(k.api_version, k.kind,
                                Apply(BasePod(), {{"/spec/securityContext/runAsUser", 0}})["spec"]);
    CHECK(FindingOf(Decide(pod_level, facts, BuiltinDefaultPolicy(), group, k.kind).violations,
                    RuleId::kRootUser)
              .field == std::string(k.prefix) + ".securityContext.runAsUser");
  }
}

TEST_CASE("IsPodBearingKind and GroupOf") {
  CHECK(GroupOf("v1") == "");
  CHECK(GroupOf("apps/v1") == "apps");
  CHECK(GroupOf("batch/v1beta1") == "batch");
  CHECK_FALSE(IsPodBearingKind("", "Service"));
  CHECK_FALSE(IsPodBearingKind("", "ConfigMap"));
  CHECK_FALSE(IsPodBearingKind("example.com", "Deployment"));
  CHECK_FALSE(IsPodBearingKind("", "Deployment"));
  CHECK_FALSE(IsPodBearingKind("apps", "Pod"));
  CHECK_FALSE(IsPodBearingKind("apps", "deployment"));
}

TEST_CASE("controllers warn-only: a controller's violations warn, a Pod's still deny") {
  Policy p;
  p.enforce_controllers = false;
  const ImageFactMap facts = FactsWithUser("1000");
  const json spec = RootPod()["spec"];
  const Decision deployment =
      Decide(Wrap("apps/v1", "Deployment", spec), facts, p, "apps", "Deployment");
  CHECK(deployment.allowed);
  CHECK(deployment.violations.empty());
  CHECK(Ids(deployment.warnings) == "rootUser");
  const Decision cronjob = Decide(Wrap("batch/v1", "CronJob", spec), facts, p, "batch", "CronJob");
  CHECK(cronjob.allowed);
  CHECK(Ids(cronjob.warnings) == "rootUser");
  const Decision pod = Decide(RootPod(), facts, p);
  CHECK_FALSE(pod.allowed);
  CHECK(Ids(pod.violations) == "rootUser");
  const Decision enforced = Decide(Wrap("apps/v1", "Deployment", spec), facts,
                                   BuiltinDefaultPolicy(), "apps", "Deployment");
  CHECK_FALSE(enforced.allowed);
}

struct TypeRow {
  const char* name;
  const char* kind;
  Edits edits;  // applied to the Pod, then wrapped for `kind`
  const char* field;
};

TEST_CASE("wrong-typed fields: BuildWorkloadView names the field") {
  const std::vector<TypeRow> rows = {
      {"runAsUser as a string",
       "Pod",
       {{"/spec/containers/0/securityContext/runAsUser", "0"}},
       "spec.containers[0].securityContext.runAsUser"},
      {"runAsUser as a float",
       "Pod",
       {{"/spec/containers/0/securityContext/runAsUser", 0.5}},
       "spec.containers[0].securityContext.runAsUser"},
      {"pod runAsNonRoot as a string",
       "Pod",
       {{"/spec/securityContext/runAsNonRoot", "true"}},
       "spec.securityContext.runAsNonRoot"},
      {"privileged as a string",
       "Pod",
       {{"/spec/containers/0/securityContext/privileged", "true"}},
       "spec.containers[0].securityContext.privileged"},
      {"hostUsers as a string", "Pod", {{"/spec/hostUsers", "false"}}, "spec.hostUsers"},
      {"containers not a list",
       "Pod",
       {{"/spec/containers", {{"name", "web"}}}},
       "spec.containers"},
      {"securityContext not an object",
       "Pod",
       {{"/spec/containers/0/securityContext", true}},
       "spec.containers[0].securityContext"},
      {"image not a string", "Pod", {{"/spec/containers/0/image", 7}}, "spec.containers[0].image"},
      {"in a Deployment",
       "Deployment",
       {{"/spec/containers/0/securityContext/runAsUser", "0"}},
       "spec.template.spec.containers[0].securityContext.runAsUser"},
  };
  for (const TypeRow& r : rows) {
    INFO("case: " << std::string(r.name));
    const json spec = Apply(BasePod(), r.edits)["spec"];
    const std::string kind = r.kind;
    const json object = Wrap(kind == "Pod" ? "v1" : "apps/v1", kind, spec);
    auto view = BuildWorkloadView(kind == "Pod" ? "" : "apps", kind, object);
    CHECK_FALSE(view.ok());
    if (view.ok()) continue;
    CHECK(Contains(view.error(), std::string(r.field) + ":"));
  }
}

TEST_CASE("deny message: every violation, one per line, under 1 KiB") {
  json pod = BasePod();
  for (int i = 0; i < 40; ++i) {
    pod["spec"]["containers"][i] = {{"name", "c" + std::to_string(i)}, {"image", kRootImage}};
  }
  const Decision d = Decide(pod, FactsWithUser("1000"), BuiltinDefaultPolicy());
  REQUIRE(d.violations.size() == 40);
  const std::string msg = DenyMessage(d);
  CHECK(msg.size() < 1024);
  CHECK(Contains(msg, "container \"c0\""));
  CHECK(Contains(msg, "more"));
  const json one = RootPod();
  const Decision single = Decide(one, FactsWithUser("1000"), BuiltinDefaultPolicy());
  CHECK(DenyMessage(single) == "[rootUser] " + single.violations.at(0).message);
}

// Found while writing fuzz/admission_review_fuzz's strict-UTF-8 reply invariant (seed
// fuzz/corpus/admission_review_fuzz/crash-deny-message-utf8-cut): the 1 KiB cut split a
// multi-byte character, and the reply `rootgate review` prints (strict UTF-8) threw. Each "é" is
// two bytes; the two names put the cut at either byte of one.
TEST_CASE("deny message: the 1 KiB cut never splits a UTF-8 character") {
  std::string e_acute_600;
  for (int i = 0; i < 600; ++i) e_acute_600 += "\xC3\xA9";
  for (const std::string& name : {e_acute_600, "x" + e_acute_600}) {
    CAPTURE(name.size());
    json pod = RootPod();
    pod["spec"]["containers"][0]["name"] = name;
    const Decision d = Decide(pod, FactsWithUser("1000"), BuiltinDefaultPolicy());
    REQUIRE(d.violations.size() == 1);
    const std::string full = "[rootUser] " + d.violations[0].message;
    REQUIRE(full.size() > 1000);
    const std::string msg = DenyMessage(d);
    CHECK(msg.size() <= 1000);
    const std::string ellipsis = "\xE2\x80\xA6";
    REQUIRE(msg.size() > ellipsis.size());
    CHECK(msg.substr(msg.size() - ellipsis.size()) == ellipsis);
    const std::string kept = msg.substr(0, msg.size() - ellipsis.size());
    CHECK(full.compare(0, kept.size(), kept) == 0);
    // The kept text ends on a whole character: the byte after it starts one.
    CHECK((static_cast<unsigned char>(full[kept.size()]) & 0xC0) != 0x80);
    CHECK_NOTHROW((void)json(msg).dump());
  }
}

}  // namespace
