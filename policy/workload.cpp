#include "policy/workload.h"

#include <array>

namespace rootgate::policy {

using nlohmann::json;

namespace {

struct KindInfo {
  std::string_view kind;
  std::array<std::string_view, 2> groups;
  std::string_view spec_path;
  bool is_pod;
};

// Where each pod-bearing kind keeps its pod spec (SEMANTICS.md, "Which containers").
constexpr std::array<KindInfo, 9> kKinds = {{
    {"Pod", {"", ""}, "spec", true},
    {"Deployment", {"apps", "extensions"}, "spec.template.spec", false},
    {"ReplicaSet", {"apps", "extensions"}, "spec.template.spec", false},
    {"StatefulSet", {"apps", "apps"}, "spec.template.spec", false},
    {"DaemonSet", {"apps", "extensions"}, "spec.template.spec", false},
    {"Job", {"batch", "batch"}, "spec.template.spec", false},
    {"CronJob", {"batch", "batch"}, "spec.jobTemplate.spec.template.spec", false},
    {"ReplicationController", {"", ""}, "spec.template.spec", false},
    {"PodTemplate", {"", ""}, "template.spec", false},
}};

const KindInfo* FindKind(std::string_view group, std::string_view kind) {
  for (const KindInfo& k : kKinds) {
    if (k.kind == kind && (k.groups[0] == group || k.groups[1] == group)) return &k;
  }
  return nullptr;
}

const char* TypeName(const json& v) { return v.type_name(); }

Error WrongType(const std::string& path, const char* want, const json& got) {
  return Error{path + ": expected " + want + ", got " + TypeName(got)};
}

// Reads an optional field of an object; null and absent both mean unset.
template <typename T>
std::optional<Error> ReadOptional(const json& obj, const char* key, const std::string& path,
                                  std::optional<T>* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  // The field's path is only built for an error: this runs for every field of every container.
  auto field = [&] { return path + "." + key; };
  if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return WrongType(field(), "a boolean", *it);
    *out = it->template get<bool>();
  } else if constexpr (std::is_same_v<T, int64_t>) {
    if (!it->is_number_integer()) return WrongType(field(), "an integer", *it);
    if (it->is_number_unsigned() && it->template get<uint64_t>() > uint64_t(INT64_MAX)) {
      return Error{field() + ": integer out of range"};
    }
    *out = it->template get<int64_t>();
  } else {
    if (!it->is_string()) return WrongType(field(), "a string", *it);
    *out = it->template get<std::string>();
  }
  return std::nullopt;
}

std::optional<Error> ReadSecurity(const json& parent, const std::string& parent_path,
                                  bool container, SecurityFields* out) {
  auto it = parent.find("securityContext");
  if (it == parent.end() || it->is_null()) return std::nullopt;
  const std::string path = parent_path + ".securityContext";
  if (!it->is_object()) return WrongType(path, "an object", *it);
  const json& sc = *it;
  if (auto e = ReadOptional(sc, "runAsUser", path, &out->run_as_user)) return e;
  if (auto e = ReadOptional(sc, "runAsGroup", path, &out->run_as_group)) return e;
  if (auto e = ReadOptional(sc, "runAsNonRoot", path, &out->run_as_non_root)) return e;
  if (container) {
    if (auto e = ReadOptional(sc, "privileged", path, &out->privileged)) return e;
    if (auto e = ReadOptional(sc, "allowPrivilegeEscalation", path,
                              &out->allow_privilege_escalation)) {
      return e;
    }
  }
  auto win = sc.find("windowsOptions");
  if (win != sc.end() && !win->is_null()) {
    if (!win->is_object()) return WrongType(path + ".windowsOptions", "an object", *win);
    if (auto e = ReadOptional(*win, "runAsUserName", path + ".windowsOptions",
                              &out->windows_run_as_user_name)) {
      return e;
    }
    if (auto e = ReadOptional(*win, "hostProcess", path + ".windowsOptions",
                              &out->windows_host_process)) {
      return e;
    }
  }
  return std::nullopt;
}

std::optional<Error> ReadContainers(const json& spec, const char* list, ContainerKind kind,
                                    WorkloadView* view) {
  auto it = spec.find(list);
  if (it == spec.end() || it->is_null()) return std::nullopt;
  const std::string list_path = view->spec_path + "." + list;
  if (!it->is_array()) return WrongType(list_path, "a list", *it);
  for (size_t i = 0; i < it->size(); ++i) {
    const json& c = (*it)[i];
    ContainerView cv;
    cv.kind = kind;
    cv.index = i;
    cv.path = list_path + "[" + std::to_string(i) + "]";
    if (!c.is_object()) return WrongType(cv.path, "an object", c);
    std::optional<std::string> name, image, restart;
    if (auto e = ReadOptional(c, "name", cv.path, &name)) return e;
    if (auto e = ReadOptional(c, "image", cv.path, &image)) return e;
    if (auto e = ReadOptional(c, "restartPolicy", cv.path, &restart)) return e;
    cv.name = name.value_or("");
    cv.image = image.value_or("");
    cv.restartable = kind == ContainerKind::kInit && restart == "Always";
    if (auto e = ReadSecurity(c, cv.path, true, &cv.security)) return e;
    view->containers.push_back(std::move(cv));
  }
  return std::nullopt;
}

// Follows a dotted path of object keys. Returns nullptr when a step is absent or null; sets
// *error when a step exists but is not an object.
const json* Walk(const json& root, std::string_view dotted, std::optional<Error>* error) {
  const json* cur = &root;
  std::string walked;
  while (!dotted.empty()) {
    size_t dot = dotted.find('.');
    std::string key(dotted.substr(0, dot));
    dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    walked += walked.empty() ? key : "." + key;
    if (!cur->is_object()) {
      *error = WrongType(walked, "an object", *cur);
      return nullptr;
    }
    auto it = cur->find(key);
    if (it == cur->end() || it->is_null()) return nullptr;
    cur = &*it;
  }
  if (!cur->is_object()) {
    *error = WrongType(walked, "an object", *cur);
    return nullptr;
  }
  return cur;
}

std::optional<Error> ReadPodSpec(const json& spec, WorkloadView* view) {
  view->pod_spec = &spec;
  if (auto e = ReadSecurity(spec, view->spec_path, false, &view->pod_security)) return e;
  if (auto e = ReadOptional(spec, "hostUsers", view->spec_path, &view->host_users)) return e;
  std::optional<std::string> runtime_class;
  if (auto e = ReadOptional(spec, "runtimeClassName", view->spec_path, &runtime_class)) return e;
  view->runtime_class_name = runtime_class.value_or("");
  auto os = spec.find("os");
  if (os != spec.end() && !os->is_null()) {
    if (!os->is_object()) return WrongType(view->spec_path + ".os", "an object", *os);
    std::optional<std::string> os_name;
    if (auto e = ReadOptional(*os, "name", view->spec_path + ".os", &os_name)) return e;
    view->windows = os_name == "windows";
  }
  auto placement = ReadPlacement(spec, view->spec_path);
  if (!placement) return Error{placement.error()};
  view->placement = std::move(placement).value();
  if (auto e = ReadContainers(spec, "initContainers", ContainerKind::kInit, view)) return e;
  if (auto e = ReadContainers(spec, "containers", ContainerKind::kRegular, view)) return e;
  return ReadContainers(spec, "ephemeralContainers", ContainerKind::kEphemeral, view);
}

}  // namespace

std::string_view GroupOf(std::string_view api_version) {
  size_t slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string_view() : api_version.substr(0, slash);
}

bool IsPodBearingKind(std::string_view group, std::string_view kind) {
  return FindKind(group, kind) != nullptr;
}

Result<WorkloadView> BuildWorkloadView(std::string_view group, std::string_view kind,
                                       const json& object) {
  const KindInfo* info = FindKind(group, kind);
  if (info == nullptr) return Error{"not a pod-bearing kind: " + std::string(kind)};
  if (!object.is_object()) return WrongType("object", "an object", object);
  WorkloadView view;
  view.group = std::string(group);
  view.kind = std::string(kind);
  view.is_pod = info->is_pod;
  view.spec_path = std::string(info->spec_path);
  std::optional<Error> error;
  if (const json* meta = Walk(object, "metadata", &error)) {
    std::optional<std::string> ns, name;
    if (auto e = ReadOptional(*meta, "namespace", "metadata", &ns)) return *e;
    if (auto e = ReadOptional(*meta, "name", "metadata", &name)) return *e;
    view.namespace_name = ns.value_or("");
    view.name = name.value_or("");
  }
  if (error) return *error;
  const json* spec = Walk(object, info->spec_path, &error);
  if (error) return *error;
  if (spec == nullptr) return view;  // no pod spec: nothing to check
  if (auto e = ReadPodSpec(*spec, &view)) return *e;
  return view;
}

}  // namespace rootgate::policy
