// The OCI / Docker documents an image lookup reads: image indexes and Docker manifest lists,
// image manifests, and the image config's `User`. Parsing only (text in, structs out); the
// registry client fetches and verifies. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/platform.h"
#include "policy/result.h"

namespace rootgate::server {

inline constexpr std::string_view kOciIndexType = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerListType =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kOciManifestType = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kDockerManifestType =
    "application/vnd.docker.distribution.manifest.v2+json";
// The Accept header of a manifest request: every kind rootgate reads.
inline constexpr std::string_view kManifestAccept =
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

// The platform type lives in policy/ (the evaluator matches pods to index entries).
using policy::Platform;
using policy::ParsePlatform;

struct Descriptor {
  std::string media_type;
  std::string digest;  // "sha256:<hex>"
  int64_t size = -1;
  std::optional<Platform> platform;  // index entries only
};

struct Manifest {
  bool is_index = false;
  std::vector<Descriptor> manifests;  // is_index: the entries
  Descriptor config;                  // !is_index
  std::vector<Descriptor> layers;     // !is_index, base layer first
};

// Parses a manifest body. The kind comes from the body's mediaType, else the Content-Type, else
// the shape (a `manifests` list or a `config`). Fails on Docker schema 1, on other media types,
// and on missing or malformed fields, saying which.
Result<Manifest> ParseManifest(std::string_view body, std::string_view content_type);

struct ImageConfig {
  std::string user;  // config.User; "" when absent
  std::string os, architecture;
};

// Parses an image config blob. An absent `config` or `User` is User "" (the image sets none).
Result<ImageConfig> ParseImageConfig(std::string_view body);

// True for "sha256:" followed by 64 lower-case hex characters: the only digest rootgate fetches
// by and verifies.
bool IsSha256Digest(std::string_view digest);

}  // namespace rootgate::server
