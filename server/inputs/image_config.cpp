#include "server/inputs/image_config.h"

#include "server/inputs/image_config_verdict.h"

namespace rootgate::server {

namespace {

using nlohmann::json;

bool Has(const json& obj, const char* key) { return obj.is_object() && obj.contains(key); }

bool IsDockerInspectObject(const json& v) {
  return v.is_object() && Has(v, "Config") && (Has(v, "Id") || Has(v, "RepoTags") || Has(v, "Os"));
}

std::string StringAt(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Reads `config_key`.User of `obj` into `entry`; sets entry->error when a type is wrong.
void ReadUser(const json& obj, const char* config_key, const char* os_key, ImageConfigEntry* entry) {
  entry->user_field = std::string(config_key) + ".User";
  entry->windows = StringAt(obj, os_key) == "windows";
  auto config = obj.find(config_key);
  if (config == obj.end() || config->is_null()) return;  // no config at all: no User
  if (!config->is_object()) {
    entry->error = std::string(config_key) + ": expected an object, got " + config->type_name();
    return;
  }
  auto user = config->find("User");
  if (user == config->end() || user->is_null()) return;
  if (!user->is_string()) {
    entry->error = entry->user_field + ": expected a string, got " + user->type_name();
    return;
  }
  entry->user = user->get<std::string>();
}

ImageConfigEntry DockerInspectEntry(const json& obj) {
  ImageConfigEntry entry;
  auto tags = obj.find("RepoTags");
  if (tags != obj.end() && tags->is_array() && !tags->empty() && (*tags)[0].is_string()) {
    entry.name = (*tags)[0].get<std::string>();
  }
  if (entry.name.empty()) entry.name = StringAt(obj, "Name");
  if (entry.name.empty()) entry.name = StringAt(obj, "Id");
  ReadUser(obj, "Config", "Os", &entry);
  return entry;
}

UserWording WordingFor(const ImageConfigEntry& entry, const std::string& kind) {
  UserWording w;
  w.subject = entry.name.empty() ? kind : "image " + entry.name;
  w.found = entry.user.empty() ? entry.user_field + " is empty (the image sets no USER)"
                               : entry.user_field + " is \"" + entry.user + "\"";
  w.fix = "rebuild it with USER set to a non-zero UID (e.g. USER 10001), or set runAsUser in "
          "the pods that run it";
  w.field = entry.user_field;
  return w;
}

}  // namespace

ImageConfigShape DetectImageConfig(const json& value) {
  if (value.is_array()) {
    if (value.empty()) return ImageConfigShape::kNone;
    for (const json& v : value) {
      if (!IsDockerInspectObject(v)) return ImageConfigShape::kNone;
    }
    return ImageConfigShape::kDockerInspect;
  }
  if (!value.is_object() || Has(value, "kind") || Has(value, "apiVersion")) return ImageConfigShape::kNone;
  if (IsDockerInspectObject(value)) return ImageConfigShape::kDockerInspect;
  if (Has(value, "rootfs") || (Has(value, "architecture") && Has(value, "os"))) {
    return ImageConfigShape::kConfig;
  }
  if (Has(value, "schemaVersion") && (Has(value, "layers") || Has(value, "manifests"))) {
    return ImageConfigShape::kImageManifest;
  }
  if (Has(value, "Digest") && Has(value, "Layers")) return ImageConfigShape::kSkopeoInspect;
  return ImageConfigShape::kNone;
}

std::vector<ImageConfigEntry> ImageConfigEntries(const json& value, ImageConfigShape shape) {
  std::vector<ImageConfigEntry> out;
  if (shape == ImageConfigShape::kConfig) {
    ImageConfigEntry entry;
    ReadUser(value, "config", "os", &entry);
    out.push_back(std::move(entry));
  } else if (shape == ImageConfigShape::kDockerInspect && value.is_object()) {
    out.push_back(DockerInspectEntry(value));
  } else if (shape == ImageConfigShape::kDockerInspect) {
    for (size_t i = 0; i < value.size(); ++i) {
      ImageConfigEntry entry = DockerInspectEntry(value[i]);
      entry.item = i;
      entry.object_path = "[" + std::to_string(i) + "]";
      out.push_back(std::move(entry));
    }
  }
  return out;
}

void CheckImageConfig(const std::string& source, size_t document, int line, const json& value,
                      ImageConfigShape shape, const policy::Policy& policy, CheckReport* report) {
  if (shape == ImageConfigShape::kSkopeoInspect) {
    report->errors.push_back({source, document, line,
                              "skopeo inspect output has no image user; use `skopeo inspect "
                              "--config` (or --image REF)"});
    return;
  }
  if (shape == ImageConfigShape::kImageManifest) {
    report->errors.push_back({source, document, line,
                              "an image manifest or index has no user; give the image config it "
                              "points to (`skopeo inspect --config`, `crane config`)"});
    return;
  }
  const std::string kind = shape == ImageConfigShape::kConfig ? "image config" : "docker inspect entry";
  for (const ImageConfigEntry& entry : ImageConfigEntries(value, shape)) {
    const std::string where = entry.item ? "[" + std::to_string(*entry.item) + "]: " : "";
    if (!entry.error.empty()) {
      report->errors.push_back({source, document, line, where + entry.error});
      continue;
    }
    CheckResult r;
    r.source = source;
    r.document = document;
    r.item = entry.item;
    r.line = line;
    r.kind = "ImageConfig";
    r.name = entry.name;
    r.object_path = entry.object_path;
    UserEvidence evidence;
    evidence.known = true;
    evidence.user = policy::ParseImageUser(entry.user);
    evidence.windows = entry.windows;
    DecideImageUser(evidence, WordingFor(entry, kind), policy, &r);
    report->results.push_back(std::move(r));
  }
}

void CheckImageRef(const std::string& ref, const policy::ImageFacts& facts,
                   const policy::Policy& policy, CheckReport* report) {
  CheckResult r;
  r.source = ref;
  r.kind = "Image";
  r.name = ref;
  std::string display;
  const UserEvidence evidence = LookupImageUser(ref, facts, policy, &display);
  UserWording w;
  w.subject = "image " + display;
  w.field = "config.User";
  w.fix = "rebuild it with USER set to a non-zero UID (e.g. USER 10001), or set runAsUser in the "
          "pods that run it";
  if (!evidence.known) {
    w.found = "its user could not be read";
  } else {
    w.found = evidence.user.raw.empty() ? "its config has no USER" : "its config has USER \"" + evidence.user.raw + "\"";
    w.found += " (" + evidence.source + ")";
  }
  DecideImageUser(evidence, w, policy, &r);
  report->results.push_back(std::move(r));
}

}  // namespace rootgate::server
