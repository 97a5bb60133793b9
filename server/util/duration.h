// Go-style durations ("10s", "2.5s", "500ms", "1m30s"): how the API server writes ?timeout= and
// how rootgate's duration flags are written. Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rootgate::server {

// Parses a Go duration: an optional sign, then one or more decimal numbers each with a unit
// (ns, us, µs, ms, s, m, h); "0" alone is zero. nullopt on anything else or on overflow.
std::optional<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

// The shortest Go-style text for a duration: "10s", "2.5s", "500ms", "750us", "0s".
std::string FormatDuration(std::chrono::nanoseconds d);

}  // namespace rootgate::server
