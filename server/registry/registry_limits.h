// Which hosts image lookups may reach, and how: the webhook fetches whatever registry a pod
// author names, so every host it connects to — registry, mirror, token realm, redirect hop —
// is checked here first (server-side request forgery limits).
//
// - Policy allow/deny lists of host[:port] patterns (plus --allow-registry): registries not
//   allowed, or denied, are not looked up at all.
// - After DNS resolution, loopback, link-local (169.254.0.0/16, fe80::/10), cloud metadata
//   (169.254.169.254, fd00:ec2::254, 100.100.100.200), unspecified and multicast addresses are
//   refused unless an allow entry names the host exactly (no wildcard). Every address a name
//   resolves to must pass, and the connection then goes to a vetted address, never to the name
//   again (no DNS rebinding between the check and the connect).
// - Plain HTTP only for hosts the policy marks insecure (plus --insecure-registry); TLS with
//   verification for everything else.
// Immutable after construction; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/policy.h"
#include "policy/result.h"

namespace rootgate::server {

struct HostPort {
  std::string host;  // lower case; IPv6 literals without brackets
  int port = 0;
  bool explicit_port = false;

  // "host" or "host:port" as written in references ("[::1]:5000" for IPv6).
  std::string String() const;
};

// Splits "host[:port]" or "[v6]:port"; `default_port` when none is given. Fails on an empty
// host or a bad port.
Result<HostPort> SplitHostPort(std::string_view text, int default_port);

// What is wrong with fetching from this numeric address ("loopback", "link-local",
// "cloud metadata", "unspecified", "multicast"), or "" when nothing is. IPv4-mapped and NAT64
// IPv6 forms are judged by the IPv4 address inside. A text that is not an IP address is "".
std::string ForbiddenAddressKind(std::string_view ip);

// True for a numeric IPv4 or IPv6 address.
bool IsIpLiteral(std::string_view host);

// DNS as an interface, so tests run without it. Implementations must be thread-safe.
class HostResolver {
 public:
  virtual ~HostResolver() = default;
  // Every address `host` resolves to, as numeric text; an error when it resolves to none.
  virtual Result<std::vector<std::string>> Resolve(const std::string& host) const = 0;
};

// getaddrinfo (AF_UNSPEC, SOCK_STREAM). Blocking; bounded by the system resolver's timeouts.
class SystemHostResolver final : public HostResolver {
 public:
  Result<std::vector<std::string>> Resolve(const std::string& host) const override;
};

class RegistryLimits {
 public:
  RegistryLimits() = default;
  // The policy's lists plus the flags' --allow-registry and --insecure-registry entries.
  RegistryLimits(const policy::RegistryPolicy& policy, const std::vector<std::string>& allow_flags,
                 const std::vector<std::string>& insecure_flags);

  // Why images of `registry` (as in the reference: "ghcr.io", "127.0.0.1:5000") must not be
  // looked up, or "" when they may: not in the allow list, or denied.
  std::string RegistryRefusal(std::string_view registry) const;
  // Why a host met on the way (mirror, token realm, redirect hop) must not be contacted, or "":
  // a deny pattern matches it. The allow list does not apply (blob storage hosts differ).
  std::string HopRefusal(const HostPort& hp) const;
  // True when plain HTTP is allowed for this host (registries.insecure, --insecure-registry).
  bool Insecure(const HostPort& hp) const;
  // The mirror for a registry, or nullptr.
  const policy::RegistryMirror* MirrorFor(std::string_view registry) const;

  // Resolves `hp.host` and vets every address: the addresses to connect to (in resolver order),
  // or the reason why not, e.g. "127.0.0.1:5000 resolves to loopback address 127.0.0.1: refused
  // (name it in registries.allow or --allow-registry to permit it)".
  Result<std::vector<std::string>> Vet(const HostResolver& resolver, const HostPort& hp) const;

 private:
  bool NamedExactly(const HostPort& hp) const;

  std::vector<std::string> allow_, deny_, insecure_;
  std::vector<policy::RegistryMirror> mirrors_;
};

// True when a host[:port] pattern matches the host, with or without its port.
bool HostPatternMatches(std::string_view pattern, const HostPort& hp);

}  // namespace rootgate::server
