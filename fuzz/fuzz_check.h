// FUZZ_CHECK: an invariant of a fuzz target, and IsUtf8 for invariants on messages. A broken one prints what failed and aborts, so
// libFuzzer records the input as a crash. Used only by the targets in fuzz/.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

// True when `text` is valid UTF-8 (nlohmann's strict serialisation accepts it).
inline bool IsUtf8(std::string_view text) {
  try {
    (void)nlohmann::json(std::string(text)).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}
