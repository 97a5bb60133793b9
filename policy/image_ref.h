// Image references parsed and normalised as the container tooling does (distribution/reference
// ParseNormalizedNamed): `nginx` is `docker.io/library/nginx:latest`. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "policy/result.h"

namespace rootgate::policy {

struct ImageRef {
  std::string registry;    // "docker.io", "ghcr.io", "localhost:5000"
  std::string repository;  // "library/nginx"
  std::string tag;         // "1.25"; "latest" when neither tag nor digest is given
  std::string digest;      // "sha256:<64 hex>" or empty

  // The normalised reference: registry/repository[:tag][@digest].
  std::string String() const;
  // The host to talk to for the Distribution API (docker.io is served by registry-1.docker.io).
  std::string ApiHost() const;
};

// Parses a reference as written in a pod spec. On failure the error says what is wrong with it;
// such a reference is never looked up.
Result<ImageRef> ParseImageRef(std::string_view reference);

}  // namespace rootgate::policy
