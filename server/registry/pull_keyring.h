// The credentials the kubelet would try for an image, in its order, and an interface that
// gives them for a pod (implemented in server/kube/ with the pod's imagePullSecrets).
//
// The order is that of the kubelet v1.32 (pkg/credentialprovider: BasicDockerKeyring,
// UnionDockerKeyring; pkg/credentialprovider/secrets.MakeDockerKeyring): every pull secret's
// entries go into one keyring whose keys are the config.json keys without scheme and without a
// leading /v1/ or /v2/; a lookup walks the keys in reverse byte order (so "quay.io/team" comes
// before "quay.io") and returns, for each key that matches the image (same port, same number of
// host labels, each label a glob match, the key's path a prefix of the image's path), its
// credentials in the order the secrets were added. When nothing matches and the image is on
// Docker Hub, the "index.docker.io" entries are used. The node-level credentials (rootgate's
// --registry-auth) follow; anonymous access only when no credential matches at all.
//
// Credentials stay in memory: origins name secrets, never values. CredentialId gives the keyed
// hash under which results obtained with a credential are cached (see SECURITY.md).
// PullKeyring is a value: thread-compatible. PullKeyringSource implementations are thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/registry/docker_config.h"

namespace rootgate::server {

// One credential to try, where it came from, and its keyed hash.
struct PullCredential {
  RegistryCredential credential;
  std::string origin;  // `imagePullSecrets "regcred"`: for messages and logs, never the value
  std::string id;      // CredentialId(credential)
};

// HMAC-SHA256 of the credential (user, password, identity token) under a random key drawn once
// per process, in hex. Equal credentials give equal ids within one process; without the key an
// id says nothing about the credential, and ids do not survive a restart.
std::string CredentialId(const RegistryCredential& credential);

// The kubelet's URLsMatchStr: does keyring key `glob` ("*.example.com:5000/team") match the
// image repository `target` ("registry.example.com:5000/team/app")?
bool KeyringKeyMatches(std::string_view glob, std::string_view target);

// The keyring key of a config.json key, as the kubelet's Add makes it: "https://index.docker.io/v1/"
// → "index.docker.io", "http://r.example/v2/team" → "r.example/team"; "" when it cannot be used.
std::string KeyringKey(std::string_view config_key);

class PullKeyring {
 public:
  // Adds one secret's Docker config; `origin` names the secret in messages.
  void Add(const RegistryCredentials& config, const std::string& origin);
  // A secret that could not be used (missing, wrong type, malformed): named in the reason when
  // the image then cannot be read. Never holds secret content.
  void AddProblem(std::string problem) { problems_.push_back(std::move(problem)); }

  // The credentials for `repository` (the image name without tag or digest, registry
  // included: "docker.io/library/nginx", "localhost:5000/team/app"), in the kubelet's order.
  std::vector<PullCredential> Lookup(std::string_view repository) const;

  const std::vector<std::string>& problems() const { return problems_; }
  // The problems as one phrase for a reason: "imagePullSecrets \"x\" in namespace \"a\" not found; ...".
  std::string ProblemText() const;
  bool empty() const { return creds_.empty() && problems_.empty(); }
  // Equal for keyrings that give every image the same credentials and problems (keys, credential
  // ids, origins, problems): pods with equal fingerprints can share one lookup. No credentials in it.
  std::string Fingerprint() const;

 private:
  std::map<std::string, std::vector<PullCredential>> creds_;  // keyring key → credentials, in Add order
  std::vector<std::string> problems_;
};

// The keyring of a pod: its pull secrets as the kubelet would use them.
class PullKeyringSource {
 public:
  virtual ~PullKeyringSource() = default;
  // The keyring for the pod spec `pod_spec` of an object in namespace `namespace_name`. Never
  // fails: what could not be read is in PullKeyring::problems(). May block on the Kubernetes
  // API, each call bounded by the source's own timeout. Thread-safe.
  virtual PullKeyring For(const std::string& namespace_name, const nlohmann::json& pod_spec) = 0;
};

}  // namespace rootgate::server
