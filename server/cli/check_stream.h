// `rootgate check` on a large JSON `kind: List` (`kubectl get -A -o json` output) with bounded
// memory: the input is parsed item by item from the stream, each item is checked as soon as it
// is complete, and its result is printed at once (text or JSON in `check`'s shape); nothing but
// counts and the per-namespace table is kept. Inputs up to kStreamThreshold bytes, and inputs
// that are not a JSON object, are handed back whole for the ordinary path (which also finds
// field lines). Thread-compatible (reads stdin).
#pragma once

#include <iosfwd>
#include <optional>
#include <string>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/report/check.h"

namespace rootgate::server {

inline constexpr size_t kStreamThreshold = size_t{16} << 20;

struct StreamedCheck {
  std::optional<int> exit_code;  // set: streamed and printed; the exit code
  std::string text;              // otherwise: the whole input, for CheckInput
  std::string error;             // the input could not be read (whole-file error)
};

// Reads `path` ("-" for stdin); streams it when it is over kStreamThreshold and starts with '{'.
StreamedCheck CheckStreamed(const std::string& path, OutputFormat format, bool colour,
                            const policy::Policy& policy, const policy::ImageFacts& facts,
                            std::ostream& out, std::ostream& err);

}  // namespace rootgate::server
