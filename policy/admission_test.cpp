// policy::Validate on hand-built requests, per SEMANTICS.md "Requests": what is evaluated, what
// is allowed at once, and what a malformed object gets.
#include "policy/admission.h"

#include <doctest/doctest.h>

#include "policy/test_support.h"

namespace {

using namespace rootgate::policy;
using namespace rootgate::policy::testing;
using nlohmann::json;

constexpr const char* kUid0 = "/spec/containers/0/securityContext/runAsUser";

Request PodRequest(const std::string& operation, json object, json old_object = nullptr) {
  Request r;
  r.uid = "705ab4f5-6393-11e8-b7cc-42010a800002";
  r.kind = {"", "v1", "Pod"};
  r.resource = {"", "v1", "pods"};
  r.operation = operation;
  r.name = "web";
  r.namespace_name = "demo";
  r.username = "alice";
  r.object = std::move(object);
  r.old_object = std::move(old_object);
  return r;
}

Request DeploymentRequest(const std::string& operation, json object, json old_object = nullptr) {
  Request r = PodRequest(operation, std::move(object), std::move(old_object));
  r.kind = {"apps", "v1", "Deployment"};
  r.resource = {"apps", "v1", "deployments"};
  return r;
}

json Deployment(const json& pod) {
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", "web"}, {"namespace", "demo"}}},
          {"spec",
           {{"replicas", 1},
            {"template", {{"metadata", {{"labels", {{"app", "web"}}}}}, {"spec", pod["spec"]}}}}}};
}

json WithEphemeral(json pod, const std::string& name, const char* image) {
  pod["spec"]["ephemeralContainers"].push_back({{"name", name}, {"image", image}});
  return pod;
}

const ImageFactMap kFacts = FactsWithUser("1000");
const Policy& kPolicy = BuiltinDefaultPolicy();

TEST_CASE("DELETE and CONNECT are allowed without evaluation") {
  for (const char* op : {"DELETE", "CONNECT"}) {
    INFO(std::string(op));
    Request r = PodRequest(op, nullptr, Apply(BasePod(), {{kUid0, 0}}));
    const Decision d = Validate(r, kFacts, kPolicy);
    CHECK(d.allowed);
    CHECK_FALSE(d.evaluated);
    CHECK(d.violations.empty());
    // Even with an object (CONNECT carries PodExecOptions and the like).
    r.object = Apply(BasePod(), {{kUid0, 0}});
    CHECK(Validate(r, kFacts, kPolicy).allowed);
  }
}

TEST_CASE("subresources other than ephemeralcontainers are allowed at once") {
  for (const char* sub : {"status", "binding", "exec", "attach", "portforward"}) {
    INFO(std::string(sub));
    Request r = PodRequest("UPDATE", Apply(BasePod(), {{kUid0, 0}}));
    r.sub_resource = sub;
    const Decision d = Validate(r, kFacts, kPolicy);
    CHECK(d.allowed);
    CHECK_FALSE(d.evaluated);
  }
}

TEST_CASE("Pod CREATE is evaluated; dryRun the same way") {
  const json root = Apply(BasePod(), {{kUid0, 0}});
  for (bool dry : {false, true}) {
    INFO("dryRun " << dry);
    Request r = PodRequest("CREATE", root);
    r.dry_run = dry;
    const Decision d = Validate(r, kFacts, kPolicy);
    CHECK(d.evaluated);
    CHECK_FALSE(d.allowed);
    CHECK(d.code == 403);
    CHECK(Ids(d.violations) == "rootUser");
    Request ok = PodRequest("CREATE", BasePod());
    ok.dry_run = dry;
    CHECK(Validate(ok, kFacts, kPolicy).allowed);
    CHECK(Validate(ok, kFacts, kPolicy).evaluated);
  }
}

TEST_CASE("Pod UPDATE: evaluated only when who it runs as could change") {
  const json old_pod = Apply(BasePod(), {{kUid0, 0}});  // already admitted, e.g. before rootgate
  SUBCASE("labels only: allowed without evaluation") {
    const json new_pod = Apply(old_pod, {{"/metadata/labels/tier", "web"}});
    const Decision d = Validate(PodRequest("UPDATE", new_pod, old_pod), kFacts, kPolicy);
    CHECK(d.allowed);
    CHECK_FALSE(d.evaluated);
  }
  SUBCASE("annotations and tolerations only: allowed without evaluation") {
    const json new_pod = Apply(old_pod, {{"/metadata/annotations/a", "b"},
                                         {"/spec/tolerations/0", {{"operator", "Exists"}}}});
    const Decision d = Validate(PodRequest("UPDATE", new_pod, old_pod), kFacts, kPolicy);
    CHECK(d.allowed);
    CHECK_FALSE(d.evaluated);
  }
  SUBCASE("image changed: evaluated") {
    const json new_pod = Apply(old_pod, {{"/spec/containers/0/image", kRootImage}});
    const Decision d = Validate(PodRequest("UPDATE", new_pod, old_pod), kFacts, kPolicy);
    CHECK(d.evaluated);
    CHECK_FALSE(d.allowed);
    CHECK(Ids(d.violations) == "rootUser");
  }
  SUBCASE("image changed to a non-root one: evaluated and allowed") {
    const json before = Apply(BasePod(), {{"/spec/containers/0/image", kRootImage}});
    const Decision d = Validate(PodRequest("UPDATE", BasePod(), before), kFacts, kPolicy);
    CHECK(d.evaluated);
    CHECK(d.allowed);
  }
  SUBCASE("pod securityContext changed: evaluated") {
    const json new_pod = Apply(BasePod(), {{"/spec/securityContext/runAsUser", 0}});
    const Decision d = Validate(PodRequest("UPDATE", new_pod, BasePod()), kFacts, kPolicy);
    CHECK(d.evaluated);
    CHECK_FALSE(d.allowed);
  }
  SUBCASE("hostUsers changed: evaluated") {
    const json before = Apply(old_pod, {{"/spec/hostUsers", false}});
    const Decision d = Validate(PodRequest("UPDATE", old_pod, before), kFacts, kPolicy);
    CHECK(d.evaluated);
    CHECK_FALSE(d.allowed);
  }
}

TEST_CASE("controller UPDATE: evaluated only when the pod template changes") {
  const json old_dep = Deployment(Apply(BasePod(), {{kUid0, 0}}));
  SUBCASE("replicas changed, template unchanged") {
    const json new_dep = Apply(old_dep, {{"/spec/replicas", 3}});
    const Decision d = Validate(DeploymentRequest("UPDATE", new_dep, old_dep), kFacts, kPolicy);
    CHECK(d.allowed);
    CHECK_FALSE(d.evaluated);
  }
  SUBCASE("template image changed") {
    const json new_dep = Apply(old_dep, {{"/spec/template/spec/containers/0/image", "busybox"}});
    const Decision d = Validate(DeploymentRequest("UPDATE", new_dep, old_dep), kFacts, kPolicy);
    CHECK(d.evaluated);
    CHECK_FALSE(d.allowed);
    CHECK(FindingOf(d.violations, RuleId::kRootUser).field ==
          "spec.template.spec.containers[0].securityContext.runAsUser");
  }
  SUBCASE("CREATE is evaluated") {
    const Decision d = Validate(DeploymentRequest("CREATE", old_dep), kFacts, kPolicy);
    CHECK(d.evaluated);
    CHECK_FALSE(d.allowed);
  }
}

TEST_CASE("CronJob and PodTemplate UPDATE: only the pod template counts") {
  const json spec = Apply(BasePod(), {{kUid0, 0}})["spec"];
  const json old_cron = {
      {"apiVersion", "batch/v1"},
      {"kind", "CronJob"},
      {"metadata", {{"name", "nightly"}, {"namespace", "demo"}}},
      {"spec",
       {{"schedule", "0 3 * * *"},
        {"jobTemplate", {{"spec", {{"backoffLimit", 1}, {"template", {{"spec", spec}}}}}}}}}};
  auto cron_update = [&](const Edits& edits) {
    Request r = PodRequest("UPDATE", Apply(old_cron, edits), old_cron);
    r.kind = {"batch", "v1", "CronJob"};
    r.resource = {"batch", "v1", "cronjobs"};
    return Validate(r, kFacts, kPolicy);
  };
  CHECK_FALSE(cron_update({{"/spec/schedule", "0 4 * * *"}}).evaluated);
  CHECK_FALSE(cron_update({{"/spec/jobTemplate/spec/backoffLimit", 3}}).evaluated);
  CHECK(cron_update({{"/spec/jobTemplate/spec/backoffLimit", 3}}).allowed);
  const Decision changed =
      cron_update({{"/spec/jobTemplate/spec/template/metadata/labels/a", "b"}});
  CHECK(changed.evaluated);
  CHECK_FALSE(changed.allowed);

  const json old_tmpl = {{"apiVersion", "v1"},
                         {"kind", "PodTemplate"},
                         {"metadata", {{"name", "t"}, {"namespace", "demo"}}},
                         {"template", {{"spec", spec}}}};
  auto tmpl_update = [&](const Edits& edits) {
    Request r = PodRequest("UPDATE", Apply(old_tmpl, edits), old_tmpl);
    r.kind = {"", "v1", "PodTemplate"};
    r.resource = {"", "v1", "podtemplates"};
    return Validate(r, kFacts, kPolicy);
  };
  CHECK_FALSE(tmpl_update({{"/metadata/labels/a", "b"}}).evaluated);
  CHECK(tmpl_update({{"/template/spec/containers/0/image", "busybox"}}).evaluated);
}

TEST_CASE("UPDATE pods/ephemeralcontainers: only the new ephemeral containers are judged") {
  // The running pod has a root regular container and a root ephemeral container from before.
  const json old_pod = WithEphemeral(Apply(BasePod(), {{kUid0, 0}}), "debug-1", kRootImage);
  auto request = [&](const json& new_pod) {
    Request r = PodRequest("UPDATE", new_pod, old_pod);
    r.sub_resource = "ephemeralcontainers";
    return r;
  };
  SUBCASE("a new root ephemeral container is denied") {
    const Decision d =
        Validate(request(WithEphemeral(old_pod, "debug-2", kRootImage)), kFacts, kPolicy);
    CHECK(d.evaluated);
    CHECK_FALSE(d.allowed);
    REQUIRE(d.violations.size() == 1);
    CHECK(d.violations[0].rule == RuleId::kRootUser);
    CHECK(d.violations[0].container == "debug-2");
    CHECK(d.violations[0].field == "spec.ephemeralContainers[1].securityContext.runAsUser");
  }
  SUBCASE("a new non-root ephemeral container is allowed") {
    const Decision d =
        Validate(request(WithEphemeral(old_pod, "debug-2", kImage)), kFacts, kPolicy);
    CHECK(d.allowed);
    CHECK(d.violations.empty());
  }
  SUBCASE("no new ephemeral container: nothing to judge") {
    const Decision d = Validate(request(old_pod), kFacts, kPolicy);
    CHECK(d.allowed);
    CHECK(d.violations.empty());
  }
}

TEST_CASE("unknown kinds are allowed") {
  Request r = PodRequest(
      "CREATE",
      json{{"apiVersion", "v1"}, {"kind", "Service"}, {"spec", {{"ports", json::array()}}}});
  r.kind = {"", "v1", "Service"};
  CHECK(Validate(r, kFacts, kPolicy).allowed);
  CHECK_FALSE(Validate(r, kFacts, kPolicy).evaluated);
  r.kind = {"example.com", "v1", "Deployment"};
  r.object = Deployment(Apply(BasePod(), {{kUid0, 0}}));
  CHECK(Validate(r, kFacts, kPolicy).allowed);
}

TEST_CASE("a malformed object is refused with 400 and the field") {
  SUBCASE("runAsUser as a string") {
    const Decision d =
        Validate(PodRequest("CREATE", Apply(BasePod(), {{kUid0, "0"}})), kFacts, kPolicy);
    CHECK_FALSE(d.allowed);
    CHECK(d.code == 400);
    CHECK(Contains(d.error, "spec.containers[0].securityContext.runAsUser"));
  }
  SUBCASE("template spec not an object") {
    const Decision d = Validate(
        DeploymentRequest("CREATE", Apply(Deployment(BasePod()), {{"/spec/template/spec", 5}})),
        kFacts, kPolicy);
    CHECK_FALSE(d.allowed);
    CHECK(d.code == 400);
    CHECK(Contains(d.error, "spec.template.spec"));
  }
}

TEST_CASE("exemptions apply through Validate: namespace and requesting user") {
  Policy p;
  p.exemptions.namespaces = {"kube-system"};
  p.exemptions.usernames = {"system:serviceaccount:kube-system:replicaset-controller"};
  Request r = PodRequest("CREATE", Apply(BasePod(), {{kUid0, 0}}));
  CHECK_FALSE(Validate(r, kFacts, p).allowed);
  r.namespace_name = "kube-system";
  CHECK(Validate(r, kFacts, p).allowed);
  r.namespace_name = "demo";
  r.username = "system:serviceaccount:kube-system:replicaset-controller";
  CHECK(Validate(r, kFacts, p).allowed);
}

}  // namespace
