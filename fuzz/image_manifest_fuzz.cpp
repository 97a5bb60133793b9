// Fuzzes the registry document parsers (server/registry/image_manifest.h): ParseManifest under each
// Content-Type a registry may send (chosen by the first input byte), ParseImageConfig and
// ParsePlatform on the rest. Invariants: a refusal has a message, valid UTF-8 when the body is
// (it reaches replies and logs); an accepted manifest's config digest is sha256; platforms
// round-trip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "server/registry/image_manifest.h"

namespace rs = rootgate::server;

namespace {

constexpr std::string_view kContentTypes[] = {
    "", rs::kOciIndexType, rs::kDockerListType, rs::kOciManifestType, rs::kDockerManifestType,
    "application/vnd.docker.distribution.manifest.v1+prettyjws", "application/json"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view content_type = kContentTypes[data[0] % std::size(kContentTypes)];
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);

  const bool utf8 = IsUtf8(body);
  auto manifest = rs::ParseManifest(body, content_type);
  if (!manifest) {
    FUZZ_CHECK(!manifest.error().empty());
    if (utf8) FUZZ_CHECK(IsUtf8(manifest.error()));
  } else if (!manifest.value().is_index) {
    FUZZ_CHECK(rs::IsSha256Digest(manifest.value().config.digest));
  } else {
    for (const auto& entry : manifest.value().manifests) FUZZ_CHECK(!entry.digest.empty());
  }

  auto config = rs::ParseImageConfig(body);
  if (!config) {
    FUZZ_CHECK(!config.error().empty());
    if (utf8) FUZZ_CHECK(IsUtf8(config.error()));
  }

  auto platform = rs::ParsePlatform(body);
  if (!platform) {
    FUZZ_CHECK(!platform.error().empty());
    if (utf8) FUZZ_CHECK(IsUtf8(platform.error()));
  } else {
    auto again = rs::ParsePlatform(platform.value().String());
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK(again.value() == platform.value());
    FUZZ_CHECK(platform.value().Accepts(platform.value()));
  }
  return 0;
}
