#include "policy/image_ref.h"

#include <cctype>
#include <vector>

namespace rootgate::policy {

namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// path-component := alnum+ (separator alnum+)*, separator := [_.] | "__" | "-"+
bool ValidPathComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  size_t i = 0;
  while (i < c.size()) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < c.size() && !IsLowerAlnum(c[i])) ++i;
    std::string_view sep = c.substr(start, i - start);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
  }
  return true;
}

// domain := host [":" port]; host is dot-separated labels of [A-Za-z0-9-] or a bracketed IPv6.
bool ValidDomain(std::string_view d) {
  if (d.empty()) return false;
  std::string_view host = d;
  if (d.front() == '[') {
    size_t close = d.find(']');
    if (close == std::string_view::npos) return false;
    host = d.substr(1, close - 1);
    std::string_view rest = d.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || rest.size() == 1)) return false;
    for (char ch : rest.substr(rest.empty() ? 0 : 1)) {
      if (!std::isdigit(static_cast<unsigned char>(ch))) return false;
    }
    for (char ch : host) {
      if (!std::isxdigit(static_cast<unsigned char>(ch)) && ch != ':' && ch != '.') return false;
    }
    return !host.empty();
  }
  size_t colon = d.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view port = d.substr(colon + 1);
    if (port.empty()) return false;
    for (char ch : port) {
      if (!std::isdigit(static_cast<unsigned char>(ch))) return false;
    }
    host = d.substr(0, colon);
  }
  if (host.empty() || host.front() == '.' || host.back() == '.') return false;
  for (char ch : host) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.') return false;
  }
  return true;
}

// tag := [\w][\w.-]{0,127}
bool ValidTag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t[0])) return false;
  for (char c : t) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

// digest := algorithm ":" encoded; sha256/sha384/sha512 need exactly 64/96/128 lower-case hex
// characters.
bool ValidDigest(std::string_view d, std::string* why) {
  size_t colon = d.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == d.size()) {
    *why = "digest must be algorithm:hex";
    return false;
  }
  std::string_view algo = d.substr(0, colon), hex = d.substr(colon + 1);
  for (char c : hex) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!ok) {
      *why = "digest must be lower-case hex";
      return false;
    }
  }
  // The algorithms opencontainers/go-digest knows, with their hex lengths.
  size_t want = algo == "sha256" ? 64 : algo == "sha384" ? 96 : algo == "sha512" ? 128 : 0;
  if (want == 0) {
    *why = "unsupported digest algorithm \"" + std::string(algo) + "\"";
    return false;
  }
  if (hex.size() != want) {
    *why = std::string(algo) + " digest must have " + std::to_string(want) + " hex characters";
    return false;
  }
  return true;
}

Error Invalid(std::string_view reference, const std::string& why) {
  return Error{"invalid image reference \"" + std::string(reference) + "\": " + why};
}

}  // namespace

std::string ImageRef::String() const {
  std::string s = registry + "/" + repository;
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string ImageRef::ApiHost() const {
  return registry == "docker.io" ? "registry-1.docker.io" : registry;
}

Result<ImageRef> ParseImageRef(std::string_view reference) {
  if (reference.empty()) return Invalid(reference, "empty");
  // A bare 64-hex string is an image ID, never a name (ParseNormalizedNamed refuses it).
  if (reference.size() == 64 &&
      reference.find_first_not_of("0123456789abcdef") == std::string_view::npos) {
    return Invalid(reference, "a 64-character hex string is an image ID, not a repository name");
  }
  ImageRef ref;
  std::string_view rest = reference;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    std::string why;
    if (!ValidDigest(rest.substr(at + 1), &why)) return Invalid(reference, why);
    ref.digest = std::string(rest.substr(at + 1));
    rest = rest.substr(0, at);
  }
  // A ':' after the last '/' starts the tag; one before it belongs to a registry port.
  size_t last_slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (last_slash == std::string_view::npos || colon > last_slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (!ValidTag(tag)) return Invalid(reference, "invalid tag \"" + std::string(tag) + "\"");
    ref.tag = std::string(tag);
    rest = rest.substr(0, colon);
  }
  std::string_view name = rest;
  size_t slash = name.find('/');
  std::string_view first = name.substr(0, slash);
  bool has_domain = slash != std::string_view::npos &&
                    (first == "localhost" || first.find_first_of(".:") != std::string_view::npos ||
                     first.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos);
  std::string_view path = name;
  if (has_domain) {
    if (!ValidDomain(first)) return Invalid(reference, "invalid registry host \"" + std::string(first) + "\"");
    ref.registry = std::string(first);
    path = name.substr(slash + 1);
  } else {
    ref.registry = "docker.io";
  }
  if (ref.registry == "index.docker.io") ref.registry = "docker.io";
  if (path.empty()) return Invalid(reference, "missing repository name");
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view component = path.substr(start, end == std::string_view::npos ? end : end - start);
    if (!ValidPathComponent(component)) {
      return Invalid(reference, "invalid repository path component \"" + std::string(component) +
                                    "\" (lower-case letters, digits and separators only)");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  ref.repository = std::string(path);
  if (ref.registry == "docker.io" && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.registry.size() + 1 + ref.repository.size() > 255) {
    return Invalid(reference, "repository name longer than 255 characters");
  }
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace rootgate::policy
