// An image platform (os/architecture/variant), as named in an OCI index entry, a --platform flag
// or the policy's nodePlatforms. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "policy/result.h"

namespace rootgate::policy {

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

}  // namespace rootgate::policy
