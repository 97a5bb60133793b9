// Fuzzes the WWW-Authenticate parser (server/registry/www_authenticate.h). Invariants: it never
// throws; every challenge has a non-empty lower-case scheme and lower-case parameter names, and
// FindChallenge finds each scheme's first challenge.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "server/registry/www_authenticate.h"

namespace {

bool IsLower(const std::string& s) {
  for (unsigned char c : s) {
    if (std::isupper(c)) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view header(reinterpret_cast<const char*>(data), size);
  auto challenges = rootgate::server::ParseWwwAuthenticate(header);
  for (const auto& c : challenges) {
    FUZZ_CHECK(!c.scheme.empty());
    FUZZ_CHECK(IsLower(c.scheme));
    for (const auto& [name, value] : c.params) {
      FUZZ_CHECK(!name.empty());
      FUZZ_CHECK(IsLower(name));
      FUZZ_CHECK(c.Param(name) == value);
    }
    const auto* found = rootgate::server::FindChallenge(challenges, c.scheme);
    FUZZ_CHECK(found != nullptr);
    FUZZ_CHECK(found->scheme == c.scheme);
  }
  return 0;
}
