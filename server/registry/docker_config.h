// Registry credentials from a Docker config.json — the content of a
// kubernetes.io/dockerconfigjson Secret (`{"auths": {...}}`) or of the older
// kubernetes.io/dockercfg (the `auths` map alone). Each entry gives `auth` (base64 of
// "user:password"), or `username` and `password`, and optionally `identitytoken` (an OAuth2
// refresh token). Credentials stay in memory: nothing here prints them, and error messages name
// the entry, never a value. Immutable after parsing; thread-safe for concurrent reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/result.h"

namespace rootgate::server {

struct RegistryCredential {
  std::string username;
  std::string password;
  std::string identity_token;  // when set, exchanged for a bearer token (OAuth2 refresh)
};

class RegistryCredentials {
 public:
  RegistryCredentials() = default;

  // Parses config.json text. Fails on invalid JSON, a non-object `auths`, or an entry whose
  // `auth` is not base64 of "user:password" (naming the entry's key).
  static Result<RegistryCredentials> Parse(std::string_view json_text);
  // Reads and parses a file. The error names the file.
  static Result<RegistryCredentials> Load(const std::string& path);

  // The credential for a registry host[:port] ("ghcr.io", "localhost:5000"). docker.io,
  // index.docker.io and registry-1.docker.io are one registry. Keys may be URLs
  // ("https://index.docker.io/v1/") or host globs ("*.example.com"); an exact key wins.
  std::optional<RegistryCredential> For(std::string_view host) const;

  size_t size() const { return entries_.size(); }

  // Every entry with its key as written in the file ("https://index.docker.io/v1/"), in file
  // order: what the kubelet's keyring (pull_keyring.h) matches images against.
  const std::vector<std::pair<std::string, RegistryCredential>>& raw_entries() const { return raw_; }

 private:
  std::vector<std::pair<std::string, RegistryCredential>> entries_;  // normalised key → cred
  std::vector<std::pair<std::string, RegistryCredential>> raw_;      // key as written → cred
};

// The key under which config.json files name a registry host: scheme and path dropped, lower
// case, and Docker Hub's names folded to "docker.io".
std::string NormaliseRegistryKey(std::string_view key);

// Standard base64 (RFC 4648, padding optional). nullopt on any other character.
std::optional<std::string> DecodeBase64(std::string_view text);
// Standard base64 with padding.
std::string EncodeBase64(std::string_view bytes);

}  // namespace rootgate::server
