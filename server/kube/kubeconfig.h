// Kubeconfig as kubectl reads it (k8s.io/client-go/tools/clientcmd): which files, how several
// files merge, which context, and the resolved settings of one cluster and user; and the
// in-cluster configuration of a pod (service-account token, CA, KUBERNETES_SERVICE_HOST/PORT).
// Parsers take text (tests feed strings); the loaders read files. Pure data out, no network.
// Thread-safe: no shared state. Every failure is an error value naming the file and the entry.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/result.h"

namespace rootgate::server::kube {

// users[].user.exec: a client.authentication.k8s.io credential plugin.
struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;      // relative paths resolved against the kubeconfig's folder when they hold a '/'
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string install_hint;
  bool provide_cluster_info = false;
};

struct KubeCluster {
  std::string server;
  std::string certificate_authority;       // a file (absolute after loading)
  std::string certificate_authority_data;  // PEM (already base64-decoded)
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string proxy_url;
};

struct KubeUser {
  std::string client_certificate, client_key;            // files
  std::string client_certificate_data, client_key_data;  // PEM
  std::string token, token_file;
  std::string username, password;  // basic auth: refused (removed from the API server in 1.19)
  std::optional<ExecConfig> exec;
  std::string auth_provider;  // name of a legacy auth-provider: refused, named
};

struct KubeContext {
  std::string cluster, user, namespace_name;
};

// One kubeconfig file, or several merged.
struct Kubeconfig {
  std::map<std::string, KubeCluster> clusters;
  std::map<std::string, KubeUser> users;
  std::map<std::string, KubeContext> contexts;
  std::string current_context;
  // For messages: the file each entry came from ("clusters/NAME" → path).
  std::map<std::string, std::string> origin;
};

// Parses one kubeconfig (YAML or JSON). Relative file paths in it are made absolute against
// `dir` (the file's folder), as clientcmd does. `source` names the file in errors.
Result<Kubeconfig> ParseKubeconfig(std::string_view text, const std::string& source,
                                   const std::string& dir);

// Merges `next` into `into` with clientcmd's rules: the first file to set a map key (a
// cluster, user or context name) or current-context wins; later files never change it, not
// even in fields the first left empty.
void MergeKubeconfig(Kubeconfig* into, const Kubeconfig& next);

// What the client needs, resolved from one context (or from in-cluster files).
struct ClientConfig {
  std::string server;  // "https://host:port" and any path prefix, no trailing '/'
  std::string ca_pem;  // empty: the system trust store
  std::string ca_file; // for messages
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string client_cert_pem, client_key_pem;
  std::string token;
  std::string token_file;  // re-read when it rotates; wins over `token` when readable
  std::optional<ExecConfig> exec;
  std::string namespace_name = "default";  // the context's namespace
  std::string context_name;                // "" for in-cluster
  std::string source;                      // "kubeconfig /root/.kube/config", "in-cluster config"
  std::vector<std::string> warnings;       // e.g. insecure-skip-tls-verify
};

// Resolves `context` (empty: current-context) of a merged kubeconfig: reads the certificate and
// key files it names, checks the combinations clientcmd refuses (file and data both set,
// a CA with insecure-skip-tls-verify, no server).
Result<ClientConfig> ResolveContext(const Kubeconfig& config, const std::string& context);

// Where the in-cluster configuration lives (the defaults are those of a pod).
struct InClusterEnv {
  std::string host, port;  // KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT
  std::string dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

// The environment's in-cluster settings: the variables, and ROOTGATE_SERVICEACCOUNT_DIR
// (for tests only) instead of the pod's service-account folder.
InClusterEnv InClusterFromEnvironment();

// In-cluster config (client-go rest.InClusterConfig): server https://HOST:PORT, CA
// DIR/ca.crt, token file DIR/token (re-read), namespace DIR/namespace. Fails when the
// variables are unset or the token cannot be read.
Result<ClientConfig> InClusterConfig(const InClusterEnv& env);

// The loading rules of kubectl. `explicit_path` (--kubeconfig) must exist and is the only file;
// else `kubeconfig_env` (KUBECONFIG, ':'-separated; missing files skipped) merged; else
// `home`/.kube/config when it exists. When no file was found and no explicit path was given,
// the in-cluster config is used if its variables are set. Errors name the file.
struct LoadOptions {
  std::string explicit_path;
  std::optional<std::string> kubeconfig_env;  // nullopt: KUBECONFIG unset
  std::string home;
  std::string context;  // --context
  InClusterEnv in_cluster;
};

// LoadOptions from the process environment (KUBECONFIG, HOME) and the given flags.
LoadOptions LoadOptionsFromEnvironment(const std::string& explicit_path, const std::string& context);

Result<ClientConfig> LoadClientConfig(const LoadOptions& options);

}  // namespace rootgate::server::kube
