// Fuzzes image reference parsing and normalisation (policy::ParseImageRef). Invariants: a
// refusal has a message, valid UTF-8 when the reference is (it is quoted in replies); an
// accepted reference has a registry, a repository and a tag or digest, and its normalised
// String() parses again to the same reference.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "policy/image_ref.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ref = rootgate::policy::ParseImageRef(text);
  if (!ref) {
    FUZZ_CHECK(!ref.error().empty());
    if (IsUtf8(text)) FUZZ_CHECK(IsUtf8(ref.error()));
    return 0;
  }
  const auto& r = ref.value();
  FUZZ_CHECK(!r.registry.empty());
  FUZZ_CHECK(!r.repository.empty());
  FUZZ_CHECK(!r.tag.empty() || !r.digest.empty());
  FUZZ_CHECK(!r.ApiHost().empty());
  auto again = rootgate::policy::ParseImageRef(r.String());
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(again.value().String() == r.String());
  FUZZ_CHECK(again.value().registry == r.registry);
  FUZZ_CHECK(again.value().repository == r.repository);
  FUZZ_CHECK(again.value().digest == r.digest);
  return 0;
}
