// The HTTP side of one image lookup against one registry host: authentication (anonymous or
// credentialed bearer tokens from the WWW-Authenticate challenge, or basic auth), redirects
// followed by hand (at most 3 hops, each re-checked against RegistryLimits; credentials never
// follow a redirect to another host), and status codes turned into LookupErrors.
// A RegistrySession is used by one thread for one lookup; the TokenCache it shares is
// thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/registry/docker_config.h"
#include "server/registry/registry_error.h"
#include "server/registry/registry_limits.h"
#include "server/registry/registry_transport.h"

namespace rootgate::server {

// Bearer tokens by (realm, service, scope), kept until they expire. Thread-safe.
class TokenCache {
 public:
  std::optional<std::string> Get(const std::string& key, SteadyTime now);
  void Put(const std::string& key, std::string token, SteadyTime expires);
  size_t size();
  // A lock per key, held while a token is fetched, so concurrent lookups that need the same
  // token make one token request (the others then find it cached).
  struct KeyLock {
    std::shared_ptr<std::mutex> mutex;  // declared first: outlives `lock`
    std::unique_lock<std::mutex> lock;
  };
  KeyLock LockKey(const std::string& key);

 private:
  std::mutex mu_;
  std::map<std::string, std::pair<std::string, SteadyTime>> tokens_;
  std::map<std::string, std::shared_ptr<std::mutex>> fetching_;
};

// What a session needs from the process; all outlive it.
struct SessionDeps {
  RegistryTransport& transport;
  const HostResolver& resolver;
  const RegistryLimits& limits;
  const RegistryCredentials* credentials;  // nullptr: anonymous only
  TokenCache& tokens;
  std::function<SteadyTime()> now;
  // A pull secret's credential: used instead of `credentials`, its tokens cached under
  // `credential_id` (CredentialId) so no other credential's lookup can use them.
  const RegistryCredential* credential = nullptr;
  std::string credential_id;
};

// A URL split the way the session needs it.
struct Url {
  bool tls = true;
  HostPort host;
  std::string path;  // path and query, "/" at least

  std::string String() const;
};

// Parses an absolute http(s) URL, or a path relative to `base` ("/v2/..."). Refuses user info,
// other schemes and malformed hosts.
Result<Url> ParseUrl(std::string_view text, const Url* base);

class RegistrySession {
 public:
  // `registry`: the host[:port] to talk to (already allowed by the caller); `insecure`: plain
  // HTTP; `repository`: for the default token scope.
  RegistrySession(const SessionDeps& deps, HostPort registry, bool insecure, std::string repository,
                  SteadyTime deadline);

  // GETs `path` on the registry: a 2xx response, or why not. `on_body` streams the body as in
  // RegistryHttpRequest (its early stop is not an error); `max_body` caps it.
  Fetched<RegistryHttpResponse> Get(const std::string& path, const std::string& accept,
                                    size_t max_body,
                                    const std::function<bool(std::string_view)>& on_body = {});

  // How many exchanges went to the network (for tests and metrics).
  int exchanges() const { return exchanges_; }

 private:
  // The vetted addresses of the URL's host, in the order to try them.
  Fetched<std::vector<std::string>> Addresses(const Url& url, bool registry_hop);
  Fetched<RegistryHttpResponse> Exchange(RegistryHttpRequest request, const Url& url, bool first_hop);
  Fetched<RegistryHttpResponse> Follow(const Url& start, RegistryHttpRequest request,
                                       const std::string& authorization, bool* from_registry);
  Fetched<std::string> Authorize(const RegistryHttpResponse& unauthorized);
  Fetched<std::string> BearerToken(const std::string& realm, const std::string& service,
                                   const std::string& scope);
  // The credential for this registry: the pull secret's, else --registry-auth's entry.
  std::optional<RegistryCredential> Credential() const;
  Fetched<std::string> RequestToken(Url realm, const std::string& service, const std::string& scope,
                                    const RegistryCredential* cred, const std::string& cache_key);

  SessionDeps deps_;
  HostPort registry_;
  bool insecure_;
  std::string repository_;
  SteadyTime deadline_;
  std::string authorization_;                 // the registry's Authorization header value
  std::map<std::string, std::vector<std::string>> vetted_;  // host:port → its vetted addresses
  int exchanges_ = 0;
};

// The message part for a registry status: "manifest unknown (404)", "unauthorized (401)".
LookupError StatusError(const RegistryHttpResponse& response, std::string_view what);

}  // namespace rootgate::server
