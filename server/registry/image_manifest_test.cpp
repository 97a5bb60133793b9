// Manifest, index and config parsing: the four media types, how the kind is told, platforms,
// and the malformed documents a registry (or an attacker posing as one) might send.
#include "server/registry/image_manifest.h"

#include <doctest/doctest.h>

#include <string>

namespace {

using namespace rootgate::server;

const std::string kD1 = "sha256:" + std::string(64, 'a');
const std::string kD2 = "sha256:" + std::string(64, 'b');

std::string IndexJson(const std::string& media_type) {
  return R"({"schemaVersion":2,"mediaType":")" + media_type + R"(","manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kD1 +
         R"(","size":500,"platform":{"os":"linux","architecture":"amd64"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kD2 +
         R"(","size":501,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]})";
}

std::string ManifestJson(const std::string& media_type_field) {
  return R"({"schemaVersion":2,)" + media_type_field + R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
         kD1 + R"(","size":250},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
         kD2 + R"(","size":1000}]})";
}

TEST_CASE("ParseManifest: OCI index and Docker manifest list") {
  for (std::string_view type : {kOciIndexType, kDockerListType}) {
    auto m = ParseManifest(IndexJson(std::string(type)), "");
    REQUIRE_MESSAGE(m.ok(), (m.ok() ? "" : m.error()));
    CHECK(m.value().is_index);
    REQUIRE(m.value().manifests.size() == 2);
    CHECK(m.value().manifests[0].digest == kD1);
    CHECK(m.value().manifests[0].size == 500);
    REQUIRE(m.value().manifests[1].platform);
    CHECK(m.value().manifests[1].platform->String() == "linux/arm64/v8");
  }
}

TEST_CASE("ParseManifest: the kind from mediaType, Content-Type, or shape") {
  auto by_body = ParseManifest(ManifestJson(R"("mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"), "");
  REQUIRE(by_body.ok());
  CHECK_FALSE(by_body.value().is_index);
  CHECK(by_body.value().config.digest == kD1);
  REQUIRE(by_body.value().layers.size() == 1);
  CHECK(by_body.value().layers[0].digest == kD2);
  auto by_header = ParseManifest(ManifestJson(""), "application/vnd.oci.image.manifest.v1+json; charset=utf-8");
  REQUIRE(by_header.ok());
  CHECK_FALSE(by_header.value().is_index);
  auto by_shape = ParseManifest(ManifestJson(""), "application/json");
  REQUIRE(by_shape.ok());
  std::string no_type = IndexJson("");
  no_type.erase(no_type.find(R"("mediaType":"",)"), std::string(R"("mediaType":"",)").size());
  auto index_by_shape = ParseManifest(no_type, "");
  REQUIRE(index_by_shape.ok());
  CHECK(index_by_shape.value().is_index);
}

TEST_CASE("ParseManifest: refusals say why") {
  auto schema1 = ParseManifest(R"({"schemaVersion":1,"name":"x","fsLayers":[]})",
                               "application/vnd.docker.distribution.manifest.v1+prettyjws");
  REQUIRE_FALSE(schema1.ok());
  CHECK(schema1.error().find("schema 1") != std::string::npos);
  auto other = ParseManifest(R"({"mediaType":"application/vnd.example.thing+json"})", "");
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().find("unsupported manifest media type") != std::string::npos);
  CHECK_FALSE(ParseManifest("not json", "").ok());
  CHECK_FALSE(ParseManifest("[]", "").ok());
  auto bad_digest = ParseManifest(
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:xyz"}})", "");
  REQUIRE_FALSE(bad_digest.ok());
  CHECK(bad_digest.error().find("manifest: config.digest") != std::string::npos);
  auto no_config = ParseManifest(R"({"mediaType":"application/vnd.oci.image.manifest.v1+json"})", "");
  REQUIRE_FALSE(no_config.ok());
  auto bad_list = ParseManifest(R"({"mediaType":"application/vnd.oci.image.index.v1+json","manifests":{}})", "");
  REQUIRE_FALSE(bad_list.ok());
}

TEST_CASE("ParseManifest: a long bad digest is quoted cut at 80 bytes, never inside a character") {
  // 79 ASCII bytes, then "é" (2 bytes) across the 80-byte cut.
  const std::string digest = std::string(79, 'a') + "\xC3\xA9" + "tail";
  auto bad = ParseManifest(R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":")" +
                               digest + R"("}})", "");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("\"" + std::string(79, 'a') + "\"") != std::string::npos);
  CHECK(bad.error().find('\xC3') == std::string::npos);
}

TEST_CASE("ParseImageConfig: User present, empty, absent, null, wrong type") {
  auto c = ParseImageConfig(R"({"architecture":"arm64","os":"linux","config":{"User":"1000:1000","Env":[]}})");
  REQUIRE(c.ok());
  CHECK(c.value().user == "1000:1000");
  CHECK(c.value().architecture == "arm64");
  CHECK(ParseImageConfig(R"({"config":{"User":""}})").value().user == "");
  CHECK(ParseImageConfig(R"({"config":{}})").value().user == "");
  CHECK(ParseImageConfig(R"({"config":null})").value().user == "");
  CHECK(ParseImageConfig(R"({"os":"linux"})").value().user == "");
  CHECK(ParseImageConfig(R"({"config":{"User":null}})").value().user == "");
  CHECK_FALSE(ParseImageConfig(R"({"config":{"User":0}})").ok());
  CHECK_FALSE(ParseImageConfig(R"({"config":"x"})").ok());
  CHECK_FALSE(ParseImageConfig("{").ok());
}

TEST_CASE("Platform: parse and accept") {
  auto amd = ParsePlatform("linux/amd64");
  REQUIRE(amd.ok());
  CHECK(amd.value().String() == "linux/amd64");
  CHECK(amd.value().Accepts({"linux", "amd64", ""}));
  CHECK(amd.value().Accepts({"linux", "amd64", "v3"}));
  CHECK_FALSE(amd.value().Accepts({"linux", "arm64", ""}));
  CHECK_FALSE(amd.value().Accepts({"windows", "amd64", ""}));
  CHECK_FALSE(amd.value().Accepts({"unknown", "unknown", ""}));  // attestation manifests
  auto v7 = ParsePlatform("linux/arm/v7");
  REQUIRE(v7.ok());
  CHECK(v7.value().Accepts({"linux", "arm", "v7"}));
  CHECK_FALSE(v7.value().Accepts({"linux", "arm", "v6"}));
  CHECK(ParsePlatform("linux/arm64/v8").value().Accepts({"linux", "arm64", ""}));
  CHECK_FALSE(ParsePlatform("linux").ok());
  CHECK_FALSE(ParsePlatform("linux/").ok());
  CHECK_FALSE(ParsePlatform("linux/arm/v7/x").ok());
}

TEST_CASE("IsSha256Digest") {
  CHECK(IsSha256Digest(kD1));
  CHECK_FALSE(IsSha256Digest("sha256:" + std::string(64, 'A')));
  CHECK_FALSE(IsSha256Digest("sha256:" + std::string(63, 'a')));
  CHECK_FALSE(IsSha256Digest("sha512:" + std::string(64, 'a')));
}

}  // namespace
