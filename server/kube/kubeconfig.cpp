// Parsing and merging of kubeconfig files (clientcmd/api/v1 field names).
#include "server/kube/kubeconfig.h"

#include <nlohmann/json.hpp>

#include "server/registry/docker_config.h"
#include "server/inputs/manifest_reader.h"

namespace rootgate::server::kube {

using nlohmann::json;

namespace {

// Reads the named fields of one kubeconfig entry, reporting type errors with the entry's path.
class Fields {
 public:
  Fields(const json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  bool String(const char* key, std::string* out) {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return true;
    if (!it->is_string()) return Fail(key, "expected a string");
    *out = it->get<std::string>();
    return true;
  }
  bool Bool(const char* key, bool* out) {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return true;
    if (!it->is_boolean()) return Fail(key, "expected true or false");
    *out = it->get<bool>();
    return true;
  }
  // base64 in the file, bytes (PEM) in *out.
  bool Base64(const char* key, std::string* out) {
    std::string text;
    if (!String(key, &text)) return false;
    if (text.empty()) return true;
    auto decoded = DecodeBase64(text);
    if (!decoded) return Fail(key, "not valid base64");
    *out = std::move(*decoded);
    return true;
  }
  bool Fail(const std::string& key, const std::string& what) {
    error_ = where_ + "." + key + ": " + what;
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  const json& obj_;
  std::string where_;
  std::string error_;
};

std::string Absolute(const std::string& path, const std::string& dir) {
  if (path.empty() || path[0] == '/' || dir.empty()) return path;
  return dir + "/" + path;
}

Result<ExecConfig> ParseExec(const json& obj, const std::string& where, const std::string& dir) {
  if (!obj.is_object()) return Error{where + ": expected a mapping"};
  ExecConfig e;
  Fields f(obj, where);
  if (!f.String("apiVersion", &e.api_version) || !f.String("command", &e.command) ||
      !f.String("installHint", &e.install_hint) || !f.Bool("provideClusterInfo", &e.provide_cluster_info)) {
    return Error{f.error()};
  }
  if (e.command.empty()) return Error{where + ".command: missing"};
  if (e.api_version != "client.authentication.k8s.io/v1" &&
      e.api_version != "client.authentication.k8s.io/v1beta1") {
    return Error{where + ".apiVersion: \"" + e.api_version +
                 "\" is not client.authentication.k8s.io/v1 or v1beta1"};
  }
  // clientcmd resolves the command against the file's folder only when it holds a path.
  if (e.command.find('/') != std::string::npos) e.command = Absolute(e.command, dir);
  if (auto args = obj.find("args"); args != obj.end() && !args->is_null()) {
    if (!args->is_array()) return Error{where + ".args: expected a list of strings"};
    for (const json& a : *args) {
      if (!a.is_string()) return Error{where + ".args: expected a list of strings"};
      e.args.push_back(a.get<std::string>());
    }
  }
  if (auto env = obj.find("env"); env != obj.end() && !env->is_null()) {
    if (!env->is_array()) return Error{where + ".env: expected a list of {name, value}"};
    for (size_t i = 0; i < env->size(); ++i) {
      const json& v = (*env)[i];
      const auto name = v.is_object() ? v.find("name") : v.end();
      const auto value = v.is_object() ? v.find("value") : v.end();
      if (!v.is_object() || name == v.end() || !name->is_string() || value == v.end() || !value->is_string()) {
        return Error{where + ".env[" + std::to_string(i) + "]: expected {name, value} strings"};
      }
      e.env.emplace_back(name->get<std::string>(), value->get<std::string>());
    }
  }
  return e;
}

Result<KubeCluster> ParseCluster(const json& obj, const std::string& where, const std::string& dir) {
  KubeCluster c;
  Fields f(obj, where);
  if (!f.String("server", &c.server) || !f.String("certificate-authority", &c.certificate_authority) ||
      !f.Base64("certificate-authority-data", &c.certificate_authority_data) ||
      !f.String("tls-server-name", &c.tls_server_name) ||
      !f.Bool("insecure-skip-tls-verify", &c.insecure_skip_tls_verify) ||
      !f.String("proxy-url", &c.proxy_url)) {
    return Error{f.error()};
  }
  c.certificate_authority = Absolute(c.certificate_authority, dir);
  return c;
}

Result<KubeUser> ParseUser(const json& obj, const std::string& where, const std::string& dir) {
  KubeUser u;
  Fields f(obj, where);
  if (!f.String("client-certificate", &u.client_certificate) || !f.String("client-key", &u.client_key) ||
      !f.Base64("client-certificate-data", &u.client_certificate_data) ||
      !f.Base64("client-key-data", &u.client_key_data) || !f.String("token", &u.token) ||
      !f.String("tokenFile", &u.token_file) || !f.String("username", &u.username) ||
      !f.String("password", &u.password)) {
    return Error{f.error()};
  }
  u.client_certificate = Absolute(u.client_certificate, dir);
  u.client_key = Absolute(u.client_key, dir);
  u.token_file = Absolute(u.token_file, dir);
  if (auto exec = obj.find("exec"); exec != obj.end() && !exec->is_null()) {
    auto parsed = ParseExec(*exec, where + ".exec", dir);
    if (!parsed) return Error{parsed.error()};
    u.exec = std::move(parsed).value();
  }
  if (auto ap = obj.find("auth-provider"); ap != obj.end() && ap->is_object()) {
    auto name = ap->find("name");
    u.auth_provider = name != ap->end() && name->is_string() ? name->get<std::string>() : "unnamed";
  }
  return u;
}

Result<KubeContext> ParseContext(const json& obj, const std::string& where) {
  KubeContext c;
  Fields f(obj, where);
  if (!f.String("cluster", &c.cluster) || !f.String("user", &c.user) ||
      !f.String("namespace", &c.namespace_name)) {
    return Error{f.error()};
  }
  return c;
}

// Reads a list of {name, <inner>: {...}} into `out` with `parse`. A name given twice in one
// file: clientcmd's conversion keeps the first.
template <typename T, typename Parse>
bool ParseNamedList(const json& doc, const char* list, const char* inner, std::map<std::string, T>* out,
                    std::map<std::string, std::string>* origin, const std::string& source,
                    Parse parse, std::string* error) {
  auto it = doc.find(list);
  if (it == doc.end() || it->is_null()) return true;
  if (!it->is_array()) {
    *error = std::string(list) + ": expected a list";
    return false;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const json& entry = (*it)[i];
    const std::string where = std::string(list) + "[" + std::to_string(i) + "]";
    auto name = entry.is_object() ? entry.find("name") : entry.end();
    if (!entry.is_object() || name == entry.end() || !name->is_string()) {
      *error = where + ".name: missing";
      return false;
    }
    auto body = entry.find(inner);
    const json empty = json::object();
    const json& obj = body != entry.end() && body->is_object() ? *body : empty;
    if (body != entry.end() && !body->is_null() && !body->is_object()) {
      *error = where + "." + inner + ": expected a mapping";
      return false;
    }
    auto parsed = parse(obj, where + "." + inner);
    if (!parsed) {
      *error = parsed.error();
      return false;
    }
    const std::string key = name->get<std::string>();
    if (out->emplace(key, std::move(parsed).value()).second) {
      (*origin)[std::string(list) + "/" + key] = source;
    }
  }
  return true;
}

}  // namespace

Result<Kubeconfig> ParseKubeconfig(std::string_view text, const std::string& source,
                                   const std::string& dir) {
  std::vector<Document> docs = ParseDocuments(text);
  Kubeconfig config;
  if (docs.empty()) return config;  // an empty file is an empty config, as clientcmd reads it
  if (docs.size() > 1) return Error{source + ": more than one YAML document"};
  if (!docs[0].error.empty()) return Error{source + ": " + docs[0].error};
  const json& doc = docs[0].value;
  if (doc.is_null()) return config;
  if (!doc.is_object()) return Error{source + ": expected a mapping (kind: Config)"};
  std::string error;
  const auto cluster = [&](const json& o, const std::string& w) { return ParseCluster(o, w, dir); };
  const auto user = [&](const json& o, const std::string& w) { return ParseUser(o, w, dir); };
  const auto context = [&](const json& o, const std::string& w) { return ParseContext(o, w); };
  if (!ParseNamedList(doc, "clusters", "cluster", &config.clusters, &config.origin, source, cluster, &error) ||
      !ParseNamedList(doc, "users", "user", &config.users, &config.origin, source, user, &error) ||
      !ParseNamedList(doc, "contexts", "context", &config.contexts, &config.origin, source, context, &error)) {
    return Error{source + ": " + error};
  }
  Fields f(doc, "");
  if (!f.String("current-context", &config.current_context)) {
    return Error{source + ": current-context: expected a string"};
  }
  return config;
}

void MergeKubeconfig(Kubeconfig* into, const Kubeconfig& next) {
  for (const auto& [name, v] : next.clusters) {
    if (into->clusters.emplace(name, v).second) into->origin["clusters/" + name] = next.origin.at("clusters/" + name);
  }
  for (const auto& [name, v] : next.users) {
    if (into->users.emplace(name, v).second) into->origin["users/" + name] = next.origin.at("users/" + name);
  }
  for (const auto& [name, v] : next.contexts) {
    if (into->contexts.emplace(name, v).second) into->origin["contexts/" + name] = next.origin.at("contexts/" + name);
  }
  if (into->current_context.empty()) into->current_context = next.current_context;
}

}  // namespace rootgate::server::kube
