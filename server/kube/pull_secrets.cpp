#include "server/kube/pull_secrets.h"

#include "server/util/logging.h"

namespace rootgate::server::kube {

using nlohmann::json;

namespace {

constexpr size_t kMaxEntries = 20000;  // objects cached at once (expired ones dropped first)

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

std::string SecretPhrase(const std::string& ns, const std::string& name) {
  return "imagePullSecrets " + Quoted(name) + " in namespace " + Quoted(ns);
}

// A DNS-1123 subdomain (what Secret, ServiceAccount and namespace names are): anything else is
// never put into a request path.
bool ValidName(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

std::string StringAt(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

Result<RegistryCredentials> PullSecretConfig(const json& secret, const std::string& ns, const std::string& name) {
  const std::string what = SecretPhrase(ns, name);
  const std::string type = StringAt(secret, "type");
  std::string key;
  if (type == "kubernetes.io/dockerconfigjson") {
    key = ".dockerconfigjson";
  } else if (type == "kubernetes.io/dockercfg") {
    key = ".dockercfg";
  } else {
    return Error{what + " has type " + Quoted(type) +
                 ", not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg"};
  }
  const json* data = secret.is_object() && secret.contains("data") ? &secret["data"] : nullptr;
  const std::string encoded = data ? StringAt(*data, key.c_str()) : "";
  if (encoded.empty()) return Error{what + ": data[" + Quoted(key) + "] is missing or empty"};
  std::optional<std::string> text = DecodeBase64(encoded);
  if (!text) return Error{what + ": data[" + Quoted(key) + "] is not base64"};
  if (key == ".dockerconfigjson") {
    // The kubelet reads only the `auths` map of a .dockerconfigjson.
    const json doc = json::parse(*text, nullptr, false);
    if (doc.is_object() && !doc.contains("auths")) return RegistryCredentials{};
  }
  auto parsed = RegistryCredentials::Parse(*text);  // its errors never quote values
  if (!parsed) return Error{what + ": " + key + ": " + parsed.error()};
  return parsed;
}

std::vector<std::string> PodPullSecretNames(const json& pod_spec) {
  std::vector<std::string> names;
  if (!pod_spec.is_object()) return names;
  auto it = pod_spec.find("imagePullSecrets");
  if (it == pod_spec.end() || !it->is_array()) return names;
  for (const json& ref : *it) {
    const std::string name = StringAt(ref, "name");
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

std::string PodServiceAccount(const json& pod_spec) {
  std::string sa = StringAt(pod_spec, "serviceAccountName");
  if (sa.empty()) sa = StringAt(pod_spec, "serviceAccount");
  return sa.empty() ? "default" : sa;
}

PullSecretStore::PullSecretStore(KubeClient& client, const Clock& clock, PullSecretOptions options)
    : client_(client), clock_(clock), options_(options) {}

size_t PullSecretStore::gets() const {
  std::lock_guard<std::mutex> lock(mu_);
  return gets_;
}

PullSecretStore::EntryPtr PullSecretStore::Read(bool secret, const std::string& ns, const std::string& name) {
  auto entry = std::make_shared<Entry>();
  const std::string kind = secret ? "secrets" : "serviceaccounts";
  const std::string phrase = secret ? SecretPhrase(ns, name)
                                    : "serviceaccount " + Quoted(name) + " in namespace " + Quoted(ns);
  bool ok = false;
  if (!ValidName(ns) || !ValidName(name)) {
    entry->problem = phrase + ": not a valid name";
  } else {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++gets_;
    }
    const std::string action = "get " + kind + " " + Quoted(name) + " in namespace " + Quoted(ns);
    KubeResult<json> got = client_.Get("/api/v1/namespaces/" + ns + "/" + kind + "/" + name, action);
    if (!got.ok()) {
      entry->problem = got.error->status == 404 ? phrase + " not found" : phrase + ": " + got.error->message;
    } else if (secret) {
      auto config = PullSecretConfig(got.value, ns, name);
      if (config) {
        entry->config = std::move(config).value();
        ok = true;
      } else {
        entry->problem = config.error();
      }
    } else {
      entry->names = PodPullSecretNames(got.value);  // a ServiceAccount's list has the pod's shape
      ok = true;
    }
  }
  if (!entry->problem.empty() && options_.log) {
    Log(spdlog::level::warn, "pull secret unusable",
        {{"namespace", ns}, {"kind", kind}, {"name", name}, {"error", entry->problem}});
  }
  entry->expires = clock_.Now() + (ok ? options_.ttl : options_.failure_ttl);
  return entry;
}

PullSecretStore::EntryPtr PullSecretStore::Lookup(bool secret, const std::string& ns, const std::string& name) {
  const std::string key = std::string(secret ? "s/" : "sa/") + ns + "/" + name;
  std::shared_ptr<std::mutex> reading;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second->expires > clock_.Now()) return it->second;
    auto& slot = reading_[key];
    if (!slot) slot = std::make_shared<std::mutex>();
    reading = slot;
  }
  std::lock_guard<std::mutex> one_get(*reading);  // the others wait for this GET, then find it
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end() && it->second->expires > clock_.Now()) return it->second;
  }
  EntryPtr entry = Read(secret, ns, name);
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= kMaxEntries) {
    const auto now = clock_.Now();
    std::erase_if(entries_, [now](const auto& kv) { return kv.second->expires <= now; });
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }
  entries_[key] = entry;
  reading_.erase(key);
  return entry;
}

PullKeyring PullSecretStore::For(const std::string& ns, const json& pod_spec) {
  PullKeyring keyring;
  std::vector<std::string> names = PodPullSecretNames(pod_spec);
  if (names.empty()) {
    EntryPtr sa = Lookup(false, ns, PodServiceAccount(pod_spec));
    if (!sa->problem.empty()) keyring.AddProblem(sa->problem);
    names = sa->names;
  }
  for (const std::string& name : names) {
    EntryPtr s = Lookup(true, ns, name);
    if (s->config) {
      keyring.Add(*s->config, "imagePullSecrets " + Quoted(name));
    } else {
      keyring.AddProblem(s->problem);
    }
  }
  return keyring;
}

}  // namespace rootgate::server::kube
