// Image configs as `rootgate check` inputs, recognised by their shape (no kind/apiVersion):
// - an OCI or Docker image config — what `skopeo inspect --config`, `crane config` and
//   `docker save` give: `{"architecture", "os", "config": {"User": ...}, "rootfs", ...}`;
// - `docker inspect` output: an array of objects with `.Config.User` (or one such object).
// `skopeo inspect` without --config and image manifests/indexes carry no user and are refused
// with a hint. The USER rules are those of image_config_verdict.h. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/report/check.h"

namespace rootgate::server {

enum class ImageConfigShape {
  kNone,           // not an image config: a Kubernetes object or anything else
  kConfig,         // OCI / Docker image config
  kDockerInspect,  // docker inspect: an array of objects with Config, or one such object
  kSkopeoInspect,  // skopeo inspect without --config: no user in it
  kImageManifest,  // an OCI / Docker manifest or index: no user in it
};

// The shape of a parsed document. Anything with a `kind` or `apiVersion` is kNone.
ImageConfigShape DetectImageConfig(const nlohmann::json& value);

// One image config found in a document.
struct ImageConfigEntry {
  std::string name;         // RepoTags[0], Name or Id for docker inspect; "" otherwise
  std::string user;         // the config's User; "" when absent or null
  bool windows = false;     // os is "windows"
  std::string user_field;   // "config.User" or "Config.User"
  std::string object_path;  // "" or "[i]" for an element of a docker inspect array
  std::optional<size_t> item;  // the element's index in a docker inspect array
  std::string error;        // non-empty: the entry could not be read (e.g. User is not a string)
};

// The configs in a document of a detected shape (kConfig or kDockerInspect).
std::vector<ImageConfigEntry> ImageConfigEntries(const nlohmann::json& value, ImageConfigShape shape);

// Checks a document detected as an image config shape, appending one result per config (kind
// "ImageConfig") and an error for each entry that cannot be read, or for the shapes that carry
// no user (kSkopeoInspect, kImageManifest).
void CheckImageConfig(const std::string& source, size_t document, int line,
                      const nlohmann::json& value, ImageConfigShape shape,
                      const policy::Policy& policy, CheckReport* report);

// Checks an image reference (`--image REF`) from what `facts` and the policy's imageOverrides
// know of it, appending one result (kind "Image", name = REF, source = REF).
void CheckImageRef(const std::string& ref, const policy::ImageFacts& facts,
                   const policy::Policy& policy, CheckReport* report);

}  // namespace rootgate::server
