#include "server/inputs/compose_read.h"

#include <yaml-cpp/yaml.h>

#include <set>
#include <utility>

#include "policy/yaml_merge.h"

namespace rootgate::server::compose {

namespace {

// The Compose specification's fields (compose-spec schema/compose-spec.json).
const std::set<std::string, std::less<>> kTopLevelFields = {
    "version", "name", "include", "services", "models", "networks", "volumes", "secrets", "configs"};

const std::set<std::string, std::less<>> kServiceFields = {
    "annotations", "attach", "blkio_config", "build", "cap_add", "cap_drop", "cgroup",
    "cgroup_parent", "command", "configs", "container_name", "cpu_count", "cpu_percent",
    "cpu_period", "cpu_quota", "cpu_rt_period", "cpu_rt_runtime", "cpu_shares", "cpus", "cpuset",
    "credential_spec", "depends_on", "deploy", "develop", "device_cgroup_rules", "devices", "dns",
    "dns_opt", "dns_search", "domainname", "entrypoint", "env_file", "environment", "expose",
    "extends", "external_links", "extra_hosts", "gpus", "group_add", "healthcheck", "hostname",
    "image", "init", "ipc", "isolation", "label_file", "labels", "links", "logging", "mac_address",
    "mem_limit", "mem_reservation", "mem_swappiness", "memswap_limit", "models", "network_mode",
    "networks", "oom_kill_disable", "oom_score_adj", "pid", "pids_limit", "platform", "ports",
    "post_start", "pre_stop", "privileged", "profiles", "provider", "pull_policy",
    "pull_refresh_after", "read_only", "restart", "runtime", "scale", "secrets", "security_opt",
    "shm_size", "stdin_open", "stop_grace_period", "stop_signal", "storage_opt", "sysctls",
    "tmpfs", "tty", "ulimits", "use_api_socket", "user", "userns_mode", "uts", "volumes",
    "volumes_from", "working_dir"};

const std::set<std::string, std::less<>> kBuildFields = {
    "context", "dockerfile", "dockerfile_inline", "entitlements", "args", "ssh", "labels",
    "cache_from", "cache_to", "no_cache", "additional_contexts", "network", "pull", "target",
    "shm_size", "extra_hosts", "isolation", "privileged", "secrets", "tags", "ulimits", "platforms"};

bool IsExtension(std::string_view key) { return key.substr(0, 2) == "x-"; }

bool IsServiceName(std::string_view name) {
  return !name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                 "0123456789._-") == std::string_view::npos;
}

std::string KindOf(const YAML::Node& n) {
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  if (n.IsScalar()) return "a scalar";
  return "null";
}

// Go's strconv.ParseBool, which Compose applies to boolean fields written as strings.
std::optional<bool> ParseBool(std::string_view s) {
  for (std::string_view t : {"1", "t", "T", "true", "TRUE", "True"}) {
    if (s == t) return true;
  }
  for (std::string_view f : {"0", "f", "F", "false", "FALSE", "False"}) {
    if (s == f) return false;
  }
  return std::nullopt;
}

bool IsRemoteContext(std::string_view s) {
  return s.find("://") != std::string_view::npos || s.substr(0, 4) == "git@" ||
         s.substr(0, 11) == "github.com/";
}

Overlay OverlayOf(const YAML::Node& n) {
  if (n.Tag() == "!reset") return Overlay::kReset;
  if (n.Tag() == "!override") return Overlay::kOverride;
  return Overlay::kMerge;
}

class FileReader {
 public:
  FileReader(const std::string& path, const std::string& base, const Environment& env,
             FileModel* model)
      : path_(path), base_(base), env_(env), model_(model) {}

  void Read(const YAML::Node& root);

 private:
  Origin At(const YAML::Node& n) const { return {path_, n.Mark().line + 1}; }
  void Report(const YAML::Node& n, std::string message) {
    model_->problems.push_back({At(n), std::move(message)});
  }
  std::optional<std::string> Text(const YAML::Node& n, const std::string& field);
  void ReadServices(const YAML::Node& services);
  void ReadService(const YAML::Node& key, const YAML::Node& value);
  bool ReadField(const std::string& key, const YAML::Node& value, const std::string& path,
                 FileService* fs);
  bool ReadBuild(const YAML::Node& n, const std::string& path, Build* build);
  bool ReadArgs(const YAML::Node& n, const std::string& path, Build* build);
  bool ReadProfiles(const YAML::Node& n, const std::string& path, Service* s);
  bool ReadExtends(const YAML::Node& n, const std::string& path, Service* s);

  const std::string& path_;
  const std::string& base_;
  const Environment& env_;
  FileModel* model_;
};

// A scalar field's text, interpolated; nullopt after reporting a problem.
std::optional<std::string> FileReader::Text(const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) {
    Report(n, field + ": expected a string, got " + KindOf(n));
    return std::nullopt;
  }
  Result<std::string> value = Interpolate(n.Scalar(), env_);
  if (!value.ok()) {
    Report(n, field + ": " + value.error());
    return std::nullopt;
  }
  return std::move(value).value();
}

bool FileReader::ReadArgs(const YAML::Node& n, const std::string& path, Build* build) {
  const auto put = [&](const std::string& key, std::optional<std::string> value, const YAML::Node& at) {
    if (!value) {
      auto it = env_.find(key);
      if (it == env_.end()) return;  // an arg without a value and unset: not passed
      value = it->second;
    }
    build->args[key] = {std::move(value), At(at)};
  };
  if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (it->second.IsNull()) {
        put(key, std::nullopt, it->first);
        continue;
      }
      auto value = Text(it->second, path + "." + key);
      if (!value) return false;
      put(key, value, it->second);
    }
    return true;
  }
  if (!n.IsSequence()) {
    Report(n, path + ": expected a mapping or a list of KEY=VALUE, got " + KindOf(n));
    return false;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    auto item = Text(n[i], path + "[" + std::to_string(i) + "]");
    if (!item) return false;
    const size_t eq = item->find('=');
    put(item->substr(0, eq), eq == std::string::npos ? std::nullopt : std::optional(item->substr(eq + 1)), n[i]);
  }
  return true;
}

bool FileReader::ReadBuild(const YAML::Node& n, const std::string& path, Build* build) {
  build->at = At(n);
  build->directory = base_;
  const auto context = [&](const YAML::Node& v) {
    auto text = Text(v, v.is(n) ? path : path + ".context");
    if (!text) return false;
    const bool relative = !IsRemoteContext(*text) && (text->empty() || (*text)[0] != '/');
    build->context = {relative ? JoinPath(base_, *text) : *text, At(v)};
    return true;
  };
  if (n.IsScalar()) return context(n);
  if (!n.IsMap()) {
    Report(n, path + ": expected a context path or a mapping, got " + KindOf(n));
    return false;
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = it->first.Scalar();
    const YAML::Node v = it->second;  // a copy: it->second lives only as long as the iterator proxy
    const std::string field = path + "." + key;
    if (IsExtension(key)) continue;
    if (!kBuildFields.contains(key)) {
      Report(it->first, field + ": unknown field (not in the Compose specification)");
      return false;
    }
    Field<std::string>* text = key == "dockerfile"          ? &build->dockerfile
                               : key == "dockerfile_inline" ? &build->dockerfile_inline
                               : key == "target"            ? &build->target
                                                            : nullptr;
    bool ok = true;
    if (key == "context") ok = context(v);
    if (key == "args") ok = ReadArgs(v, field, build);
    if (text != nullptr) {
      auto value = Text(v, field);
      ok = value.has_value();
      if (ok) *text = {std::move(value), At(v)};
    }
    if (!ok) return false;
  }
  return true;
}

bool FileReader::ReadProfiles(const YAML::Node& n, const std::string& path, Service* s) {
  if (!n.IsSequence()) {
    Report(n, path + ": expected a list of profile names, got " + KindOf(n));
    return false;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    auto name = Text(n[i], path + "[" + std::to_string(i) + "]");
    if (!name) return false;
    s->profiles.push_back(std::move(*name));
  }
  return true;
}

bool FileReader::ReadExtends(const YAML::Node& n, const std::string& path, Service* s) {
  Extends e;
  e.at = At(n);
  if (n.IsScalar()) {
    auto name = Text(n, path);
    if (!name) return false;
    e.service = std::move(*name);
  } else if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (key != "service" && key != "file") {
        Report(it->first, path + "." + key + ": unknown field (extends has service and file)");
        return false;
      }
      auto value = Text(it->second, path + "." + key);
      if (!value) return false;
      (key == "service" ? e.service : e.file) = std::move(*value);
    }
  }
  if (e.service.empty()) {
    Report(n, path + ": expected a service name, or a mapping with service (and file)");
    return false;
  }
  if (!e.file.empty()) e.file = JoinPath(DirectoryOf(path_), e.file);
  s->extends = std::move(e);
  return true;
}

bool FileReader::ReadField(const std::string& key, const YAML::Node& value,
                           const std::string& path, FileService* fs) {
  Service& s = fs->service;
  const Overlay overlay = OverlayOf(value);
  fs->overlays[key] = overlay;
  if (overlay == Overlay::kReset) return true;
  Field<std::string>* text = key == "user"          ? &s.user
                             : key == "image"       ? &s.image
                             : key == "userns_mode" ? &s.userns_mode
                                                    : nullptr;
  if (text != nullptr) {
    auto v = Text(value, path);
    if (v) *text = {std::move(v), At(value)};
    return v.has_value();
  }
  if (key == "privileged") {
    auto v = Text(value, path);
    if (!v) return false;
    const std::optional<bool> b = ParseBool(*v);
    if (!b) Report(value, path + ": expected true or false, got \"" + *v + "\"");
    if (b) s.privileged = {b, At(value)};
    return b.has_value();
  }
  if (key == "build") {
    s.build.emplace();
    return ReadBuild(value, path, &*s.build);
  }
  if (key == "profiles") return ReadProfiles(value, path, &s);
  if (key == "extends") return ReadExtends(value, path, &s);
  return true;
}

void FileReader::ReadService(const YAML::Node& key, const YAML::Node& value) {
  FileService fs;
  fs.service.name = key.Scalar();
  fs.service.at = At(key);
  const std::string path = "services." + fs.service.name;
  if (!IsServiceName(fs.service.name)) {
    Report(key, path + ": a service name may hold only letters, digits, '.', '_' and '-'");
    fs.broken = true;
  } else if (!value.IsMap()) {
    Report(value.IsNull() ? key : value, path + ": expected a mapping, got " + KindOf(value));
    fs.broken = true;
  }
  for (auto it = value.IsMap() ? value.begin() : value.end(); !fs.broken && it != value.end(); ++it) {
    const std::string field = it->first.Scalar();
    if (IsExtension(field)) continue;
    if (!kServiceFields.contains(field)) {
      Report(it->first, path + "." + field + ": unknown field (not in the Compose specification)");
      fs.broken = true;
      break;
    }
    fs.broken = !ReadField(field, it->second, path + "." + field, &fs);
  }
  model_->services.push_back(std::move(fs));
}

void FileReader::ReadServices(const YAML::Node& services) {
  if (services.IsNull()) return;
  if (!services.IsMap()) {
    Report(services, "services: expected a mapping of service names, got " + KindOf(services));
    return;
  }
  for (auto it = services.begin(); it != services.end(); ++it) ReadService(it->first, it->second);
}

void FileReader::Read(const YAML::Node& root) {
  if (!root.IsMap()) {
    Report(root, "a Compose file is a mapping (services:, name:, ...), got " + KindOf(root));
    return;
  }
  model_->readable = true;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (IsExtension(key)) continue;
    if (!kTopLevelFields.contains(key)) {
      Report(it->first, key + ": unknown top-level field (not in the Compose specification)");
    } else if (key == "name") {
      if (auto v = Text(it->second, "name")) model_->name = {std::move(v), At(it->second)};
    } else if (key == "services") {
      ReadServices(it->second);
    } else if (key == "include") {
      Report(it->first, "include: not supported by rootgate; give the included files with -f");
    }
  }
}

}  // namespace

FileModel ReadComposeFile(const std::string& path, std::string_view text,
                          const std::string& base_directory, const Environment& env) {
  FileModel model;
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (auto error = policy::ResolveMergeKeys(root, policy::MergeOrder::kOwnKeysWin)) {
      model.problems.push_back({{path, 0}, *error});
      return model;
    }
    FileReader(path, base_directory, env, &model).Read(root);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    model.problems.push_back({{path, line}, e.msg});
    model.readable = false;
  }
  return model;
}

}  // namespace rootgate::server::compose
