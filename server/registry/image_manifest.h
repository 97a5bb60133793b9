// The OCI / Docker documents an image lookup reads: image indexes and Docker manifest lists,
// image manifests, and the image config's `User`. Parsing only (text in, structs out); the
// registry client fetches and verifies. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // "amd64", "arm64"
  std::string variant;       // "v8", "v7"; may be empty

  // "linux/arm64/v8", or "linux/amd64" without a variant.
  std::string String() const;
  // True when `entry` (from an index) runs here: same os and architecture, and the same
  // variant when this platform names one (arm64's v8 is its default variant).
  bool Accepts(const Platform& entry) const;
  bool operator==(const Platform&) const = default;
};

// Parses "os/arch[/variant]" ("linux/amd64", "linux/arm/v7").
Result<Platform> ParsePlatform(std::string_view text);

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
