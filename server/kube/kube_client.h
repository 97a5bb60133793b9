// The Kubernetes API client: authenticated requests with retries and timeouts, API Status
// errors turned into messages, and the calls rootgate makes (one page of a LIST streamed item
// by item, GET, server-side apply, DELETE, and for Leases: POST to create, PUT to update).
// Paging over a whole list is in kube_list.h.
//
// Retries: 429 and 500/502/503/504 (and connection failures) are retried with exponential
// backoff (250 ms doubling, at most 8 s, at most `max_retries` times), waiting Retry-After
// seconds instead when the server sends it, never past the call's deadline. Create and Update
// are not idempotent, so they are retried only when the request cannot have been acted on
// (429, or no connection made); a 409 Conflict is returned at once, never retried.
// An optional token bucket (`rate_limit`) spaces requests out, and an optional `cancelled`
// check ends a call (before each attempt and each wait) with an error of status 0. A 401 makes the
// credential source re-read its token file or re-run its exec plugin, and the call is sent once
// more. Every call has a deadline (`timeout`, sleeps included).
//
// Errors: the API server's own Status message and code, prefixed with what was refused:
// `list deployments.apps in namespace "team-a": Forbidden (403): <Status.message>`.
// Thread-safe: one client may serve many threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "server/kube/credentials.h"
#include "server/kube/kube_transport.h"
#include "server/util/token_bucket.h"

namespace rootgate::server::kube {

// A resource type: "apps", "v1", "deployments", "Deployment".
struct ApiResource {
  std::string group, version, plural, kind;
  bool namespaced = true;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  // "deployments.apps", "pods": how kubectl names it.
  std::string Name() const { return group.empty() ? plural : plural + "." + group; }
  // The collection path: /api/v1/pods, /apis/apps/v1/namespaces/NS/deployments ("" ns: all).
  std::string Path(const std::string& ns) const;
};

struct KubeError {
  int status = 0;       // the HTTP status; 0 when no response came (transport, bad body)
  std::string reason;   // Status.reason ("Forbidden", "Expired", "NotFound"), may be empty
  std::string message;  // the whole message, naming the action; never holds credentials
};

// A value or a KubeError.
template <typename T>
struct KubeResult {
  T value{};
  std::optional<KubeError> error;
  bool ok() const { return !error.has_value(); }
};

struct KubeClientOptions {
  std::chrono::milliseconds timeout{60000};  // per call, retries included
  int max_retries = 5;
  // How retries and the rate limit wait; tests pass a fake. Default: std::this_thread::sleep_for.
  std::function<void(std::chrono::milliseconds)> sleep;
  // Client-side rate limit shared by every call of this client (nullptr: none). Each HTTP
  // exchange, retries included, takes one token, waiting (through `sleep`) when none is left.
  std::shared_ptr<TokenBucket> rate_limit;
  // True: stop now. Checked before each attempt and after each wait; a cancelled call returns
  // an error "...: cancelled" with status 0. Unset: never cancelled.
  std::function<bool()> cancelled;
};

// One page of a LIST.
struct ListPage {
  std::string continue_token;     // "" on the last page
  std::string resource_version;
  size_t items = 0;
  std::optional<int64_t> remaining;  // metadata.remainingItemCount when the server sent it
};

struct RequestStats {
  size_t requests = 0;  // HTTP exchanges made, retries included
  size_t retries = 0;
};

class KubeClient {
 public:
  KubeClient(ClientConfig config, std::unique_ptr<KubeTransport> transport,
             std::unique_ptr<CredentialSource> credentials, KubeClientOptions options = {});

  // The client for a resolved config: the HTTPS transport and its credential source (exec
  // plugins as processes). Fails on a bad server URL or CA.
  static Result<std::unique_ptr<KubeClient>> Create(const ClientConfig& config,
                                                    KubeClientOptions options = {});

  const ClientConfig& config() const { return config_; }

  // One page: GET the collection with limit and continue; each item is handed to `on_item`
  // as soon as it is parsed (the page's other items are not kept). A 410 comes back as an
  // error with status 410.
  KubeResult<ListPage> List(const ApiResource& resource, const std::string& ns, size_t limit,
                            const std::string& continue_token,
                            const std::function<void(nlohmann::json&&)>& on_item);

  // GET `path`; `action` names it in errors ("get policyreports in namespace \"a\"").
  KubeResult<nlohmann::json> Get(const std::string& path, const std::string& action);

  // Server-side apply of `object` at `path` (the object's own URL) with field manager
  // `manager`, forcing conflicts (the object is rootgate's own).
  KubeResult<nlohmann::json> Apply(const std::string& path, const nlohmann::json& object,
                                   const std::string& manager, const std::string& action);

  // DELETE `path`; a 404 counts as done.
  KubeResult<bool> Delete(const std::string& path, const std::string& action);

  // POST `object` to the collection at `collection_path` (create). A 409 (AlreadyExists) comes
  // back as an error with status 409. Retried only on 429 or when no connection was made.
  KubeResult<nlohmann::json> Create(const std::string& collection_path, const nlohmann::json& object,
                                    const std::string& action);

  // PUT `object` at `path` (replace). With metadata.resourceVersion set this is optimistic
  // concurrency: a 409 (Conflict) means the object changed since it was read, and comes back as
  // an error with status 409. Retried only on 429 or when no connection was made.
  KubeResult<nlohmann::json> Update(const std::string& path, const nlohmann::json& object,
                                    const std::string& action);

  RequestStats stats() const;

 private:
  struct Call {
    std::string method, path, body, content_type, action;
    bool idempotent = true;  // false: retry only what cannot have been acted on
  };
  KubeResult<KubeHttpResponse> Send(const Call& call);
  KubeError StatusError(const KubeHttpResponse& res, const std::string& action) const;

  ClientConfig config_;
  std::unique_ptr<KubeTransport> transport_;
  std::unique_ptr<CredentialSource> credentials_;
  KubeClientOptions options_;
  mutable std::mutex mu_;
  RequestStats stats_;
};

// "in namespace \"a\"" or "in all namespaces" (for cluster-scoped resources: "").
std::string NamespacePhrase(const ApiResource& resource, const std::string& ns);

}  // namespace rootgate::server::kube
