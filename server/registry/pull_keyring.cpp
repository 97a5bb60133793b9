#include "server/registry/pull_keyring.h"

#include <fnmatch.h>

#include <array>
#include <cstdio>
#include <mutex>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace rootgate::server {

namespace {

// The per-process HMAC key: random, never written anywhere.
const std::array<unsigned char, 32>& ProcessKey() {
  static const std::array<unsigned char, 32> key = [] {
    std::array<unsigned char, 32> k{};
    if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) {
      // Without randomness the ids would be a plain hash an attacker could precompute.
      throw std::runtime_error("no randomness for the credential cache key");
    }
    return k;
  }();
  return key;
}

void AppendField(std::string* out, const std::string& field) {
  const uint64_t n = field.size();
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((n >> (8 * i)) & 0xFF));
  *out += field;
}

struct SplitUrl {
  std::string host, port, path;
};

// url.Parse("https://" + s) the way the keyring uses it: host[:port], then the path.
SplitUrl Split(std::string_view s) {
  SplitUrl u;
  const size_t slash = s.find('/');
  std::string_view hostport = s.substr(0, slash);
  u.path = slash == std::string_view::npos ? "" : std::string(s.substr(slash));
  if (size_t q = u.path.find_first_of("?#"); q != std::string::npos) u.path.resize(q);
  const size_t colon = hostport.rfind(':');
  if (colon != std::string_view::npos && hostport.find(']') == std::string_view::npos) {
    u.host = std::string(hostport.substr(0, colon));
    u.port = std::string(hostport.substr(colon + 1));
  } else {
    u.host = std::string(hostport);
  }
  return u;
}

std::vector<std::string> Labels(const std::string& host) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = host.find('.', start);
    parts.push_back(host.substr(start, dot - start));
    if (dot == std::string::npos) return parts;
    start = dot + 1;
  }
}

// The kubelet's isDefaultRegistryMatch: an image on Docker Hub.
bool IsDockerHub(std::string_view repository) {
  const size_t slash = repository.find('/');
  if (slash == 0) return false;
  if (slash == std::string_view::npos) return true;
  const std::string_view first = repository.substr(0, slash);
  if (first == "docker.io" || first == "index.docker.io") return true;
  return first.find_first_of(".:") == std::string_view::npos;
}

}  // namespace

std::string CredentialId(const RegistryCredential& credential) {
  std::string message;
  AppendField(&message, credential.username);
  AppendField(&message, credential.password);
  AppendField(&message, credential.identity_token);
  const auto& key = ProcessKey();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  std::string hex;
  char buf[3];
  for (unsigned int i = 0; i < len; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", mac[i]);
    hex += buf;
  }
  return hex;
}

bool KeyringKeyMatches(std::string_view glob, std::string_view target) {
  const SplitUrl g = Split(glob), t = Split(target);
  if (g.port != t.port) return false;
  const std::vector<std::string> gl = Labels(g.host), tl = Labels(t.host);
  if (gl.size() != tl.size()) return false;
  if (t.path.compare(0, g.path.size(), g.path) != 0) return false;  // strings.HasPrefix
  for (size_t i = 0; i < gl.size(); ++i) {
    if (fnmatch(gl[i].c_str(), tl[i].c_str(), 0) != 0) return false;
  }
  return true;
}

std::string KeyringKey(std::string_view config_key) {
  std::string_view s = config_key;
  if (s.rfind("https://", 0) == 0) {
    s.remove_prefix(8);
  } else if (s.rfind("http://", 0) == 0) {
    s.remove_prefix(7);
  }
  const SplitUrl u = Split(s);
  if (u.host.empty()) return "";
  std::string path = u.path;
  if (path.rfind("/v2/", 0) == 0 || path.rfind("/v1/", 0) == 0) path = path.substr(3);
  const std::string host = u.port.empty() ? u.host : u.host + ":" + u.port;
  return !path.empty() && path != "/" ? host + path : host;
}

void PullKeyring::Add(const RegistryCredentials& config, const std::string& origin) {
  for (const auto& [raw_key, cred] : config.raw_entries()) {
    const std::string key = KeyringKey(raw_key);
    if (key.empty()) continue;
    creds_[key].push_back(PullCredential{cred, origin, CredentialId(cred)});
  }
}

std::vector<PullCredential> PullKeyring::Lookup(std::string_view repository) const {
  std::vector<PullCredential> out;
  for (auto it = creds_.rbegin(); it != creds_.rend(); ++it) {  // most specific key first
    if (KeyringKeyMatches(it->first, repository)) out.insert(out.end(), it->second.begin(), it->second.end());
  }
  if (out.empty() && IsDockerHub(repository)) {
    if (auto it = creds_.find("index.docker.io"); it != creds_.end()) return it->second;
  }
  return out;
}

std::string PullKeyring::Fingerprint() const {
  std::string f;
  for (const auto& [key, creds] : creds_) {
    f += key + "\n";
    for (const PullCredential& c : creds) f += c.id + " " + c.origin + "\n";
  }
  for (const std::string& p : problems_) f += "!" + p + "\n";
  return f;
}

std::string PullKeyring::ProblemText() const {
  std::string s;
  for (const std::string& p : problems_) s += (s.empty() ? "" : "; ") + p;
  return s;
}

}  // namespace rootgate::server
