#include "server/registry/image_manifest.h"

#include <nlohmann/json.hpp>

#include "policy/utf8.h"

namespace rootgate::server {

using nlohmann::json;

namespace {

std::string StringAt(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The media type without parameters ("application/json; charset=utf-8" → "application/json").
std::string_view BareType(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ') content_type.remove_suffix(1);
  return content_type;
}

// Reads a descriptor. Manifests and configs are fetched by digest and verified, so they need a
// sha256 digest; layers may carry another algorithm (they are then not read).
Result<Descriptor> ReadDescriptor(const json& d, const std::string& where, bool need_sha256 = true) {
  if (!d.is_object()) return Error{where + ": expected an object"};
  Descriptor out;
  out.media_type = StringAt(d, "mediaType");
  out.digest = StringAt(d, "digest");
  if (need_sha256 ? !IsSha256Digest(out.digest) : out.digest.empty()) {
    return Error{where + ".digest: expected sha256:<64 hex>, got \"" + CutUtf8(out.digest, 80) + "\""};
  }
  if (auto s = d.find("size"); s != d.end() && s->is_number_integer()) out.size = s->get<int64_t>();
  if (auto p = d.find("platform"); p != d.end() && p->is_object()) {
    out.platform = Platform{StringAt(*p, "os"), StringAt(*p, "architecture"), StringAt(*p, "variant")};
  }
  return out;
}

Result<Manifest> ReadIndex(const json& doc) {
  auto list = doc.find("manifests");
  if (list == doc.end() || !list->is_array()) return Error{"index: manifests: expected a list"};
  Manifest m;
  m.is_index = true;
  for (size_t i = 0; i < list->size(); ++i) {
    auto d = ReadDescriptor((*list)[i], "index: manifests[" + std::to_string(i) + "]");
    if (!d) return Error{d.error()};
    m.manifests.push_back(std::move(d).value());
  }
  return m;
}

Result<Manifest> ReadImageManifest(const json& doc) {
  auto config = doc.find("config");
  if (config == doc.end()) return Error{"manifest: config: missing"};
  auto c = ReadDescriptor(*config, "manifest: config");
  if (!c) return Error{c.error()};
  Manifest m;
  m.config = std::move(c).value();
  if (auto layers = doc.find("layers"); layers != doc.end()) {
    if (!layers->is_array()) return Error{"manifest: layers: expected a list"};
    for (size_t i = 0; i < layers->size(); ++i) {
      auto d = ReadDescriptor((*layers)[i], "manifest: layers[" + std::to_string(i) + "]", false);
      if (!d) return Error{d.error()};
      m.layers.push_back(std::move(d).value());
    }
  }
  return m;
}

}  // namespace

Result<Manifest> ParseManifest(std::string_view body, std::string_view content_type) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Error{"manifest is not a JSON object"};
  std::string type = StringAt(doc, "mediaType");
  if (type.empty()) type = std::string(BareType(content_type));
  if (type == kOciIndexType || type == kDockerListType) return ReadIndex(doc);
  if (type == kOciManifestType || type == kDockerManifestType) return ReadImageManifest(doc);
  if (type.find("manifest.v1") != std::string::npos || StringAt(doc, "schemaVersion") == "1" ||
      (doc.contains("schemaVersion") && doc["schemaVersion"] == 1)) {
    return Error{"Docker schema 1 manifests are not supported (push the image again)"};
  }
  if (type.empty() || type == "application/json" || type == "application/octet-stream" ||
      type == "text/plain") {
    if (doc.contains("manifests")) return ReadIndex(doc);
    if (doc.contains("config")) return ReadImageManifest(doc);
  }
  return Error{"unsupported manifest media type \"" + type.substr(0, 100) + "\""};
}

Result<ImageConfig> ParseImageConfig(std::string_view body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Error{"image config is not a JSON object"};
  ImageConfig c;
  c.os = StringAt(doc, "os");
  c.architecture = StringAt(doc, "architecture");
  auto config = doc.find("config");
  if (config == doc.end() || config->is_null()) return c;
  if (!config->is_object()) return Error{"image config: config: expected an object"};
  auto user = config->find("User");
  if (user == config->end() || user->is_null()) return c;
  if (!user->is_string()) return Error{"image config: config.User: expected a string"};
  c.user = user->get<std::string>();
  return c;
}

bool IsSha256Digest(std::string_view digest) {
  if (digest.size() != 71 || digest.substr(0, 7) != "sha256:") return false;
  for (char ch : digest.substr(7)) {
    if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
  }
  return true;
}

}  // namespace rootgate::server
