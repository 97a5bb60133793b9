#include "server/registry/registry_session.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include "server/registry/www_authenticate.h"

namespace rootgate::server {

namespace {

using Kind = LookupError::Kind;
constexpr int kMaxRedirects = 3;
constexpr size_t kMaxTokenResponse = size_t{1} << 20;

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

bool SameHost(const HostPort& a, const HostPort& b) { return a.host == b.host && a.port == b.port; }

std::string Endpoint(const HostPort& hp) {
  HostPort p = hp;
  p.explicit_port = true;
  return p.String();
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += {'%', kHex[c >> 4], kHex[c & 15]};
    }
  }
  return out;
}

// A token goes into a header: printable ASCII only, so a hostile token server cannot inject.
bool UsableToken(const std::string& t) {
  if (t.empty() || t.size() > 16384) return false;
  for (unsigned char c : t) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// The registry's error code from a Distribution API error body, when it is a plain identifier.
std::string ErrorCode(const std::string& body) {
  if (body.empty() || body.size() > 65536) return "";
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("errors") || !doc["errors"].is_array() || doc["errors"].empty()) {
    return "";
  }
  const nlohmann::json& first = doc["errors"][0];
  if (!first.is_object() || !first.contains("code") || !first["code"].is_string()) return "";
  std::string code = first["code"].get<std::string>();
  if (code.empty() || code.size() > 40) return "";
  for (char c : code) {
    if (!(c == '_' || (c >= 'A' && c <= 'Z'))) return "";
  }
  return code;
}

// `registry_hop`: the exchange was with the registry itself, which messages already name.
LookupError FromTransport(const TransportError& e, const HostPort& host, const std::string& address,
                          bool registry_hop) {
  const std::string where = registry_hop ? "" : Endpoint(host) + ": ";
  switch (e.kind) {
    case TransportError::Kind::kTimeout:
      return LookupFailure(Kind::kTimeout, "timed out");
    case TransportError::Kind::kTooLarge:
      return LookupFailure(Kind::kTooLarge, e.message);
    case TransportError::Kind::kConnect:
      return LookupFailure(Kind::kNetwork, "cannot connect to " + Endpoint(host) +
                                               (address == host.host ? "" : " (" + address + ")"));
    default:
      return LookupFailure(Kind::kNetwork, where + e.message);
  }
}

}  // namespace

std::optional<std::string> TokenCache::Get(const std::string& key, SteadyTime now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tokens_.find(key);
  if (it == tokens_.end()) return std::nullopt;
  if (it->second.second <= now) {
    tokens_.erase(it);
    return std::nullopt;
  }
  return it->second.first;
}

void TokenCache::Put(const std::string& key, std::string token, SteadyTime expires) {
  std::lock_guard<std::mutex> lock(mu_);
  if (tokens_.size() >= 1024) tokens_.clear();  // bounded: many registries × scopes
  tokens_[key] = {std::move(token), expires};
}

TokenCache::KeyLock TokenCache::LockKey(const std::string& key) {
  std::shared_ptr<std::mutex> m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (fetching_.size() >= 1024) {  // bounded; mutexes still held elsewhere stay alive
      for (auto it = fetching_.begin(); it != fetching_.end();) {
        it = it->second.use_count() == 1 ? fetching_.erase(it) : std::next(it);
      }
    }
    auto& slot = fetching_[key];
    if (!slot) slot = std::make_shared<std::mutex>();
    m = slot;
  }
  KeyLock held{m, std::unique_lock<std::mutex>(*m)};
  return held;
}

size_t TokenCache::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_.size();
}

std::string Url::String() const {
  HostPort hp = host;
  hp.explicit_port = hp.explicit_port || hp.port != (tls ? 443 : 80);
  return std::string(tls ? "https://" : "http://") + hp.String() + path;
}

Result<Url> ParseUrl(std::string_view text, const Url* base) {
  for (unsigned char c : text) {
    if (c < 0x21 || c == 0x7f) return Error{"URL has spaces or control characters"};
  }
  text = text.substr(0, text.find('#'));
  if (!text.empty() && text[0] == '/' && (text.size() < 2 || text[1] != '/')) {
    if (base == nullptr) return Error{"relative URL without a base"};
    Url u = *base;
    u.path = std::string(text);
    return u;
  }
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return Error{"not an absolute http(s) URL"};
  std::string scheme(text.substr(0, sep));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "https" && scheme != "http") return Error{"scheme " + scheme + " is not http(s)"};
  Url u;
  u.tls = scheme == "https";
  std::string_view rest = text.substr(sep + 3);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) return Error{"URL carries user info"};
  auto hp = SplitHostPort(authority, u.tls ? 443 : 80);
  if (!hp) return Error{hp.error()};
  u.host = hp.value();
  u.path = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (u.path[0] == '?') u.path = "/" + u.path;
  return u;
}

LookupError StatusError(const RegistryHttpResponse& response, std::string_view what) {
  const std::string code = ErrorCode(response.body);
  const std::string status = std::to_string(response.status) + (code.empty() ? "" : " " + code);
  switch (response.status) {
    case 404:
      return LookupFailure(Kind::kNotFound, std::string(what) + " not found (" + status + ")");
    case 401:
      return LookupFailure(Kind::kUnauthorized, "unauthorized (" + status + ")");
    case 403:
      return LookupFailure(Kind::kUnauthorized, "forbidden (" + status + ")");
    case 429:
      return LookupFailure(Kind::kNetwork, "rate limited (" + status + ")");
    default:
      return LookupFailure(Kind::kNetwork, std::string(what) + " request failed (HTTP " + status + ")");
  }
}

RegistrySession::RegistrySession(const SessionDeps& deps, HostPort registry, bool insecure,
                                 std::string repository, SteadyTime deadline)
    : deps_(deps), registry_(std::move(registry)), insecure_(insecure),
      repository_(std::move(repository)), deadline_(deadline) {}

Fetched<std::vector<std::string>> RegistrySession::Addresses(const Url& url, bool registry_hop) {
  const std::string where = Endpoint(url.host);
  if (!registry_hop) {
    const std::string refusal = deps_.limits.HopRefusal(url.host);
    if (!refusal.empty()) return LookupFailure(Kind::kRefused, where + " refused: " + refusal);
    if (!url.tls && !deps_.limits.Insecure(url.host)) {
      return LookupFailure(Kind::kRefused, "plain HTTP to " + where +
                                               " refused (not in registries.insecure or --insecure-registry)");
    }
  }
  auto cached = vetted_.find(where);
  if (cached == vetted_.end()) {
    auto addresses = deps_.limits.Vet(deps_.resolver, url.host);
    if (!addresses) {
      const bool dns = addresses.error().rfind("cannot resolve", 0) == 0;
      return LookupFailure(dns ? Kind::kNetwork : Kind::kRefused, addresses.error());
    }
    cached = vetted_.emplace(where, addresses.value()).first;
  }
  return cached->second;
}

// One exchange with the URL's host: its vetted addresses tried in order while they refuse the
// connection (a name with IPv6 and IPv4 addresses, a server listening on one of them).
Fetched<RegistryHttpResponse> RegistrySession::Exchange(RegistryHttpRequest request, const Url& url,
                                                        bool registry_hop) {
  auto addresses = Addresses(url, registry_hop);
  if (!addresses.ok()) return addresses.error();
  request.path = url.path;
  request.deadline = deadline_;
  TransportError last;
  for (const std::string& address : addresses.value()) {
    request.target = HttpTarget{url.tls, url.host, address};
    ++exchanges_;
    TransportResult result = deps_.transport.Send(request);
    if (auto* response = std::get_if<RegistryHttpResponse>(&result)) return std::move(*response);
    last = std::get<TransportError>(result);
    if (last.kind != TransportError::Kind::kConnect) break;
  }
  return FromTransport(last, url.host, request.target.address, registry_hop);
}

// Sends `request` to `start` and follows redirects. `authorization` goes only to start's host.
Fetched<RegistryHttpResponse> RegistrySession::Follow(const Url& start, RegistryHttpRequest request,
                                                      const std::string& authorization,
                                                      bool* from_registry) {
  Url url = start;
  for (int hop = 0;; ++hop) {
    RegistryHttpRequest r = request;
    const bool origin = SameHost(url.host, start.host) && url.tls == start.tls;
    if (origin && !authorization.empty()) r.headers.emplace_back("Authorization", authorization);
    const bool registry_hop = SameHost(url.host, registry_) && url.tls == !insecure_;
    auto response = Exchange(std::move(r), url, registry_hop);
    if (!response.ok()) return response.error();
    const std::string location = response.value().Header("location");
    if (!IsRedirect(response.value().status) || location.empty()) {
      *from_registry = registry_hop;
      return response;
    }
    if (hop >= kMaxRedirects) {
      return LookupFailure(Kind::kRefused, "more than " + std::to_string(kMaxRedirects) + " redirects");
    }
    auto next = ParseUrl(location, &url);
    if (!next) return LookupFailure(Kind::kRefused, "bad redirect: " + next.error());
    if (start.tls && !next.value().tls && !deps_.limits.Insecure(next.value().host)) {
      return LookupFailure(Kind::kRefused, "redirect from HTTPS to plain HTTP " +
                                               Endpoint(next.value().host) + " refused");
    }
    if (response.value().status == 303) {
      request.method = "GET";
      request.body.clear();
    }
    url = next.value();
  }
}

Fetched<RegistryHttpResponse> RegistrySession::Get(const std::string& path, const std::string& accept,
                                                   size_t max_body,
                                                   const std::function<bool(std::string_view)>& on_body) {
  const Url url{!insecure_, registry_, path};
  const std::string_view what = path.find("/manifests/") != std::string::npos ? "manifest" : "blob";
  for (int attempt = 0;; ++attempt) {
    RegistryHttpRequest request;
    if (!accept.empty()) request.headers.emplace_back("Accept", accept);
    request.max_body = max_body;
    request.on_body = on_body;
    bool from_registry = false;
    auto response = Follow(url, std::move(request), authorization_, &from_registry);
    if (!response.ok()) return response.error();
    const RegistryHttpResponse& r = response.value();
    if (r.status >= 200 && r.status < 300) return response;
    if (r.status != 401 || !from_registry || attempt > 0) return StatusError(r, what);
    auto authorization = Authorize(r);
    if (!authorization.ok()) return authorization.error();
    authorization_ = authorization.value();
  }
}

Fetched<std::string> RegistrySession::Authorize(const RegistryHttpResponse& unauthorized) {
  const auto challenges = ParseWwwAuthenticate(unauthorized.Header("www-authenticate"));
  if (const AuthChallenge* bearer = FindChallenge(challenges, "bearer")) {
    const std::string realm = bearer->Param("realm");
    if (realm.empty()) return LookupFailure(Kind::kUnauthorized, "unauthorized (401): bearer challenge without a realm");
    std::string scope = bearer->Param("scope");
    if (scope.empty()) scope = "repository:" + repository_ + ":pull";
    auto token = BearerToken(realm, bearer->Param("service"), scope);
    if (!token.ok()) return token.error();
    return "Bearer " + token.value();
  }
  if (FindChallenge(challenges, "basic") != nullptr) {
    const auto cred = Credential();
    if (!cred || cred->username.empty()) {
      return LookupFailure(Kind::kUnauthorized, "authentication required (401) and no credentials for " +
                                                    registry_.String() +
                                                    (deps_.credential ? "" : " (--registry-auth)"));
    }
    return "Basic " + EncodeBase64(cred->username + ":" + cred->password);
  }
  return LookupFailure(Kind::kUnauthorized, "unauthorized (401) without a bearer or basic challenge");
}

Fetched<std::string> RegistrySession::BearerToken(const std::string& realm, const std::string& service,
                                                  const std::string& scope) {
  const auto cred = Credential();
  // Tokens got with a pull secret are kept under its keyed hash: another credential's (or an
  // anonymous) lookup never uses them.
  const std::string who = deps_.credential ? "secret:" + deps_.credential_id : cred ? "creds" : "anonymous";
  const std::string key = realm + "\n" + service + "\n" + scope + "\n" + who;
  if (auto cached = deps_.tokens.Get(key, deps_.now())) return *cached;
  // One token request per key at a time; waiting here is bounded by the other's deadline.
  const TokenCache::KeyLock one_at_a_time = deps_.tokens.LockKey(key);
  if (auto cached = deps_.tokens.Get(key, deps_.now())) return *cached;
  auto realm_url = ParseUrl(realm, nullptr);
  if (!realm_url) return LookupFailure(Kind::kRefused, "token realm: " + realm_url.error());
  return RequestToken(realm_url.value(), service, scope, cred ? &*cred : nullptr, key);
}

std::optional<RegistryCredential> RegistrySession::Credential() const {
  if (deps_.credential) return *deps_.credential;
  return deps_.credentials ? deps_.credentials->For(registry_.String()) : std::nullopt;
}

Fetched<std::string> RegistrySession::RequestToken(Url url, const std::string& service,
                                                   const std::string& scope,
                                                   const RegistryCredential* cred,
                                                   const std::string& cache_key) {
  RegistryHttpRequest request;
  request.max_body = kMaxTokenResponse;
  std::string authorization;
  const std::string params = (service.empty() ? "" : "service=" + PercentEncode(service) + "&") +
                             "scope=" + PercentEncode(scope);
  if (cred != nullptr && !cred->identity_token.empty()) {  // OAuth2 refresh-token grant
    request.method = "POST";
    request.content_type = "application/x-www-form-urlencoded";
    request.body = "grant_type=refresh_token&client_id=rootgate&" + params +
                   "&refresh_token=" + PercentEncode(cred->identity_token);
  } else {
    url.path += (url.path.find('?') == std::string::npos ? "?" : "&") + params;
    if (cred != nullptr && !cred->username.empty()) {
      authorization = "Basic " + EncodeBase64(cred->username + ":" + cred->password);
    }
  }
  bool from_registry = false;
  auto response = Follow(url, std::move(request), authorization, &from_registry);
  if (!response.ok()) return LookupFailure(response.error().kind, "token: " + response.error().message);
  const RegistryHttpResponse& r = response.value();
  if (r.status == 401 || r.status == 403) {
    return LookupFailure(Kind::kUnauthorized, "token server refused " +
                                                  std::string(cred ? "the credentials" : "anonymous access") +
                                                  " (" + std::to_string(r.status) + ")");
  }
  if (r.status != 200) return StatusError(r, "token");
  const nlohmann::json doc = nlohmann::json::parse(r.body, nullptr, false);
  std::string token;
  for (const char* field : {"token", "access_token"}) {
    if (token.empty() && doc.is_object() && doc.contains(field) && doc[field].is_string()) {
      token = doc[field].get<std::string>();
    }
  }
  if (!UsableToken(token)) return LookupFailure(Kind::kInvalid, "token server sent no usable token");
  int64_t expires_in = 60;  // the token spec's default
  if (doc.contains("expires_in") && doc["expires_in"].is_number_integer() && doc["expires_in"].get<int64_t>() > 0) {
    expires_in = std::min<int64_t>(doc["expires_in"].get<int64_t>(), 86400);
  }
  const auto life = std::chrono::seconds(expires_in - std::min<int64_t>(10, expires_in / 10));
  deps_.tokens.Put(cache_key, token, deps_.now() + life);
  return token;
}

}  // namespace rootgate::server
