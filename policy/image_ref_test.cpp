// ParseImageRef against distribution/reference ParseNormalizedNamed (the parser the kubelet and
// containerd use): familiar Docker Hub names gain docker.io and library/, index.docker.io is
// docker.io, a first component is a registry when it holds '.' or ':', is `localhost`, or has
// upper-case letters; `latest` is added only when neither tag nor digest is given.
#include "policy/image_ref.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using rootgate::policy::ImageRef;
using rootgate::policy::ParseImageRef;

const std::string kHex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

struct Good {
  std::string name;
  std::string ref;
  std::string registry, repository, tag, digest;
  std::string api_host;
};

const std::vector<Good> kGood = {
    {"familiar name", "nginx", "docker.io", "library/nginx", "latest", "", "registry-1.docker.io"},
    {"familiar name with tag", "nginx:1.25", "docker.io", "library/nginx", "1.25", "",
     "registry-1.docker.io"},
    {"hub namespace", "library/nginx", "docker.io", "library/nginx", "latest", "",
     "registry-1.docker.io"},
    {"hub user repo", "bitnami/redis:7.2", "docker.io", "bitnami/redis", "7.2", "",
     "registry-1.docker.io"},
    {"explicit docker.io, no namespace", "docker.io/nginx", "docker.io", "library/nginx", "latest",
     "", "registry-1.docker.io"},
    {"legacy index.docker.io", "index.docker.io/library/nginx", "docker.io", "library/nginx",
     "latest", "", "registry-1.docker.io"},
    {"legacy index.docker.io, no namespace", "index.docker.io/nginx:1", "docker.io",
     "library/nginx", "1", "", "registry-1.docker.io"},
    {"ghcr", "ghcr.io/org/tool:2.0", "ghcr.io", "org/tool", "2.0", "", "ghcr.io"},
    {"quay, dashes in path", "quay.io/prometheuscommunity/postgres-exporter:v0.15.0", "quay.io",
     "prometheuscommunity/postgres-exporter", "v0.15.0", "", "quay.io"},
    {"localhost without port", "localhost/foo", "localhost", "foo", "latest", "", "localhost"},
    {"localhost with port", "localhost:5000/team/app:rootimg", "localhost:5000", "team/app",
     "rootimg", "", "localhost:5000"},
    {"IPv4 with port", "127.0.0.1:5000/team/app:nonroot", "127.0.0.1:5000", "team/app", "nonroot",
     "", "127.0.0.1:5000"},
    {"IPv6 with port", "[::1]:5000/app:1", "[::1]:5000", "app", "1", "", "[::1]:5000"},
    {"host with port, no dot", "myregistry:5000/app", "myregistry:5000", "app", "latest", "",
     "myregistry:5000"},
    {"upper-case first component is a registry", "UPPER/case", "UPPER", "case", "latest", "",
     "UPPER"},
    {"digest only: no latest added", "registry.example.com/team/app@sha256:" + kHex64,
     "registry.example.com", "team/app", "", "sha256:" + kHex64, "registry.example.com"},
    {"tag and digest both kept", "nginx:1.25@sha256:" + kHex64, "docker.io", "library/nginx",
     "1.25", "sha256:" + kHex64, "registry-1.docker.io"},
    {"sha384 digest", "app@sha384:" + kHex64 + kHex64.substr(0, 32), "docker.io", "library/app", "",
     "sha384:" + kHex64 + kHex64.substr(0, 32), "registry-1.docker.io"},
    {"separators in path", "a.b/c__d/e-f.g_h---i:tag_1.x-y", "a.b", "c__d/e-f.g_h---i", "tag_1.x-y",
     "", "a.b"},
    {"bare localhost:5000 is a tagged hub name", "localhost:5000", "docker.io", "library/localhost",
     "5000", "", "registry-1.docker.io"},
    {"128-character tag", "app:" + std::string(128, 't'), "docker.io", "library/app",
     std::string(128, 't'), "", "registry-1.docker.io"},
};

TEST_CASE("ParseImageRef: valid references and their normal form") {
  for (const Good& g : kGood) {
    INFO(g.name << ": " << g.ref);
    auto parsed = ParseImageRef(g.ref);
    CHECK(parsed.ok());
    if (!parsed.ok()) continue;
    const ImageRef& r = parsed.value();
    CHECK(r.registry == g.registry);
    CHECK(r.repository == g.repository);
    CHECK(r.tag == g.tag);
    CHECK(r.digest == g.digest);
    CHECK(r.ApiHost() == g.api_host);
    std::string want = g.registry + "/" + g.repository;
    if (!g.tag.empty()) want += ":" + g.tag;
    if (!g.digest.empty()) want += "@" + g.digest;
    CHECK(r.String() == want);
  }
}

TEST_CASE("ParseImageRef: normal forms spelled out") {
  // The same expectations as above, written as whole strings for the common cases.
  CHECK(ParseImageRef("nginx").value().String() == "docker.io/library/nginx:latest");
  CHECK(ParseImageRef("nginx:1.25").value().String() == "docker.io/library/nginx:1.25");
  CHECK(ParseImageRef("index.docker.io/library/nginx").value().String() ==
        "docker.io/library/nginx:latest");
  CHECK(ParseImageRef("registry.example.com/team/app@sha256:" + kHex64).value().String() ==
        "registry.example.com/team/app@sha256:" + kHex64);
}

struct Bad {
  std::string name;
  std::string ref;
};

const std::vector<Bad> kBad = {
    {"empty", ""},
    {"upper-case repository on the hub", "docker.io/UPPER/case"},
    {"upper-case familiar name", "Nginx"},
    {"upper-case path after a registry", "ghcr.io/Org/tool"},
    {"empty tag", "nginx:"},
    {"short sha256 digest", "nginx@sha256:abc"},
    {"upper-case hex digest", "nginx@sha256:" + std::string(64, 'A')},
    {"unknown digest algorithm", "nginx@md5:" + kHex64},
    {"empty digest", "nginx@"},
    {"empty path component", "a//b"},
    {"leading dash", "-bad"},
    {"trailing separator", "bad-"},
    {"leading slash", "/nginx"},
    {"trailing slash", "nginx/"},
    {"registry only", "ghcr.io/"},
    {"empty port", "ghcr.io:/app"},
    {"space", "ngi nx"},
    {"two tags", "nginx:1:2"},
    {"tag with slash-free colon in path", "a:b/c"},
    {"129-character tag", "app:" + std::string(129, 't')},
    {"tag starting with a dot", "app:.1"},
    {"64-hex identifier is not a name", kHex64},
    {"name longer than 255", "example.com/" + std::string(250, 'a')},
};

TEST_CASE("ParseImageRef: invalid references give an error naming the reference") {
  for (const Bad& b : kBad) {
    INFO(b.name << ": " << b.ref);
    auto parsed = ParseImageRef(b.ref);
    CHECK_FALSE(parsed.ok());
    if (parsed.ok()) continue;
    CHECK(parsed.error().find("\"" + b.ref + "\"") != std::string::npos);
  }
}

}  // namespace
