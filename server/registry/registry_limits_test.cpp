// Registry limits: address classes (IPv4, IPv6, mapped and NAT64 forms), host:port parsing and
// pattern matching, allow/deny/insecure lists, mirrors, and vetting with a fake resolver —
// including a name that resolves to a mix of public and forbidden addresses.
#include "server/registry/registry_limits.h"

#include <doctest/doctest.h>

#include <map>

namespace {

using namespace rootgate::server;
using rootgate::Error;
using rootgate::Result;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class FakeResolver final : public HostResolver {
 public:
  std::map<std::string, std::vector<std::string>> table;
  Result<std::vector<std::string>> Resolve(const std::string& host) const override {
    if (IsIpLiteral(host)) return std::vector<std::string>{host};
    auto it = table.find(host);
    if (it == table.end()) return Error{"cannot resolve " + host};
    return it->second;
  }
};

HostPort HP(const char* text, int default_port = 443) { return SplitHostPort(text, default_port).value(); }

TEST_CASE("ForbiddenAddressKind") {
  const std::vector<std::pair<const char*, const char*>> rows = {
      {"127.0.0.1", "loopback"},          {"127.255.0.9", "loopback"},
      {"0.0.0.0", "unspecified"},         {"169.254.169.254", "cloud metadata"},
      {"169.254.1.1", "link-local"},      {"100.100.100.200", "cloud metadata"},
      {"224.0.0.1", "multicast"},         {"255.255.255.255", "broadcast"},
      {"::1", "loopback"},                {"::", "unspecified"},
      {"fe80::1", "link-local"},          {"febf::1", "link-local"},
      {"fd00:ec2::254", "cloud metadata"}, {"ff02::1", "multicast"},
      {"::ffff:127.0.0.1", "loopback"},   {"::ffff:169.254.169.254", "cloud metadata"},
      {"64:ff9b::a9fe:a9fe", "cloud metadata"}, {"::127.0.0.1", "loopback"},
      {"8.8.8.8", ""},                    {"10.0.0.5", ""},
      {"192.168.1.10", ""},               {"100.64.0.1", ""},
      {"2001:4860:4860::8888", ""},       {"fd00::1", ""},
      {"fec0::1", ""},                    {"not-an-ip", ""},
  };
  for (const auto& [ip, kind] : rows) {
    INFO(std::string(ip));
    CHECK(ForbiddenAddressKind(ip) == kind);
  }
}

TEST_CASE("SplitHostPort and HostPort::String") {
  CHECK(HP("ghcr.io").port == 443);
  CHECK_FALSE(HP("ghcr.io").explicit_port);
  CHECK(HP("GHCR.io").host == "ghcr.io");
  CHECK(HP("localhost:5000").port == 5000);
  CHECK(HP("localhost:5000").String() == "localhost:5000");
  CHECK(HP("[::1]:5000").host == "::1");
  CHECK(HP("[::1]:5000").String() == "[::1]:5000");
  CHECK(HP("[fe80::1]").String() == "[fe80::1]");
  CHECK_FALSE(SplitHostPort("", 443).ok());
  CHECK_FALSE(SplitHostPort(":5000", 443).ok());
  CHECK_FALSE(SplitHostPort("host:0", 443).ok());
  CHECK_FALSE(SplitHostPort("host:99999", 443).ok());
  CHECK_FALSE(SplitHostPort("host:x", 443).ok());
  CHECK_FALSE(SplitHostPort("::1", 443).ok());
  CHECK_FALSE(SplitHostPort("[::1", 443).ok());
}

TEST_CASE("HostPatternMatches: with or without the port, globs, case") {
  CHECK(HostPatternMatches("ghcr.io", HP("ghcr.io")));
  CHECK(HostPatternMatches("ghcr.io:443", HP("ghcr.io")));
  CHECK(HostPatternMatches("ghcr.io", HP("ghcr.io:8443")));
  CHECK_FALSE(HostPatternMatches("ghcr.io:443", HP("ghcr.io:8443")));
  CHECK(HostPatternMatches("*.corp.example", HP("Reg.Corp.Example:5000")));
  CHECK_FALSE(HostPatternMatches("*.corp.example", HP("corp.example")));
  CHECK(HostPatternMatches("127.0.0.1:5000", HP("127.0.0.1:5000")));
  CHECK_FALSE(HostPatternMatches("127.0.0.1:5000", HP("127.0.0.1:5001")));
  CHECK(HostPatternMatches("[::1]:5000", HP("[::1]:5000")));
}

TEST_CASE("RegistryLimits: allow, deny, insecure, mirrors") {
  rootgate::policy::RegistryPolicy p;
  p.allow = {"ghcr.io", "*.corp.example"};
  p.deny = {"bad.corp.example"};
  p.insecure = {"reg.corp.example:5000"};
  p.mirrors = {{"docker.io", "mirror.corp.example/hub"}};
  RegistryLimits limits(p, {"127.0.0.1:5000"}, {"127.0.0.1:5000"});
  CHECK(limits.RegistryRefusal("ghcr.io") == "");
  CHECK(limits.RegistryRefusal("x.corp.example:5000") == "");
  CHECK(limits.RegistryRefusal("127.0.0.1:5000") == "");
  CHECK(Has(limits.RegistryRefusal("quay.io"), "not in registries.allow"));
  CHECK(Has(limits.RegistryRefusal("bad.corp.example"), "denied by registries.deny"));
  CHECK(limits.HopRefusal(HP("s3.amazonaws.com")) == "");  // the allow list is not for hops
  CHECK(Has(limits.HopRefusal(HP("bad.corp.example")), "denied"));
  CHECK(limits.Insecure(HP("reg.corp.example:5000")));
  CHECK_FALSE(limits.Insecure(HP("reg.corp.example")));
  CHECK(limits.Insecure(HP("127.0.0.1:5000")));
  REQUIRE(limits.MirrorFor("docker.io") != nullptr);
  CHECK(limits.MirrorFor("docker.io")->mirror == "mirror.corp.example/hub");
  CHECK(limits.MirrorFor("ghcr.io") == nullptr);
  RegistryLimits open;
  CHECK(open.RegistryRefusal("anything.example") == "");
}

TEST_CASE("RegistryLimits::Vet: forbidden addresses unless named exactly") {
  FakeResolver dns;
  dns.table["ghcr.io"] = {"140.82.121.33"};
  dns.table["sneaky.example"] = {"93.184.216.34", "127.0.0.1"};
  dns.table["meta.example"] = {"169.254.169.254"};
  dns.table["mirror.corp.example"] = {"127.0.0.2"};
  rootgate::policy::RegistryPolicy p;
  p.allow = {"*.example", "meta.example:8443", "ghcr.io"};
  p.mirrors = {{"docker.io", "mirror.corp.example"}};
  RegistryLimits limits(p, {"127.0.0.1:5000"}, {});
  CHECK(limits.Vet(dns, HP("ghcr.io")).value() == std::vector<std::string>{"140.82.121.33"});
  auto sneaky = limits.Vet(dns, HP("sneaky.example"));  // a wildcard does not lift the limit
  REQUIRE_FALSE(sneaky.ok());
  CHECK(Has(sneaky.error(), "sneaky.example resolves to loopback address 127.0.0.1: refused"));
  CHECK(Has(sneaky.error(), "--allow-registry"));
  auto meta = limits.Vet(dns, HP("meta.example"));  // named, but with another port
  REQUIRE_FALSE(meta.ok());
  CHECK(Has(meta.error(), "cloud metadata"));
  CHECK(limits.Vet(dns, HP("meta.example:8443")).ok());
  CHECK(limits.Vet(dns, HP("127.0.0.1:5000")).value() == std::vector<std::string>{"127.0.0.1"});
  auto other_port = limits.Vet(dns, HP("127.0.0.1:5001"));
  REQUIRE_FALSE(other_port.ok());
  CHECK(Has(other_port.error(), "127.0.0.1:5001 is a loopback address: refused"));
  CHECK(Has(limits.Vet(dns, HP("0.0.0.0")).error(), "0.0.0.0 is an unspecified address: refused"));
  CHECK(Has(limits.Vet(dns, HP("[::]:5000")).error(), "[::]:5000 is an unspecified address: refused"));
  CHECK(Has(limits.Vet(dns, HP("169.254.169.254")).error(), "cloud metadata"));
  CHECK(limits.Vet(dns, HP("mirror.corp.example")).ok());  // mirrors are named by the admin
  CHECK(Has(limits.Vet(dns, HP("nxdomain.example")).error(), "cannot resolve"));
}

}  // namespace
