// What the kubelet reports each container runs as (KEP-3619), against the prediction.
#include "server/audit/audit.h"

namespace rootgate::server::audit {

using nlohmann::json;

namespace {

struct StatusList {
  const char* key;
  policy::ContainerKind kind;
};
constexpr StatusList kStatusLists[] = {{"initContainerStatuses", policy::ContainerKind::kInit},
                                       {"containerStatuses", policy::ContainerKind::kRegular},
                                       {"ephemeralContainerStatuses", policy::ContainerKind::kEphemeral}};

std::optional<int64_t> IntAt(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return std::nullopt;
  return it->get<int64_t>();
}

// The uid reported at `entry.user.linux`, if any.
std::optional<ObservedUser> ObservedOf(const json& entry, const std::string& field) {
  if (!entry.is_object()) return std::nullopt;
  auto user = entry.find("user");
  if (user == entry.end() || !user->is_object()) return std::nullopt;
  auto linux_user = user->find("linux");
  if (linux_user == user->end() || !linux_user->is_object()) return std::nullopt;
  std::optional<int64_t> uid = IntAt(*linux_user, "uid");
  auto name = entry.find("name");
  if (!uid || name == entry.end() || !name->is_string()) return std::nullopt;
  return ObservedUser{name->get<std::string>(), *uid, IntAt(*linux_user, "gid"), field + ".user.linux.uid"};
}

policy::Action RootUserAction(const policy::Policy& policy, const std::string& ns) {
  policy::Mode mode;
  policy::RuleActions actions;
  policy.ForNamespace(ns, &mode, &actions);
  const policy::Action a = actions[static_cast<size_t>(policy::RuleId::kRootUser)];
  if (a != policy::Action::kInherit) return a;
  return mode == policy::Mode::kEnforce ? policy::Action::kDeny
         : mode == policy::Mode::kWarn  ? policy::Action::kWarn
                                        : policy::Action::kAudit;
}

std::string DescribePrediction(const policy::PredictedUser* p) {
  if (p == nullptr) return "no prediction (the container is not in the spec)";
  if (!p->uid) return "an unknown user (" + p->source + ")";
  if (*p->uid == 0) return "root (" + p->source + ")";
  return "uid " + std::to_string(*p->uid) + " (" + p->source + ")";
}

const policy::PredictedUser* FindPrediction(const std::vector<policy::PredictedUser>& predicted,
                                            policy::ContainerKind kind, const std::string& name) {
  for (const policy::PredictedUser& p : predicted) {
    if (p.kind == kind && p.container == name) return &p;
  }
  return nullptr;
}

void AddRootFinding(const ObservedUser& o, const policy::PredictedUser* p, policy::Action action,
                    policy::Decision* d) {
  if (action == policy::Action::kOff) return;
  policy::Finding f{policy::RuleId::kRootUser, o.container, o.field, "observed uid 0",
                    "container \"" + o.container + "\" runs as root: the kubelet reports " + o.field +
                        " = 0 (predicted " + DescribePrediction(p) +
                        "); set runAsUser to a non-zero UID and runAsNonRoot: true"};
  auto& sink = action == policy::Action::kDeny ? d->violations
               : action == policy::Action::kWarn ? d->warnings
                                                 : d->audits;
  sink.push_back(std::move(f));
}

}  // namespace

void AddObserved(const json& pod, const policy::WorkloadView& view,
                 const std::vector<policy::PredictedUser>& predicted, const policy::Policy& policy,
                 AuditResult* result) {
  auto status = pod.find("status");
  if (status == pod.end() || !status->is_object() || view.windows) return;
  policy::Decision& d = result->check.decision;
  const bool judged = d.evaluated;
  const bool userns_root_ok = view.host_users == false && policy.allow_root_in_user_namespaces;
  const std::string ns = result->check.namespace_name.empty() ? "default" : result->check.namespace_name;
  for (const StatusList& list : kStatusLists) {
    auto entries = status->find(list.key);
    if (entries == status->end() || !entries->is_array()) continue;
    for (size_t i = 0; i < entries->size(); ++i) {
      const std::string field = "status." + std::string(list.key) + "[" + std::to_string(i) + "]";
      std::optional<ObservedUser> o = ObservedOf((*entries)[i], field);
      if (!o) continue;
      result->observed.push_back(*o);
      if (!judged) continue;
      const policy::PredictedUser* p = FindPrediction(predicted, list.kind, o->container);
      if (o->uid == 0 && !userns_root_ok) AddRootFinding(*o, p, RootUserAction(policy, ns), &d);
      const bool agrees = p != nullptr && p->uid && *p->uid == o->uid;
      const bool unknown_and_root = p != nullptr && !p->uid && o->uid == 0;  // the violation says it
      if (p == nullptr || agrees || unknown_and_root) continue;
      d.warnings.push_back({policy::RuleId::kRootUser, o->container, o->field, "observed uid differs from prediction",
                            "container \"" + o->container + "\": the kubelet reports uid " + std::to_string(o->uid) +
                                " (" + o->field + ") but rootgate predicted " + DescribePrediction(p) +
                                "; the image behind the tag may have changed, or the prediction is wrong"});
    }
  }
}

}  // namespace rootgate::server::audit
