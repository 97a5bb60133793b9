// A pod's pull secrets, read from the Kubernetes API as the kubelet would use them, for
// `rootgate serve --kube-api` and `check`/`audit --resolve-images` with cluster access.
//
// Which secrets: those named in the pod spec's `imagePullSecrets`; when it names none, those of
// its service account (`serviceAccountName`, `default` when unset) — the ServiceAccount
// admission plugin copies the account's list into a pod only when the pod has none, and the
// kubelet reads the pod's list alone. Secret types `kubernetes.io/dockerconfigjson` (data key
// `.dockerconfigjson`, the `auths` map) and `kubernetes.io/dockercfg` (`.dockercfg`).
//
// Cache: each Secret and ServiceAccount is read once per `ttl` (30 s) per namespace, a NotFound
// or other failure once per `failure_ttl` (10 s); concurrent readers of one object wait for one
// GET. A secret that is missing, of another type or malformed is a problem of the keyring (named
// in the verdict when the image then cannot be read) and one warning log line per read, naming
// the secret and what is wrong, never its content. Only `get` is used (RBAC: get on secrets and
// serviceaccounts). Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/result.h"
#include "server/kube/kube_client.h"
#include "server/registry/pull_keyring.h"
#include "server/util/clock.h"

namespace rootgate::server::kube {

struct PullSecretOptions {
  std::chrono::nanoseconds ttl = std::chrono::seconds(30);
  std::chrono::nanoseconds failure_ttl = std::chrono::seconds(10);
  bool log = true;  // a warning line per unusable object read (off for the CLI, whose verdicts say it)
};

// The Docker config in a Secret object, or why it cannot be used, as
// `imagePullSecrets "NAME" in namespace "NS": ...`. Never quotes the secret's data.
Result<RegistryCredentials> PullSecretConfig(const nlohmann::json& secret, const std::string& namespace_name,
                                             const std::string& name);

// The secret names a pod spec gives directly (`imagePullSecrets[].name`, in order, empty names
// skipped) and its service account (`serviceAccountName`, else the deprecated
// `serviceAccount`, else "default").
std::vector<std::string> PodPullSecretNames(const nlohmann::json& pod_spec);
std::string PodServiceAccount(const nlohmann::json& pod_spec);

class PullSecretStore final : public PullKeyringSource {
 public:
  // `client` must outlive the store.
  PullSecretStore(KubeClient& client, const Clock& clock, PullSecretOptions options = {});

  PullKeyring For(const std::string& namespace_name, const nlohmann::json& pod_spec) override;

  // API GETs made so far (tests, benchmarks).
  size_t gets() const;

 private:
  struct Entry {
    Clock::TimePoint expires;
    std::optional<RegistryCredentials> config;  // a usable secret
    std::vector<std::string> names;              // a service account's imagePullSecrets
    std::string problem;                         // why not (no credentials in it)
  };
  using EntryPtr = std::shared_ptr<const Entry>;

  // The cached entry for (kind, namespace, name), read from the API when missing or stale.
  EntryPtr Lookup(bool secret, const std::string& namespace_name, const std::string& name);
  EntryPtr Read(bool secret, const std::string& namespace_name, const std::string& name);

  KubeClient& client_;
  const Clock& clock_;
  PullSecretOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, EntryPtr> entries_;
  std::map<std::string, std::shared_ptr<std::mutex>> reading_;  // one GET per object at a time
  size_t gets_ = 0;
};

}  // namespace rootgate::server::kube
