// Byte counts as flags write them ("8388608", "8Mi", "64MiB", "2M"): shared by the serve flags
// and the registry flags. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

#include "policy/result.h"

namespace rootgate::server {

// A byte count: "8388608", or with a suffix K/Ki/M/Mi/G/Gi (optionally followed by "B").
// An error saying what is wrong for anything else, or for a count that overflows size_t.
Result<size_t> ParseByteSize(std::string_view text);

}  // namespace rootgate::server
