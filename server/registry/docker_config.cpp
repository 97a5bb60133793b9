#include "server/registry/docker_config.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "policy/policy.h"
#include "server/util/files.h"

namespace rootgate::server {

using nlohmann::json;

namespace {

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<RegistryCredential> ReadEntry(const std::string& key, const json& entry) {
  const std::string where = "auths[\"" + key + "\"]";
  if (!entry.is_object()) return Error{where + ": expected an object"};
  RegistryCredential cred;
  cred.username = StringField(entry, "username");
  cred.password = StringField(entry, "password");
  cred.identity_token = StringField(entry, "identitytoken");
  const std::string auth = StringField(entry, "auth");
  if (!auth.empty()) {
    std::optional<std::string> decoded = DecodeBase64(auth);
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return Error{where + ".auth: expected base64 of \"user:password\""};
    }
    cred.username = decoded->substr(0, colon);
    cred.password = decoded->substr(colon + 1);
  }
  return cred;
}

}  // namespace

std::optional<std::string> DecodeBase64(std::string_view text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    int v = Base64Value(text[i]);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  for (; i < text.size(); ++i) {
    if (text[i] != '=') return std::nullopt;
  }
  return out;
}

std::string EncodeBase64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) | static_cast<unsigned char>(bytes[i + 2]);
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(v >> shift) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string NormaliseRegistryKey(std::string_view key) {
  if (size_t scheme = key.find("://"); scheme != std::string_view::npos) key.remove_prefix(scheme + 3);
  key = key.substr(0, key.find('/'));
  std::string host(key);
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (host == "index.docker.io" || host == "registry-1.docker.io") return "docker.io";
  return host;
}

Result<RegistryCredentials> RegistryCredentials::Parse(std::string_view json_text) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    // Not e.what(): it quotes the text around the error, which may be a secret.
    return Error{"not valid JSON (at byte " + std::to_string(e.byte) + ")"};
  } catch (const json::exception&) {
    return Error{"not valid JSON"};
  }
  if (!doc.is_object()) return Error{"expected a JSON object"};
  const json* auths = &doc;
  if (auto it = doc.find("auths"); it != doc.end()) {
    if (!it->is_object()) return Error{"auths: expected an object"};
    auths = &*it;
  }
  RegistryCredentials creds;
  for (const auto& [key, entry] : auths->items()) {
    if (auths == &doc && !entry.is_object()) continue;  // credsStore, HttpHeaders, ...
    auto cred = ReadEntry(key, entry);
    if (!cred) return Error{cred.error()};
    creds.raw_.emplace_back(key, cred.value());
    creds.entries_.emplace_back(NormaliseRegistryKey(key), std::move(cred).value());
  }
  return creds;
}

Result<RegistryCredentials> RegistryCredentials::Load(const std::string& path) {
  auto text = ReadInput(path);
  if (!text) return Error{"registry auth " + path + ": " + text.error()};
  auto parsed = Parse(text.value());
  if (!parsed) return Error{"registry auth " + path + ": " + parsed.error()};
  return parsed;
}

std::optional<RegistryCredential> RegistryCredentials::For(std::string_view host) const {
  const std::string want = NormaliseRegistryKey(host);
  for (const auto& [key, cred] : entries_) {
    if (key == want) return cred;
  }
  const std::string bare = want.substr(0, want.rfind(':') == std::string::npos ? want.size()
                                                                              : want.rfind(':'));
  for (const auto& [key, cred] : entries_) {
    if (key.find('*') == std::string::npos) continue;
    if (policy::GlobMatch(key, want) || policy::GlobMatch(key, bare)) return cred;
  }
  return std::nullopt;
}

}  // namespace rootgate::server
