// Docker config.json credentials: both Secret formats, the three ways to give a credential,
// Docker Hub's many names, globs, and errors that never quote a secret.
#include "server/registry/docker_config.h"

#include <doctest/doctest.h>

namespace {

using rootgate::server::DecodeBase64;
using rootgate::server::EncodeBase64;
using rootgate::server::NormaliseRegistryKey;
using rootgate::server::RegistryCredentials;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST_CASE("DecodeBase64") {
  CHECK(DecodeBase64("dXNlcjpwYXNz") == std::optional<std::string>("user:pass"));
  CHECK(DecodeBase64("YQ==") == std::optional<std::string>("a"));
  CHECK(DecodeBase64("YQ") == std::optional<std::string>("a"));
  CHECK(DecodeBase64("") == std::optional<std::string>(""));
  CHECK_FALSE(DecodeBase64("dXNl cjpw").has_value());
  CHECK_FALSE(DecodeBase64("YQ=a").has_value());
  CHECK_FALSE(DecodeBase64("%%%").has_value());
  for (const char* text : {"", "a", "ab", "abc", "user:pa55:word", "\xff\x00\x10"}) {
    CHECK(DecodeBase64(EncodeBase64(text)) == std::optional<std::string>(text));
  }
  CHECK(EncodeBase64("user:pass") == "dXNlcjpwYXNz");
  CHECK(EncodeBase64("a") == "YQ==");
}

TEST_CASE("NormaliseRegistryKey") {
  CHECK(NormaliseRegistryKey("https://index.docker.io/v1/") == "docker.io");
  CHECK(NormaliseRegistryKey("registry-1.docker.io") == "docker.io");
  CHECK(NormaliseRegistryKey("docker.io") == "docker.io");
  CHECK(NormaliseRegistryKey("http://Localhost:5000") == "localhost:5000");
  CHECK(NormaliseRegistryKey("ghcr.io/org") == "ghcr.io");
}

TEST_CASE("RegistryCredentials: dockerconfigjson with auth, username/password, identitytoken") {
  auto parsed = RegistryCredentials::Parse(R"({"auths": {
      "https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="},
      "ghcr.io": {"username": "octo", "password": "ghp_token"},
      "registry.example.com:5000": {"identitytoken": "refresh-me"},
      "*.corp.example": {"auth": "Y29ycDpzM2NyM3Q6d2l0aDpjb2xvbnM="}}})");
  REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.error()));
  const RegistryCredentials& c = parsed.value();
  CHECK(c.size() == 4);
  auto hub = c.For("registry-1.docker.io");
  REQUIRE(hub);
  CHECK(hub->username == "hub");
  CHECK(hub->password == "hubpass");
  CHECK(c.For("docker.io")->username == "hub");
  auto gh = c.For("GHCR.io");
  REQUIRE(gh);
  CHECK(gh->username == "octo");
  CHECK(gh->password == "ghp_token");
  auto idt = c.For("registry.example.com:5000");
  REQUIRE(idt);
  CHECK(idt->identity_token == "refresh-me");
  CHECK_FALSE(c.For("registry.example.com").has_value());  // another port is another registry
  auto corp = c.For("reg.corp.example:443");
  REQUIRE(corp);
  CHECK(corp->username == "corp");
  CHECK(corp->password == "s3cr3t:with:colons");
  CHECK_FALSE(c.For("quay.io").has_value());
}

TEST_CASE("RegistryCredentials: the older dockercfg format (no auths wrapper)") {
  auto parsed = RegistryCredentials::Parse(
      R"({"quay.io": {"auth": "cTpw", "email": "x@example.com"}, "credsStore": "desktop"})");
  REQUIRE(parsed.ok());
  REQUIRE(parsed.value().For("quay.io"));
  CHECK(parsed.value().For("quay.io")->password == "p");
}

TEST_CASE("RegistryCredentials: errors name the entry, never the secret") {
  auto bad_json = RegistryCredentials::Parse(R"({"auths": {"a": {"auth": "s3cr3tvalue")");
  REQUIRE_FALSE(bad_json.ok());
  CHECK_FALSE(Has(bad_json.error(), "s3cr3t"));
  auto bad_b64 = RegistryCredentials::Parse(R"({"auths": {"ghcr.io": {"auth": "s3cr3t!!"}}})");
  REQUIRE_FALSE(bad_b64.ok());
  CHECK(Has(bad_b64.error(), "auths[\"ghcr.io\"].auth"));
  CHECK_FALSE(Has(bad_b64.error(), "s3cr3t"));
  auto no_colon = RegistryCredentials::Parse(R"({"auths": {"x.io": {"auth": "c2VjcmV0"}}})");
  REQUIRE_FALSE(no_colon.ok());
  CHECK_FALSE(Has(no_colon.error(), "secret"));
  CHECK_FALSE(RegistryCredentials::Parse(R"({"auths": []})").ok());
  CHECK_FALSE(RegistryCredentials::Parse(R"([1])").ok());
  auto missing = RegistryCredentials::Load("/nonexistent/config.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(Has(missing.error(), "/nonexistent/config.json"));
}

}  // namespace
