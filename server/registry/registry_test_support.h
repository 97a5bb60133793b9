// Test-only: an in-memory registry behind the RegistryTransport interface (manifests, blobs,
// bearer or basic auth with a token endpoint, blob redirects to a storage host, delays), a fake
// DNS, and helpers that build images. Include only from *_test.cpp. FakeRegistry locks its own
// state (resolver tests call it from several threads); FakeDns is only read once set up.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cstring>

#include "server/registry/docker_config.h"
#include "server/registry/image_manifest.h"
#include "server/registry/registry_limits.h"
#include "server/registry/registry_transport.h"
#include "server/util/sha256.h"

namespace rootgate::server::testing {

// Names → addresses; unknown names fail to resolve.
class FakeDns final : public HostResolver {
 public:
  std::map<std::string, std::vector<std::string>> table = {
      {"registry.example", {"93.184.216.34"}}, {"auth.example", {"93.184.216.35"}},
      {"storage.example", {"93.184.216.36"}},  {"evil.example", {"127.0.0.1"}},
      {"meta.example", {"169.254.169.254"}},   {"mirror.example", {"93.184.216.37"}}};
  Result<std::vector<std::string>> Resolve(const std::string& host) const override {
    if (IsIpLiteral(host)) return std::vector<std::string>{host};
    auto it = table.find(host);
    if (it == table.end()) return Error{"cannot resolve " + host + ": unknown"};
    return it->second;
  }
};

// One tar entry: a regular file, or a link ('1' hard, '2' symbolic) to `link`.
struct TarEntry {
  std::string path;
  std::string content;
  char type = '0';
  std::string link;
};

// A gzip-compressed tar of these entries, in order (ustar headers, checksums filled in).
inline std::string GzipTarEntries(const std::vector<TarEntry>& entries) {
  auto octal = [](uint64_t v, size_t width) {
    std::string s(width - 1, '0');
    for (size_t i = width - 1; i-- > 0 && v; v >>= 3) s[i] = static_cast<char>('0' + (v & 7));
    return s;
  };
  std::string tar;
  for (const TarEntry& e : entries) {
    const std::string& path = e.path;
    const std::string& content = e.content;
    std::string h(512, '\0');
    std::memcpy(&h[0], path.data(), std::min<size_t>(path.size(), 99));
    std::memcpy(&h[100], octal(0644, 8).data(), 7);
    std::memcpy(&h[124], octal(content.size(), 12).data(), 11);
    h[156] = e.type;
    std::memcpy(&h[157], e.link.data(), std::min<size_t>(e.link.size(), 99));
    std::memcpy(&h[257], "ustar", 5);
    std::memset(&h[148], ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : h) sum += c;
    std::memcpy(&h[148], octal(sum, 7).data(), 6);
    tar += h + content + std::string((512 - content.size() % 512) % 512, '\0');
  }
  tar += std::string(1024, '\0');
  z_stream z{};
  deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, tar.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(tar.data());
  z.avail_in = static_cast<uInt>(tar.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A gzip-compressed tar of regular files, in order.
inline std::string GzipTar(const std::vector<std::pair<std::string, std::string>>& files) {
  std::vector<TarEntry> entries;
  for (const auto& [path, content] : files) entries.push_back({path, content, '0', ""});
  return GzipTarEntries(entries);
}

// A gzip-compressed tar holding one regular file.
inline std::string GzipTarWith(const std::string& path, const std::string& content) {
  return GzipTar({{path, content}});
}

class FakeRegistry final : public RegistryTransport {
 public:
  enum class Auth { kNone, kBearer, kBasic };

  std::string host = "registry.example";
  Auth auth = Auth::kNone;
  std::string realm = "https://auth.example/token";
  std::string token = "tok-123";
  std::string basic = "Basic " + EncodeBase64("user:pass");  // what kBasic accepts
  std::string token_basic;        // non-empty: the token endpoint requires this Authorization
  std::string blob_redirect;      // non-empty: blobs answer 307 to this + digest
  std::string wrong_content_digest;  // non-empty: sent as Docker-Content-Digest
  std::chrono::milliseconds delay{0};
  std::vector<std::string> refuse_addresses;  // connections to these fail (kConnect)

  std::map<std::string, std::pair<std::string, std::string>> manifests;  // repo@ref → body, type
  std::map<std::string, std::string> blobs;                              // digest → bytes

  // Every request seen (without on_body), under the mutex.
  std::vector<RegistryHttpRequest> Log() {
    std::lock_guard<std::mutex> l(mu_);
    return log_;
  }
  int Count(const std::string& path_part) {
    int n = 0;
    for (const auto& r : Log()) n += r.path.find(path_part) != std::string::npos;
    return n;
  }

  std::string AddBlob(const std::string& bytes) {
    const std::string d = Sha256::Of(bytes);
    blobs[d] = bytes;
    return d;
  }
  // An image whose config has `user`; returns the manifest digest. Tagged `tag` in `repo`.
  std::string AddImage(const std::string& repo, const std::string& tag, const std::string& user,
                       std::vector<std::string> layers = {},
                       std::string_view type = kOciManifestType) {
    const std::string config = AddBlob(nlohmann::json{{"architecture", "amd64"}, {"os", "linux"},
                                                      {"config", {{"User", user}}}}.dump());
    nlohmann::json m = {{"schemaVersion", 2}, {"mediaType", type},
                        {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                    {"digest", config}, {"size", blobs[config].size()}}},
                        {"layers", nlohmann::json::array()}};
    for (const std::string& layer : layers) {
      const std::string d = AddBlob(layer);
      m["layers"].push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                             {"digest", d}, {"size", layer.size()}});
    }
    return AddManifest(repo, tag, m.dump(), std::string(type));
  }
  // An index over (platform, manifest digest) pairs; returns its digest.
  std::string AddIndex(const std::string& repo, const std::string& tag,
                       const std::vector<std::pair<std::string, std::string>>& entries) {
    nlohmann::json idx = {{"schemaVersion", 2}, {"mediaType", kOciIndexType}, {"manifests", nlohmann::json::array()}};
    for (const auto& [platform, digest] : entries) {
      const Platform p = ParsePlatform(platform).value();
      nlohmann::json where = {{"os", p.os}, {"architecture", p.architecture}};
      if (!p.variant.empty()) where["variant"] = p.variant;
      idx["manifests"].push_back({{"mediaType", kOciManifestType}, {"digest", digest}, {"size", 1},
                                  {"platform", where}});
    }
    return AddManifest(repo, tag, idx.dump(), std::string(kOciIndexType));
  }
  std::string AddManifest(const std::string& repo, const std::string& tag, const std::string& body,
                          const std::string& type) {
    const std::string d = Sha256::Of(body);
    manifests[repo + "@" + d] = {body, type};
    if (!tag.empty()) manifests[repo + "@" + tag] = {body, type};
    return d;
  }

  TransportResult Send(const RegistryHttpRequest& r) override {
    {
      std::lock_guard<std::mutex> l(mu_);
      RegistryHttpRequest copy = r;
      copy.on_body = nullptr;
      log_.push_back(std::move(copy));
    }
    for (const std::string& a : refuse_addresses) {
      if (a == r.target.address) return TransportError{TransportError::Kind::kConnect, "refused"};
    }
    if (delay.count() > 0) {
      const auto until = std::min(std::chrono::steady_clock::now() + delay, r.deadline);
      std::this_thread::sleep_until(until);
      if (std::chrono::steady_clock::now() >= r.deadline) return TransportError{TransportError::Kind::kTimeout, "timed out"};
    }
    RegistryHttpResponse res = Route(r);
    if (res.body.size() > r.max_body) return TransportError{TransportError::Kind::kTooLarge, "too large"};
    if (r.on_body && res.status / 100 == 2) {
      for (size_t i = 0; i < res.body.size(); i += 1000) {
        if (!r.on_body(std::string_view(res.body).substr(i, 1000))) return TransportError{TransportError::Kind::kStopped, "stopped"};
      }
      res.body.clear();
    }
    return res;
  }

 private:
  static std::string HeaderOf(const RegistryHttpRequest& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
      if (n == name) return v;
    }
    return "";
  }
  static RegistryHttpResponse Status(int status, std::string body = "") {
    RegistryHttpResponse res;
    res.status = status;
    res.body = std::move(body);
    return res;
  }

  RegistryHttpResponse Route(const RegistryHttpRequest& r) {
    const std::string& h = r.target.endpoint.host;
    if (h == "auth.example") return TokenEndpoint(r);
    if (h == "storage.example") return Blob(r.path.substr(r.path.rfind('/') + 1));
    if (h != host) return Status(404);
    const std::string authz = HeaderOf(r, "Authorization");
    if (auth == Auth::kBearer && authz != "Bearer " + token) {
      RegistryHttpResponse res = Status(401, R"({"errors":[{"code":"UNAUTHORIZED"}]})");
      res.headers["www-authenticate"] = "Bearer realm=\"" + realm + "\",service=\"registry.example\",scope=\"repository:x:pull\"";
      return res;
    }
    if (auth == Auth::kBasic && authz != basic) {
      RegistryHttpResponse res = Status(401);
      res.headers["www-authenticate"] = "Basic realm=\"registry\"";
      return res;
    }
    const size_t m = r.path.find("/manifests/"), b = r.path.find("/blobs/");
    if (m != std::string::npos) return Manifest(r.path.substr(4, m - 4) + "@" + r.path.substr(m + 11));
    if (b != std::string::npos) {
      const std::string digest = r.path.substr(b + 7);
      if (!blob_redirect.empty()) {
        RegistryHttpResponse res = Status(307);
        res.headers["location"] = blob_redirect + digest;
        return res;
      }
      return Blob(digest);
    }
    return Status(404);
  }

  RegistryHttpResponse Manifest(const std::string& key) {
    auto it = manifests.find(key);
    if (it == manifests.end()) return Status(404, R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"x"}]})");
    RegistryHttpResponse res = Status(200, it->second.first);
    res.headers["content-type"] = it->second.second;
    res.headers["docker-content-digest"] = wrong_content_digest.empty() ? Sha256::Of(res.body) : wrong_content_digest;
    return res;
  }

  RegistryHttpResponse Blob(const std::string& digest) {
    auto it = blobs.find(digest);
    return it == blobs.end() ? Status(404, R"({"errors":[{"code":"BLOB_UNKNOWN"}]})") : Status(200, it->second);
  }

  RegistryHttpResponse TokenEndpoint(const RegistryHttpRequest& r) {
    if (!token_basic.empty() && HeaderOf(r, "Authorization") != token_basic && r.method != "POST") return Status(401);
    return Status(200, nlohmann::json{{"token", token}, {"expires_in", 300}}.dump());
  }

  std::mutex mu_;
  std::vector<RegistryHttpRequest> log_;
};

}  // namespace rootgate::server::testing
