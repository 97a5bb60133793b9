#include "server/registry/registry_limits.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstring>

#include "policy/english.h"

namespace rootgate::server {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool HasWildcard(std::string_view p) { return p.find_first_of("*?") != std::string_view::npos; }

std::string Ipv4Kind(const unsigned char* a) {
  if (a[0] == 127) return "loopback";
  if (a[0] == 0) return "unspecified";
  if (a[0] == 169 && a[1] == 254) {
    return (a[2] == 169 && a[3] == 254) ? "cloud metadata" : "link-local";
  }
  if (a[0] == 100 && a[1] == 100 && a[2] == 100 && a[3] == 200) return "cloud metadata";
  if (a[0] >= 224 && a[0] <= 239) return "multicast";
  if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255) return "broadcast";
  return "";
}

std::string Ipv6Kind(const unsigned char* a) {
  // fd00:ec2::254 (AWS's IPv6 instance metadata endpoint)
  static constexpr std::array<unsigned char, 16> kMetadata = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0,
                                                              0,    0,    0,    0,    0, 0, 0x02, 0x54};
  static constexpr std::array<unsigned char, 12> kMapped = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static constexpr std::array<unsigned char, 12> kNat64 = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  static constexpr std::array<unsigned char, 12> kZero12 = {};
  if (std::memcmp(a, kMetadata.data(), 16) == 0) return "cloud metadata";
  if (std::memcmp(a, kMapped.data(), 12) == 0 || std::memcmp(a, kNat64.data(), 12) == 0) {
    return Ipv4Kind(a + 12);
  }
  if (std::memcmp(a, kZero12.data(), 12) == 0) {
    if (a[12] == 0 && a[13] == 0 && a[14] == 0 && a[15] <= 1) {
      return a[15] == 1 ? "loopback" : "unspecified";
    }
    return Ipv4Kind(a + 12);  // IPv4-compatible ::a.b.c.d (deprecated, still routable somewhere)
  }
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local";
  if (a[0] == 0xff) return "multicast";
  return "";
}

bool ParsePort(std::string_view s, int* port) {
  if (s.empty() || s.size() > 5) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *port);
  return ec == std::errc() && p == s.data() + s.size() && *port > 0 && *port <= 65535;
}

}  // namespace

std::string HostPort::String() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return explicit_port ? h + ":" + std::to_string(port) : h;
}

Result<HostPort> SplitHostPort(std::string_view text, int default_port) {
  HostPort hp;
  hp.port = default_port;
  std::string_view host = text, port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Error{"bad host \"" + std::string(text) + "\""};
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return Error{"bad host \"" + std::string(text) + "\""};
      port = rest.substr(1);
      hp.explicit_port = true;
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) return Error{"bad host \"" + std::string(text) + "\" (IPv6 needs [ ])"};
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    hp.explicit_port = true;
  }
  if (host.empty()) return Error{"bad host \"" + std::string(text) + "\": empty host"};
  if (hp.explicit_port && !ParsePort(port, &hp.port)) {
    return Error{"bad host \"" + std::string(text) + "\": bad port"};
  }
  hp.host = Lower(host);
  return hp;
}

bool IsIpLiteral(std::string_view host) {
  unsigned char buf[16];
  const std::string h(host);
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

std::string ForbiddenAddressKind(std::string_view ip) {
  unsigned char buf[16];
  const std::string text(ip);
  if (inet_pton(AF_INET, text.c_str(), buf) == 1) return Ipv4Kind(buf);
  if (inet_pton(AF_INET6, text.c_str(), buf) == 1) return Ipv6Kind(buf);
  return "";
}

Result<std::vector<std::string>> SystemHostResolver::Resolve(const std::string& host) const {
  if (IsIpLiteral(host)) return std::vector<std::string>{host};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0) return Error{"cannot resolve " + host + ": " + gai_strerror(rc)};
  std::vector<std::string> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr = ai->ai_family == AF_INET
                           ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr)
                           : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr);
    if ((ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
        inet_ntop(ai->ai_family, addr, text, sizeof text) != nullptr) {
      out.emplace_back(text);
    }
  }
  freeaddrinfo(res);
  if (out.empty()) return Error{"cannot resolve " + host + ": no addresses"};
  return out;
}

bool HostPatternMatches(std::string_view pattern, const HostPort& hp) {
  HostPort with_port = hp;
  with_port.explicit_port = true;
  HostPort bare = hp;
  bare.explicit_port = false;
  const std::string p = Lower(pattern);
  return policy::GlobMatch(p, bare.String()) || policy::GlobMatch(p, with_port.String());
}

RegistryLimits::RegistryLimits(const policy::RegistryPolicy& policy,
                               const std::vector<std::string>& allow_flags,
                               const std::vector<std::string>& insecure_flags)
    : allow_(policy.allow), deny_(policy.deny), insecure_(policy.insecure), mirrors_(policy.mirrors) {
  for (const std::string& a : allow_flags) allow_.push_back(Lower(a));
  for (const std::string& i : insecure_flags) insecure_.push_back(Lower(i));
}

std::string RegistryLimits::RegistryRefusal(std::string_view registry) const {
  auto hp = SplitHostPort(registry, 443);
  if (!hp) return hp.error();
  for (const std::string& d : deny_) {
    if (HostPatternMatches(d, hp.value())) return "denied by registries.deny \"" + d + "\"";
  }
  if (allow_.empty()) return "";
  for (const std::string& a : allow_) {
    if (HostPatternMatches(a, hp.value())) return "";
  }
  return "not in registries.allow or --allow-registry";
}

std::string RegistryLimits::HopRefusal(const HostPort& hp) const {
  for (const std::string& d : deny_) {
    if (HostPatternMatches(d, hp)) return "denied by registries.deny \"" + d + "\"";
  }
  return "";
}

bool RegistryLimits::Insecure(const HostPort& hp) const {
  for (const std::string& i : insecure_) {
    if (HostPatternMatches(i, hp)) return true;
  }
  return false;
}

const policy::RegistryMirror* RegistryLimits::MirrorFor(std::string_view registry) const {
  auto hp = SplitHostPort(registry, 443);
  if (!hp) return nullptr;
  for (const policy::RegistryMirror& m : mirrors_) {
    if (HostPatternMatches(m.registry, hp.value())) return &m;
  }
  return nullptr;
}

bool RegistryLimits::NamedExactly(const HostPort& hp) const {
  for (const std::string& a : allow_) {
    if (!HasWildcard(a) && HostPatternMatches(a, hp)) return true;
  }
  for (const policy::RegistryMirror& m : mirrors_) {  // the admin named the mirror
    auto mirror = SplitHostPort(m.mirror.substr(0, m.mirror.find('/')), hp.port);
    if (mirror && mirror.value().host == hp.host && mirror.value().port == hp.port) return true;
  }
  return false;
}

Result<std::vector<std::string>> RegistryLimits::Vet(const HostResolver& resolver, const HostPort& hp) const {
  auto addrs = resolver.Resolve(hp.host);
  if (!addrs) return Error{addrs.error()};
  const bool named = NamedExactly(hp);
  for (const std::string& ip : addrs.value()) {
    const std::string kind = ForbiddenAddressKind(ip);
    if (kind.empty() || named) continue;
    std::string what = hp.String() + (IsIpLiteral(hp.host) ? " is " + WithArticle(kind + " address")
                                                           : " resolves to " + kind + " address " + ip);
    return Error{what + ": refused (name it in registries.allow or --allow-registry to permit it)"};
  }
  return addrs.value();
}

}  // namespace rootgate::server
