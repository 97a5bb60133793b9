#include "server/audit/audit.h"

#include <functional>
#include <map>

#include "policy/evaluator.h"
#include "policy/workload.h"

namespace rootgate::server::audit {

using nlohmann::json;

namespace {

std::string MetaString(const json& obj, const char* key) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  auto it = meta->find(key);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : std::string();
}

void FindOwner(const json& obj, AuditResult* r) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return;
  auto refs = meta->find("ownerReferences");
  if (refs == meta->end() || !refs->is_array()) return;
  for (const json& ref : *refs) {
    auto controller = ref.is_object() ? ref.find("controller") : ref.end();
    if (controller == ref.end() || !controller->is_boolean() || !controller->get<bool>()) continue;
    auto kind = ref.find("kind");
    auto name = ref.find("name");
    if (kind != ref.end() && kind->is_string()) r->owner_kind = kind->get<std::string>();
    if (name != ref.end() && name->is_string()) r->owner_name = name->get<std::string>();
    return;
  }
}

// Objects of one batch (at most a page) with the facts they need.
class Batch {
 public:
  Batch(const policy::Policy& policy, const AuditOptions& options, AuditSink& sink, AuditSummary* summary)
      : policy_(policy), options_(options), sink_(sink), summary_(summary) {}

  void Add(const kube::ApiResource& resource, json&& object) {
    resource_ = &resource;
    objects_.push_back(std::move(object));
    if (objects_.size() >= options_.page_size) Flush();
  }

  void Flush() {
    if (objects_.empty()) return;
    if (options_.resolver == nullptr) {
      const policy::NoImageFacts none;
      Evaluate([&none](size_t) -> const policy::ImageFacts& { return none; });
    } else if (options_.pull_secrets == nullptr) {
      const ResolvedImages resolved = options_.resolver->Resolve(Images(0, objects_.size()), policy_, Deadline());
      Evaluate([&resolved](size_t) -> const policy::ImageFacts& { return resolved.facts; });
    } else {
      FlushWithPullSecrets();
    }
    objects_.clear();
  }

 private:
  Clock::TimePoint Deadline() const {
    const SteadyClock steady;
    const Clock& clock = options_.clock != nullptr ? *options_.clock : steady;
    return clock.Now() + options_.lookup_timeout;
  }

  // The images whose user objects_[first, last) need.
  std::vector<std::string> Images(size_t first, size_t last) const {
    std::vector<std::string> images;
    const std::string_view group = resource_->group;
    for (size_t i = first; i < last; ++i) {
      auto view = policy::BuildWorkloadView(group, resource_->kind, objects_[i]);
      if (!view) continue;
      for (std::string& image : policy::ImagesNeedingFacts(view.value(), policy_)) images.push_back(std::move(image));
    }
    return images;
  }

  // The objects whose pods have the same pull secrets (same namespace, same keyring) share one
  // lookup; results keep the list's order.
  void FlushWithPullSecrets() {
    struct Group {
      PullKeyring keyring;
      std::vector<std::string> images;
      ResolvedImages resolved;
    };
    std::map<std::string, Group> groups;
    std::vector<Group*> of(objects_.size());
    for (size_t i = 0; i < objects_.size(); ++i) {
      auto view = policy::BuildWorkloadView(resource_->group, resource_->kind, objects_[i]);
      PullKeyring keyring;
      if (view && view.value().pod_spec != nullptr) {
        keyring = options_.pull_secrets->For(MetaString(objects_[i], "namespace"), *view.value().pod_spec);
      }
      auto [it, added] = groups.try_emplace(MetaString(objects_[i], "namespace") + "\n" + keyring.Fingerprint());
      if (added) it->second.keyring = std::move(keyring);
      of[i] = &it->second;
      for (std::string& image : Images(i, i + 1)) it->second.images.push_back(std::move(image));
    }
    const auto deadline = Deadline();
    for (auto& [key, g] : groups) g.resolved = options_.resolver->Resolve(g.images, policy_, deadline, &g.keyring);
    Evaluate([&of](size_t i) -> const policy::ImageFacts& { return of[i]->resolved.facts; });
  }

  void Evaluate(const std::function<const policy::ImageFacts&(size_t)>& facts_of) {
    for (size_t i = 0; i < objects_.size(); ++i) {
      const json& o = objects_[i];
      const policy::ImageFacts& facts = facts_of(i);
      std::string error;
      std::optional<AuditResult> r = EvaluateObject(*resource_, o, policy_, facts, &error);
      if (!r) {
        summary_->object_errors.push_back(
            {"cluster", 0, 0, resource_->kind + " " + kube::ListKey(o) + ": " + error, true});
        continue;
      }
      Count(*r);
      sink_.OnResult(*r);
    }
  }

  void Count(const AuditResult& r) {
    ++summary_->objects;
    if (r.check.skipped) {
      ++summary_->skipped;
    } else {
      ++(r.check.decision.allowed ? summary_->allowed : summary_->denied);
    }
    summary_->observed_containers += r.observed.size();
    for (const ObservedUser& u : r.observed) summary_->observed_root += u.uid == 0 ? 1 : 0;
  }

  const policy::Policy& policy_;
  const AuditOptions& options_;
  AuditSink& sink_;
  AuditSummary* summary_;
  const kube::ApiResource* resource_ = nullptr;
  std::vector<json> objects_;
};

}  // namespace

const std::vector<kube::ApiResource>& AuditedResources() {
  static const std::vector<kube::ApiResource> kResources = {
      {"", "v1", "pods", "Pod", true},
      {"apps", "v1", "deployments", "Deployment", true},
      {"apps", "v1", "replicasets", "ReplicaSet", true},
      {"apps", "v1", "statefulsets", "StatefulSet", true},
      {"apps", "v1", "daemonsets", "DaemonSet", true},
      {"batch", "v1", "jobs", "Job", true},
      {"batch", "v1", "cronjobs", "CronJob", true},
      {"", "v1", "replicationcontrollers", "ReplicationController", true},
      {"", "v1", "podtemplates", "PodTemplate", true},
  };
  return kResources;
}

std::optional<AuditResult> EvaluateObject(const kube::ApiResource& resource, const json& object,
                                          const policy::Policy& policy, const policy::ImageFacts& facts,
                                          std::string* error) {
  if (!object.is_object()) {
    *error = "expected an object";
    return std::nullopt;
  }
  auto view = policy::BuildWorkloadView(resource.group, resource.kind, object);
  if (!view) {
    *error = view.error();
    return std::nullopt;
  }
  AuditResult r;
  CheckResult& c = r.check;
  c.source = "cluster";
  c.api_version = resource.ApiVersion();
  c.kind = resource.kind;
  c.namespace_name = MetaString(object, "namespace");
  c.name = MetaString(object, "name");
  r.uid = MetaString(object, "uid");
  const std::string ns = c.namespace_name.empty() ? "default" : c.namespace_name;
  c.decision = policy::Evaluate(view.value(), facts, policy, policy::EvalContext{ns, "", nullptr});
  c.skipped = !c.decision.evaluated;
  c.skip_reason = c.decision.skip_reason;
  FindOwner(object, &r);
  if (resource.kind == "Pod" && resource.group.empty()) {
    AddObserved(object, view.value(), policy::PredictUsers(view.value(), facts, policy), policy, &r);
  }
  c.decision.allowed = c.decision.violations.empty();
  c.decision.code = c.decision.allowed ? 0 : 403;
  return r;
}

AuditSummary RunAudit(kube::KubeClient& client, const policy::Policy& policy, const AuditOptions& options,
                      AuditSink& sink) {
  const auto start = std::chrono::steady_clock::now();
  AuditSummary summary;
  AuditOptions opts = options;
  if (opts.page_size == 0) opts.page_size = 250;
  const std::vector<kube::ApiResource>& resources = opts.resources.empty() ? AuditedResources() : opts.resources;
  Batch batch(policy, opts, sink, &summary);
  bool unreachable = false;
  for (const kube::ApiResource& resource : resources) {
    if (unreachable) {
      summary.errors.push_back({resource.Name(), {0, "", "list " + resource.Name() + ": not tried (an earlier list got no answer from the API server)"}});
      continue;
    }
    kube::ListAllResult list = kube::ListAll(client, resource, opts.namespace_name, opts.page_size,
                                             [&](json&& item) { batch.Add(resource, std::move(item)); });
    batch.Flush();
    for (std::string& n : list.notes) summary.notes.push_back(std::move(n));
    if (list.error) {
      summary.errors.push_back({resource.Name(), *list.error});
      unreachable = list.error->status == 0;
    }
    sink.OnResourceDone(resource, list);
  }
  summary.requests = client.stats();
  summary.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return summary;
}

}  // namespace rootgate::server::audit
