// Which kubeconfig files are read, the resolution of one context, and in-cluster config.
#include <sys/stat.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "server/kube/kubeconfig.h"

namespace rootgate::server::kube {

namespace {

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

Result<std::string> ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{what + " " + path + ": cannot read the file"};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

Result<Kubeconfig> LoadFile(const std::string& path) {
  auto text = ReadFile(path, "kubeconfig");
  if (!text) return Error{text.error()};
  return ParseKubeconfig(text.value(), "kubeconfig " + path, DirOf(path));
}

// The PEM of `file` or `data` (not both, as clientcmd's validation requires).
Result<std::string> FileOrData(const std::string& file, const std::string& data, const char* file_key,
                               const char* data_key, const std::string& owner) {
  if (!file.empty() && !data.empty()) {
    return Error{std::string(data_key) + " and " + file_key + " are both specified for " + owner};
  }
  if (!data.empty()) return data;
  if (file.empty()) return std::string();
  return ReadFile(file, std::string(file_key) + " of " + owner + ":");
}

Result<bool> ApplyCluster(const KubeCluster& c, const std::string& name, ClientConfig* out) {
  const std::string owner = "cluster \"" + name + "\"";
  if (c.server.empty()) return Error{owner + " has no server"};
  if (!c.server.starts_with("https://") && !c.server.starts_with("http://")) {
    return Error{owner + ": server \"" + c.server + "\" is not an https:// URL"};
  }
  if (!c.proxy_url.empty()) return Error{owner + ": proxy-url is not supported"};
  auto ca = FileOrData(c.certificate_authority, c.certificate_authority_data, "certificate-authority",
                       "certificate-authority-data", owner);
  if (!ca) return Error{ca.error()};
  if (c.insecure_skip_tls_verify && !ca.value().empty()) {
    return Error{owner + ": specifying a root certificates file with the insecure flag is not allowed"};
  }
  out->server = c.server;
  while (out->server.size() > 8 && out->server.back() == '/') out->server.pop_back();
  out->ca_pem = std::move(ca).value();
  out->ca_file = c.certificate_authority;
  out->tls_server_name = c.tls_server_name;
  out->insecure_skip_tls_verify = c.insecure_skip_tls_verify;
  if (c.insecure_skip_tls_verify) {
    out->warnings.push_back(owner + " sets insecure-skip-tls-verify: the API server's certificate is not "
                            "verified, so anyone on the path can read and change this traffic");
  }
  return true;
}

Result<bool> ApplyUser(const KubeUser& u, const std::string& name, ClientConfig* out) {
  const std::string owner = "user \"" + name + "\"";
  if (!u.auth_provider.empty()) {
    return Error{owner + ": auth-provider \"" + u.auth_provider +
                 "\" is not supported (removed from kubectl); use an exec credential plugin"};
  }
  if (!u.username.empty() || !u.password.empty()) {
    return Error{owner + ": basic authentication (username/password) is not supported"};
  }
  auto cert = FileOrData(u.client_certificate, u.client_certificate_data, "client-certificate",
                         "client-certificate-data", owner);
  if (!cert) return Error{cert.error()};
  auto key = FileOrData(u.client_key, u.client_key_data, "client-key", "client-key-data", owner);
  if (!key) return Error{key.error()};
  if (cert.value().empty() != key.value().empty()) {
    return Error{owner + ": a client certificate needs both the certificate and the key"};
  }
  if (!u.token_file.empty() && !Exists(u.token_file)) {
    return Error{owner + ": tokenFile " + u.token_file + " does not exist"};
  }
  out->client_cert_pem = std::move(cert).value();
  out->client_key_pem = std::move(key).value();
  out->token = u.token;
  out->token_file = u.token_file;
  // client-go's exec authenticator stands aside when a token or certificate is configured.
  if (out->token.empty() && out->token_file.empty() && out->client_cert_pem.empty()) out->exec = u.exec;
  return true;
}

bool InClusterPossible(const InClusterEnv& env) { return !env.host.empty() && !env.port.empty(); }

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

Result<ClientConfig> ResolveContext(const Kubeconfig& config, const std::string& context) {
  const std::string name = context.empty() ? config.current_context : context;
  if (name.empty()) return Error{"no context: the kubeconfig sets no current-context and --context was not given"};
  auto ctx = config.contexts.find(name);
  if (ctx == config.contexts.end()) return Error{"context \"" + name + "\" does not exist"};
  ClientConfig out;
  out.context_name = name;
  out.source = "context \"" + name + "\" of " + config.origin.at("contexts/" + name);
  auto cluster = config.clusters.find(ctx->second.cluster);
  if (cluster == config.clusters.end()) {
    return Error{"context \"" + name + "\": cluster \"" + ctx->second.cluster + "\" does not exist"};
  }
  if (auto r = ApplyCluster(cluster->second, cluster->first, &out); !r) return Error{r.error()};
  if (!ctx->second.user.empty()) {
    auto user = config.users.find(ctx->second.user);
    if (user == config.users.end()) {
      return Error{"context \"" + name + "\": user \"" + ctx->second.user + "\" does not exist"};
    }
    if (auto r = ApplyUser(user->second, user->first, &out); !r) return Error{r.error()};
  }
  if (!ctx->second.namespace_name.empty()) out.namespace_name = ctx->second.namespace_name;
  return out;
}

InClusterEnv InClusterFromEnvironment() {
  InClusterEnv env;
  env.host = Getenv("KUBERNETES_SERVICE_HOST");
  env.port = Getenv("KUBERNETES_SERVICE_PORT");
  if (std::string dir = Getenv("ROOTGATE_SERVICEACCOUNT_DIR"); !dir.empty()) env.dir = dir;
  return env;
}

Result<ClientConfig> InClusterConfig(const InClusterEnv& env) {
  if (!InClusterPossible(env)) {
    return Error{"in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"};
  }
  ClientConfig out;
  out.source = "in-cluster config";
  const bool v6 = env.host.find(':') != std::string::npos;
  out.server = "https://" + (v6 ? "[" + env.host + "]" : env.host) + ":" + env.port;
  out.token_file = env.dir + "/token";
  auto token = ReadFile(out.token_file, "in-cluster service-account token");
  if (!token) return Error{token.error()};
  auto ca = ReadFile(env.dir + "/ca.crt", "in-cluster CA");
  if (ca) {
    out.ca_pem = std::move(ca).value();
    out.ca_file = env.dir + "/ca.crt";
  } else {
    out.warnings.push_back(ca.error() + "; verifying the API server against the system trust store");
  }
  if (auto ns = ReadFile(env.dir + "/namespace", "namespace"); ns && !ns.value().empty()) {
    out.namespace_name = ns.value();
    while (!out.namespace_name.empty() && std::isspace(static_cast<unsigned char>(out.namespace_name.back()))) {
      out.namespace_name.pop_back();
    }
  }
  return out;
}

LoadOptions LoadOptionsFromEnvironment(const std::string& explicit_path, const std::string& context) {
  LoadOptions o;
  o.explicit_path = explicit_path;
  if (const char* v = std::getenv("KUBECONFIG"); v != nullptr) o.kubeconfig_env = v;
  o.home = Getenv("HOME");
  o.context = context;
  o.in_cluster = InClusterFromEnvironment();
  return o;
}

Result<ClientConfig> LoadClientConfig(const LoadOptions& o) {
  if (!o.explicit_path.empty()) {
    if (!Exists(o.explicit_path)) return Error{"kubeconfig " + o.explicit_path + ": no such file"};
    auto config = LoadFile(o.explicit_path);
    if (!config) return Error{config.error()};
    return ResolveContext(config.value(), o.context);
  }
  std::vector<std::string> files;
  if (o.kubeconfig_env && !o.kubeconfig_env->empty()) {
    std::set<std::string> seen;
    std::stringstream list(*o.kubeconfig_env);
    for (std::string f; std::getline(list, f, ':');) {
      if (!f.empty() && seen.insert(f).second && Exists(f)) files.push_back(f);
    }
  } else if (!o.home.empty() && Exists(o.home + "/.kube/config")) {
    files.push_back(o.home + "/.kube/config");
  }
  Kubeconfig merged;
  for (const std::string& f : files) {
    auto config = LoadFile(f);
    if (!config) return Error{config.error()};
    MergeKubeconfig(&merged, config.value());
  }
  // clientcmd's deferred loading: with nothing usable from files, a pod uses its own config.
  const bool nothing = merged.contexts.empty() && merged.current_context.empty();
  if (nothing && o.context.empty() && InClusterPossible(o.in_cluster)) return InClusterConfig(o.in_cluster);
  if (files.empty()) {
    return Error{"no kubeconfig: give --kubeconfig, set KUBECONFIG, create ~/.kube/config, "
                 "or run in a pod (KUBERNETES_SERVICE_HOST)"};
  }
  return ResolveContext(merged, o.context);
}

}  // namespace rootgate::server::kube
