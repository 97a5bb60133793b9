// PolicyReport (wgpolicyk8s.io/v1alpha2) and OpenReports Report (openreports.io/v1alpha1): one
// per namespace, built from audit results and written with server-side apply.
#include "policy/rule_id.h"
#include "server/audit/audit_output.h"
#include "server/kube/kube_list.h"

namespace rootgate::server::audit {

using nlohmann::json;

namespace {

constexpr const char* kManagedBy = "app.kubernetes.io/managed-by";

std::string Joined(const std::vector<const policy::Finding*>& findings, std::string (*part)(const policy::Finding&)) {
  std::string s;
  for (const policy::Finding* f : findings) {
    std::string p = part(*f);
    if (p.empty()) continue;
    if (!s.empty()) s += "; ";
    s += p;
    if (s.size() > 1000) return s.substr(0, 1000) + "…";
  }
  return s;
}

json ResourceRef(const AuditResult& r) {
  json ref = {{"apiVersion", r.check.api_version}, {"kind", r.check.kind}, {"name", r.check.name},
              {"namespace", r.check.namespace_name}};
  if (!r.uid.empty()) ref["uid"] = r.uid;
  return ref;
}

json Result(const AuditResult& r, const std::string& rule, const char* outcome, std::string message,
            const std::vector<const policy::Finding*>& findings, int64_t now) {
  json j = {{"source", "rootgate"}, {"policy", "rootgate"}, {"result", outcome},
            {"scored", true},       {"category", "Pod Security"},
            {"timestamp", {{"seconds", now}, {"nanos", 0}}},
            {"resources", json::array({ResourceRef(r)})}, {"message", std::move(message)}};
  if (!rule.empty()) j["rule"] = rule;
  if (std::string(outcome) == "fail") j["severity"] = "high";
  json props = json::object();
  const std::string containers = Joined(findings, [](const policy::Finding& f) { return f.container; });
  const std::string fields = Joined(findings, [](const policy::Finding& f) { return f.field; });
  if (!containers.empty()) props["containers"] = containers;
  if (!fields.empty()) props["fields"] = fields;
  if (!props.empty()) j["properties"] = std::move(props);
  return j;
}

}  // namespace

ReportBuilder::ReportBuilder(const policy::Policy& policy, ReportApi api, int64_t unix_seconds)
    : policy_(policy), api_(api), now_(unix_seconds) {}

void ReportBuilder::OnResult(const AuditResult& r) {
  json& results = results_[r.check.namespace_name];
  if (results.is_null()) results = json::array();
  if (r.check.skipped) {
    results.push_back(Result(r, "", "skip", r.check.skip_reason, {}, now_));
    return;
  }
  policy::Mode mode;
  policy::RuleActions actions;
  policy_.ForNamespace(r.check.namespace_name, &mode, &actions);
  for (size_t i = 0; i < policy::kRuleCount; ++i) {
    if (actions[i] == policy::Action::kOff) continue;
    const auto id = static_cast<policy::RuleId>(i);
    std::vector<const policy::Finding*> failed, warned;
    for (const policy::Finding& f : r.check.decision.violations) if (f.rule == id) failed.push_back(&f);
    for (const policy::Finding& f : r.check.decision.warnings) if (f.rule == id) warned.push_back(&f);
    for (const policy::Finding& f : r.check.decision.audits) if (f.rule == id) warned.push_back(&f);
    const std::string rule(policy::RuleName(id));
    const auto message = [](const policy::Finding& f) { return f.message; };
    if (!failed.empty()) {
      results.push_back(Result(r, rule, "fail", Joined(failed, message), failed, now_));
    } else if (!warned.empty()) {
      results.push_back(Result(r, rule, "warn", Joined(warned, message), warned, now_));
    } else {
      results.push_back(Result(r, rule, "pass", rule + ": no finding", {}, now_));
    }
  }
}

std::map<std::string, json> ReportBuilder::Reports() const {
  std::map<std::string, json> out;
  const kube::ApiResource res = ReportResource(api_);
  for (const auto& [ns, results] : results_) {
    json summary = {{"pass", 0}, {"fail", 0}, {"warn", 0}, {"error", 0}, {"skip", 0}};
    for (const json& r : results) summary[r["result"].get<std::string>()] = summary[r["result"].get<std::string>()].get<int>() + 1;
    json report = {{"apiVersion", res.ApiVersion()},
                   {"kind", res.kind},
                   {"metadata", {{"name", kReportName}, {"namespace", ns}, {"labels", {{kManagedBy, "rootgate"}}}}},
                   {"summary", std::move(summary)},
                   {"results", results}};
    if (api_ == ReportApi::kOpenReports) report["source"] = "rootgate";
    out[ns] = std::move(report);
  }
  return out;
}

kube::ApiResource ReportResource(ReportApi api) {
  if (api == ReportApi::kOpenReports) return {"openreports.io", "v1alpha1", "reports", "Report", true};
  return {"wgpolicyk8s.io", "v1alpha2", "policyreports", "PolicyReport", true};
}

std::vector<std::string> WriteReports(kube::KubeClient& client, ReportApi api, const std::map<std::string, json>& reports,
                                      const std::string& only_namespace, std::vector<std::string>* done) {
  std::vector<std::string> errors;
  const kube::ApiResource res = ReportResource(api);
  for (const auto& [ns, report] : reports) {
    const std::string path = res.Path(ns) + "/" + kReportName;
    auto applied = client.Apply(path, report, "rootgate", "apply " + res.Name() + " " + ns + "/" + kReportName);
    if (!applied.ok()) {
      errors.push_back(applied.error->message);
    } else {
      done->push_back("applied " + res.Name() + " " + ns + "/" + kReportName);
    }
  }
  // rootgate's reports in namespaces that have no objects any more.
  std::vector<std::string> stale;
  auto list = kube::ListAll(client, res, only_namespace, 250, [&](json&& item) {
    const json* labels = item.contains("metadata") ? &item["metadata"]["labels"] : nullptr;
    if (labels == nullptr || !labels->is_object() || labels->value(kManagedBy, "") != "rootgate") return;
    const std::string ns = item["metadata"].value("namespace", "");
    if (reports.count(ns) == 0) stale.push_back(ns + "/" + item["metadata"].value("name", ""));
  });
  if (list.error) {
    errors.push_back(list.error->message + " (stale reports not deleted)");
    return errors;
  }
  for (const std::string& key : stale) {
    const size_t slash = key.find('/');
    const std::string path = res.Path(key.substr(0, slash)) + "/" + key.substr(slash + 1);
    auto deleted = client.Delete(path, "delete " + res.Name() + " " + key);
    if (!deleted.ok()) {
      errors.push_back(deleted.error->message);
    } else {
      done->push_back("deleted " + res.Name() + " " + key + " (no workloads left in the namespace)");
    }
  }
  return errors;
}

}  // namespace rootgate::server::audit
