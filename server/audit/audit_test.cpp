// The audit engine: objects evaluated as `check` does, owners, what the kubelet reports against
// the prediction, kinds that cannot be listed, and the per-namespace reports.
#include "server/audit/audit.h"

#include <doctest/doctest.h>

#include "policy/policy_parse.h"
#include "server/audit/audit_output.h"
#include "server/kube/kube_test_support.h"

namespace {

using namespace rootgate::server::audit;
using namespace rootgate::server::kube;
using namespace rootgate::server::kube::testing;
using nlohmann::json;
namespace policy = rootgate::policy;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const ApiResource kPods{"", "v1", "pods", "Pod", true};

// A pod with one container "app" and a status reporting `uid` (none when < 0).
json PodWith(const std::string& security, int64_t uid, bool host_users = true) {
  json pod = json::parse(R"({"metadata":{"namespace":"demo","name":"web","uid":"u-1",
      "ownerReferences":[{"kind":"ReplicaSet","name":"web-1","controller":true}]},
      "spec":{"containers":[{"name":"app","image":"registry.test/app:1","securityContext":)" + security + "}]}}");
  if (!host_users) pod["spec"]["hostUsers"] = false;
  if (uid >= 0) {
    pod["status"]["containerStatuses"] = json::array({{{"name", "app"}, {"user", {{"linux", {{"uid", uid}, {"gid", 3}}}}}}});
  }
  return pod;
}

AuditResult Evaluate(const json& pod, const policy::Policy& p = policy::BuiltinDefaultPolicy()) {
  std::string error;
  auto r = EvaluateObject(kPods, pod, p, policy::NoImageFacts(), &error);
  REQUIRE_MESSAGE(r.has_value(), error);
  return *r;
}

size_t Count(const std::vector<policy::Finding>& findings, const std::string& reason) {
  size_t n = 0;
  for (const auto& f : findings) n += f.reason == reason ? 1 : 0;
  return n;
}

TEST_CASE("observed uid 0 is rootUser whatever the spec says; the contradiction is a warning") {
  const AuditResult r = Evaluate(PodWith(R"({"runAsUser":1000})", 0));
  CHECK(r.check.kind == "Pod");
  CHECK(r.check.api_version == "v1");
  CHECK(r.owner_kind == "ReplicaSet");
  CHECK(r.owner_name == "web-1");
  CHECK(r.uid == "u-1");
  REQUIRE(r.observed.size() == 1);
  CHECK(r.observed[0].uid == 0);
  CHECK(r.observed[0].gid == 3);
  CHECK_FALSE(r.check.decision.allowed);
  REQUIRE(r.check.decision.violations.size() == 1);
  const policy::Finding& v = r.check.decision.violations[0];
  CHECK(v.rule == policy::RuleId::kRootUser);
  CHECK(v.field == "status.containerStatuses[0].user.linux.uid");
  CHECK(Has(v.message, "runs as root"));
  CHECK(Has(v.message, "uid 1000 (spec.containers[0].securityContext.runAsUser)"));
  REQUIRE(Count(r.check.decision.warnings, "observed uid differs from prediction") == 1);
}

TEST_CASE("observed against predicted") {
  struct Case {
    const char* name;
    std::string security;
    int64_t uid;
    bool host_users;
    bool allowed;
    size_t differs;
  } cases[] = {
      {"agrees, non-root", R"({"runAsUser":1000})", 1000, true, true, 0},
      {"predicted uid differs", R"({"runAsUser":1000})", 2000, true, true, 1},
      // Unknown image user under runAsNonRoot is allowed by the spec; the kubelet's answer is news.
      {"predicted unknown, observed non-root", R"({"runAsNonRoot":true})", 1000, true, true, 1},
      // Unknown and observed root: the violation says it all.
      {"predicted unknown, observed root", R"({"runAsNonRoot":true})", 0, true, false, 0},
      {"predicted root, observed non-root", R"({"runAsUser":0})", 1000, true, false, 1},
      {"no report", R"({"runAsUser":1000})", -1, true, true, 0},
      // A user namespace maps uid 0 to an unprivileged host uid; the policy allows that.
      {"user namespace", R"({"runAsUser":0})", 0, false, true, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    const AuditResult r = Evaluate(PodWith(c.security, c.uid, c.host_users));
    CHECK(r.check.decision.allowed == c.allowed);
    CHECK(Count(r.check.decision.warnings, "observed uid differs from prediction") == c.differs);
    CHECK(Count(r.check.decision.violations, "observed uid 0") == (c.uid == 0 && c.host_users ? 1u : 0u));
  }
}

TEST_CASE("observed root follows the rule's action; init and ephemeral statuses count") {
  auto parsed = policy::ParsePolicy("preset: default\nrules:\n  rootUser: warn\n");
  REQUIRE(parsed.ok());
  json pod = PodWith(R"({"runAsUser":1000})", -1);
  pod["spec"]["initContainers"] = json::array({{{"name", "init"}, {"image", "x:1"}, {"securityContext", {{"runAsUser", 5}}}}});
  pod["status"]["initContainerStatuses"] = json::array({{{"name", "init"}, {"user", {{"linux", {{"uid", 0}}}}}}});
  const AuditResult r = Evaluate(pod, parsed.value());
  CHECK(r.check.decision.allowed);
  CHECK(Count(r.check.decision.warnings, "observed uid 0") == 1);
  CHECK(r.check.decision.warnings[0].field == "status.initContainerStatuses[0].user.linux.uid");
  REQUIRE(r.observed.size() == 1);
  CHECK_FALSE(r.observed[0].gid.has_value());

  auto pss = policy::ParsePolicy("preset: pss-restricted\n");
  REQUIRE(pss.ok());
  const AuditResult off = Evaluate(PodWith(R"({"runAsUser":1000, "runAsNonRoot": true})", 0), pss.value());
  CHECK(off.check.decision.allowed);  // rootUser is not part of pss-restricted
}

TEST_CASE("RunAudit: every kind listed; a 403 on one kind is an error naming it, the rest stand") {
  FakeTransport::Handler handler = [](const SentRequest& s) {
    if (Has(s.path, "/deployments")) {
      return Json(403, StatusBody(403, "Forbidden", "deployments.apps is forbidden: cannot list"));
    }
    if (Has(s.path, "/pods?")) {
      return Json(200, R"({"metadata":{},"items":[{"metadata":{"namespace":"demo","name":"p"},
          "spec":{"containers":[{"name":"c","image":"x:1","securityContext":{"runAsUser":0}}]}}]})");
    }
    return Json(200, R"({"metadata":{},"items":[]})");
  };
  auto t = std::make_unique<FakeTransport>(handler);
  FakeTransport* transport = t.get();
  ClientConfig config;
  config.server = "https://api:1";
  KubeClient client(config, std::move(t), std::make_unique<FixedCredentials>(std::vector<std::string>{"t"}));
  struct Collect : AuditSink {
    std::vector<AuditResult> results;
    void OnResult(const AuditResult& r) override { results.push_back(r); }
  } sink;
  AuditOptions options;
  options.namespace_name = "demo";
  const AuditSummary s = RunAudit(client, policy::BuiltinDefaultPolicy(), options, sink);
  CHECK(transport->sent().size() == 9);
  for (const auto& sent : transport->sent()) CHECK(Has(sent.path, "/namespaces/demo/"));
  REQUIRE(s.errors.size() == 1);
  CHECK(s.errors[0].resource == "deployments.apps");
  CHECK(s.errors[0].error.status == 403);
  CHECK_FALSE(s.complete());
  REQUIRE(sink.results.size() == 1);
  CHECK(s.denied == 1);
}

TEST_CASE("PolicyReport per namespace: a result per active rule, summary counts") {
  ReportBuilder builder(policy::BuiltinDefaultPolicy(), ReportApi::kPolicyReport, 1796299200);
  builder.OnResult(Evaluate(PodWith(R"({"runAsUser":0})", -1)));
  builder.OnResult(Evaluate(PodWith(R"({"runAsUser":1000})", -1)));
  const auto reports = builder.Reports();
  REQUIRE(reports.size() == 1);
  const json& r = reports.at("demo");
  CHECK(r["apiVersion"] == "wgpolicyk8s.io/v1alpha2");
  CHECK(r["kind"] == "PolicyReport");
  CHECK(r["metadata"]["namespace"] == "demo");
  // The default preset has three rules (rootUser, unknownUser, privileged); two pods.
  CHECK(r["results"].size() == 6);
  CHECK(r["summary"]["fail"] == 1);
  CHECK(r["summary"]["pass"] == 5);
  const json& fail = r["results"][0];
  CHECK(fail["rule"] == "rootUser");
  CHECK(fail["result"] == "fail");
  CHECK(fail["resources"][0]["kind"] == "Pod");
  CHECK(fail["resources"][0]["uid"] == "u-1");
  CHECK(fail["timestamp"]["seconds"] == 1796299200);
  CHECK(fail["properties"]["fields"] == "spec.containers[0].securityContext.runAsUser");

  ReportBuilder open(policy::BuiltinDefaultPolicy(), ReportApi::kOpenReports, 0);
  open.OnResult(Evaluate(PodWith(R"({"runAsUser":1000})", -1)));
  const json o = open.Reports().at("demo");
  CHECK(o["apiVersion"] == "openreports.io/v1alpha1");
  CHECK(o["kind"] == "Report");
  CHECK(o["source"] == "rootgate");
}

}  // namespace
