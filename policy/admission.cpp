#include "policy/admission.h"

#include <algorithm>

#include "policy/evaluator.h"

namespace rootgate::policy {

using nlohmann::json;

namespace {

Plan Skip(std::string reason) {
  Plan p;
  p.skip_reason = std::move(reason);
  return p;
}

// The pod spec of an object by its view's spec path, or null.
const json* SpecAt(const json& object, std::string_view path) {
  const json* cur = &object;
  while (!path.empty()) {
    size_t dot = path.find('.');
    std::string key(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

const json& FieldOr(const json& obj, const char* key, const json& fallback) {
  if (!obj.is_object()) return fallback;
  auto it = obj.find(key);
  return it == obj.end() ? fallback : *it;
}

// The parts of a pod spec whose change can change who a container runs as.
json SecuritySignature(const json& spec) {
  static const json kNull;
  json sig = json::object();
  sig["securityContext"] = FieldOr(spec, "securityContext", kNull);
  sig["hostUsers"] = FieldOr(spec, "hostUsers", kNull);
  sig["os"] = FieldOr(spec, "os", kNull);
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    json entries = json::array();
    const json& containers = FieldOr(spec, list, kNull);
    if (containers.is_array()) {
      for (const json& c : containers) {
        entries.push_back({FieldOr(c, "name", kNull), FieldOr(c, "image", kNull),
                           FieldOr(c, "securityContext", kNull)});
      }
    }
    sig[list] = std::move(entries);
  }
  return sig;
}

std::vector<std::string> EphemeralNames(const json& spec) {
  std::vector<std::string> names;
  static const json kNull;
  const json& list = FieldOr(spec, "ephemeralContainers", kNull);
  if (!list.is_array()) return names;
  for (const json& c : list) {
    const json& n = FieldOr(c, "name", kNull);
    if (n.is_string()) names.push_back(n.get<std::string>());
  }
  return names;
}

}  // namespace

bool ComparesWholeTemplates(const Request& request) {
  return request.operation == "UPDATE" && request.sub_resource.empty() &&
         IsPodBearingKind(request.kind.group, request.kind.kind) &&
         !(request.kind.group.empty() && request.kind.kind == "Pod");
}

Plan PlanRequest(const Request& request, const Policy& policy) {
  (void)policy;
  const std::string& op = request.operation;
  if (op == "DELETE" || op == "CONNECT") return Skip(op + " is always allowed");
  if (op != "CREATE" && op != "UPDATE") return Skip("operation " + op + " is not checked");
  const bool ephemeral = request.sub_resource == "ephemeralcontainers";
  if (!request.sub_resource.empty() && !ephemeral) {
    return Skip("subresource " + request.sub_resource + " is not checked");
  }
  if (!IsPodBearingKind(request.kind.group, request.kind.kind)) {
    return Skip("kind " + request.kind.kind + " is not pod-bearing");
  }
  if (request.object.is_null()) return Skip("request has no object");
  auto view = BuildWorkloadView(request.kind.group, request.kind.kind, request.object);
  if (!view) {
    Plan p;
    p.error = "object " + view.error();
    return p;
  }
  Plan plan;
  plan.view = std::move(view).value();
  plan.view.namespace_name = request.namespace_name;
  if (plan.view.name.empty()) plan.view.name = request.name;
  if (op == "UPDATE" && !request.old_object.is_null()) {
    const json* new_spec = SpecAt(request.object, plan.view.spec_path);
    const json* old_spec = SpecAt(request.old_object, plan.view.spec_path);
    static const json kNull;
    const json& n = new_spec ? *new_spec : kNull;
    const json& o = old_spec ? *old_spec : kNull;
    if (ephemeral) {
      std::vector<std::string> old_names = EphemeralNames(o);
      for (const std::string& name : EphemeralNames(n)) {
        if (std::find(old_names.begin(), old_names.end(), name) == old_names.end()) {
          plan.only_ephemeral.push_back(name);
        }
      }
      plan.restrict_to_ephemeral = true;
      if (plan.only_ephemeral.empty()) return Skip("no new ephemeral containers");
    } else if (plan.view.is_pod) {
      if (SecuritySignature(n) == SecuritySignature(o)) {
        return Skip("update changes no image, securityContext, hostUsers or os");
      }
    } else {
      // The pod template is the pod spec's parent: for a CronJob, spec.jobTemplate.spec.template
      // (a change elsewhere in the job template, e.g. backoffLimit, is not a template change).
      const std::string& spec_path = plan.view.spec_path;
      const std::string template_path = spec_path.substr(0, spec_path.rfind(".spec"));
      const json* new_template = SpecAt(request.object, template_path);
      const json* old_template = SpecAt(request.old_object, template_path);
      if ((new_template ? *new_template : kNull) == (old_template ? *old_template : kNull)) {
        return Skip("update does not change the pod template");
      }
    }
  }
  plan.evaluate = true;
  return plan;
}

Decision DecidePlan(const Plan& plan, const Request& request, const ImageFacts& facts,
                    const Policy& policy) {
  Decision d;
  if (!plan.error.empty()) {
    d.allowed = false;
    d.code = 400;
    d.error = plan.error;
    return d;
  }
  if (!plan.evaluate) {
    d.skip_reason = plan.skip_reason;
    return d;
  }
  EvalContext ctx{request.namespace_name, request.username,
                  plan.restrict_to_ephemeral ? &plan.only_ephemeral : nullptr};
  return Evaluate(plan.view, facts, policy, ctx);
}

Decision Validate(const Request& request, const ImageFacts& facts, const Policy& policy) {
  return DecidePlan(PlanRequest(request, policy), request, facts, policy);
}

}  // namespace rootgate::policy
