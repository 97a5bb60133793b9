// ParseWwwAuthenticate: the challenges registries send (Docker Hub, GHCR, distribution's
// htpasswd), RFC 7235's own example, quoting, and damaged headers.
#include "server/registry/www_authenticate.h"

#include <doctest/doctest.h>

namespace {

using rootgate::server::AuthChallenge;
using rootgate::server::FindChallenge;
using rootgate::server::ParseWwwAuthenticate;

TEST_CASE("WWW-Authenticate: Docker Hub's bearer challenge") {
  auto c = ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull")");
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == "bearer");
  CHECK(c[0].Param("realm") == "https://auth.docker.io/token");
  CHECK(c[0].Param("service") == "registry.docker.io");
  CHECK(c[0].Param("scope") == "repository:library/nginx:pull");
  CHECK(c[0].Param("error") == "");
}

TEST_CASE("WWW-Authenticate: commas inside quotes, spaces, case, escapes") {
  auto c = ParseWwwAuthenticate(
      "  BEARER   Realm = \"https://t.example/token?a=1,b=2\" ,  scope=\"repository:a/b:pull,push "
      "repository:c:pull\", error=insufficient_scope, note=\"say \\\"hi\\\"\"");
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == "bearer");
  CHECK(c[0].Param("realm") == "https://t.example/token?a=1,b=2");
  CHECK(c[0].Param("scope") == "repository:a/b:pull,push repository:c:pull");
  CHECK(c[0].Param("error") == "insufficient_scope");
  CHECK(c[0].Param("note") == "say \"hi\"");
}

TEST_CASE("WWW-Authenticate: several challenges in one header (RFC 7235 example)") {
  auto c = ParseWwwAuthenticate(
      "Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"");
  REQUIRE(c.size() == 2);
  CHECK(c[0].scheme == "newauth");
  CHECK(c[0].Param("realm") == "apps");
  CHECK(c[0].Param("type") == "1");
  CHECK(c[0].Param("title") == "Login to \"apps\"");
  CHECK(c[1].scheme == "basic");
  CHECK(c[1].Param("realm") == "simple");
  const AuthChallenge* basic = FindChallenge(c, "basic");
  REQUIRE(basic != nullptr);
  CHECK(basic->Param("realm") == "simple");
  CHECK(FindChallenge(c, "bearer") == nullptr);
}

TEST_CASE("WWW-Authenticate: bare schemes and token68") {
  auto c = ParseWwwAuthenticate("Negotiate, Basic realm=\"x\"");
  REQUIRE(c.size() == 2);
  CHECK(c[0].scheme == "negotiate");
  CHECK(c[0].params.empty());
  CHECK(c[1].scheme == "basic");
  auto t = ParseWwwAuthenticate("Negotiate YWJjZA==, Basic");
  REQUIRE(t.size() == 2);
  CHECK(t[0].token68 == "YWJjZA==");
  CHECK(t[1].scheme == "basic");
  auto bare = ParseWwwAuthenticate("Basic");
  REQUIRE(bare.size() == 1);
  CHECK(bare[0].scheme == "basic");
}

TEST_CASE("WWW-Authenticate: damaged headers keep what parsed, never crash") {
  CHECK(ParseWwwAuthenticate("").empty());
  CHECK(ParseWwwAuthenticate("   ,  ,").empty());
  CHECK(ParseWwwAuthenticate("\"quoted\"").empty());
  auto unterminated = ParseWwwAuthenticate("Bearer realm=\"https://a.example/token");
  REQUIRE(unterminated.size() == 1);
  CHECK(unterminated[0].Param("realm") == "");
  auto junk = ParseWwwAuthenticate("Bearer realm=\"r\" garbage here, Basic realm=\"b\"");
  REQUIRE(junk.size() == 1);
  CHECK(junk[0].Param("realm") == "r");
  auto trailing = ParseWwwAuthenticate("Bearer realm=\"r\",");
  REQUIRE(trailing.size() == 1);
  CHECK(trailing[0].Param("realm") == "r");
  // Every prefix of a real header parses without crashing and never invents a realm.
  const std::string full =
      R"(Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:o/r:pull")";
  for (size_t n = 0; n <= full.size(); ++n) {
    auto p = ParseWwwAuthenticate(full.substr(0, n));
    if (!p.empty() && !p[0].Param("realm").empty()) {
      CHECK(p[0].Param("realm") == "https://ghcr.io/token");
    }
  }
}

}  // namespace
