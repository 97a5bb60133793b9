// Pull secrets from the API (in memory): which secrets a pod uses (its own list, else its
// service account's), secret types and malformed content named without their data, and the
// cache — one GET per object per TTL, NotFound cached too, one GET for a burst.
#include "server/kube/pull_secrets.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "server/kube/kube_test_support.h"

namespace {

using namespace rootgate::server;
using namespace rootgate::server::kube;
using namespace rootgate::server::kube::testing;
using nlohmann::json;
using namespace std::chrono_literals;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class FakeClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now() + offset.load(); }
  std::atomic<std::chrono::nanoseconds> offset{0ns};
};

const std::string kPassword = "pa55-w0rd-never-shown";

json Secret(const std::string& type, const std::string& key, const std::string& content) {
  return json{{"kind", "Secret"}, {"type", type}, {"data", {{key, EncodeBase64(content)}}}};
}

std::string DockerConfigJson(const std::string& host, const std::string& user) {
  return R"({"auths":{")" + host + R"(":{"auth":")" + EncodeBase64(user + ":" + kPassword) + R"("}}})";
}

TEST_CASE("PullSecretConfig: the two pull-secret types") {
  auto a = PullSecretConfig(Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson",
                                   DockerConfigJson("localhost:5000", "alice")), "team-a", "regcred");
  REQUIRE(a.ok());
  CHECK(a.value().For("localhost:5000")->username == "alice");
  // .dockercfg is the auths map alone.
  auto b = PullSecretConfig(Secret("kubernetes.io/dockercfg", ".dockercfg",
                                   R"({"localhost:5000":{"username":"bob","password":"x"}})"), "team-a", "old");
  REQUIRE(b.ok());
  CHECK(b.value().For("localhost:5000")->username == "bob");
  // The kubelet reads only `auths` of a .dockerconfigjson.
  auto c = PullSecretConfig(Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson",
                                   R"({"localhost:5000":{"username":"x","password":"y"}})"), "team-a", "flat");
  REQUIRE(c.ok());
  CHECK(c.value().size() == 0);
}

TEST_CASE("PullSecretConfig: unusable secrets are named, their content never quoted") {
  auto wrong_type = PullSecretConfig(Secret("Opaque", ".dockerconfigjson", "{}"), "team-a", "regcred");
  CHECK(wrong_type.error() ==
        "imagePullSecrets \"regcred\" in namespace \"team-a\" has type \"Opaque\", not "
        "kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg");
  auto no_key = PullSecretConfig(Secret("kubernetes.io/dockerconfigjson", ".dockercfg", "{}"), "team-a", "regcred");
  CHECK(Has(no_key.error(), "data[\".dockerconfigjson\"] is missing or empty"));
  json bad64 = Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson", "{}");
  bad64["data"][".dockerconfigjson"] = "!!!" + kPassword;
  CHECK(Has(PullSecretConfig(bad64, "team-a", "regcred").error(), "is not base64"));
  CHECK_FALSE(Has(PullSecretConfig(bad64, "team-a", "regcred").error(), kPassword));
  auto bad_json = PullSecretConfig(Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson",
                                          R"({"auths":{"r":{"auth":")" + kPassword + "\"}}"),
                                   "team-a", "regcred");
  REQUIRE_FALSE(bad_json.ok());
  CHECK(Has(bad_json.error(), "imagePullSecrets \"regcred\" in namespace \"team-a\": .dockerconfigjson:"));
  CHECK_FALSE(Has(bad_json.error(), kPassword));
  auto truncated = PullSecretConfig(Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson",
                                           "{\"auths\":{\"" + kPassword), "team-a", "regcred");
  CHECK(Has(truncated.error(), "not valid JSON"));
  CHECK_FALSE(Has(truncated.error(), kPassword));
}

TEST_CASE("pod secret names and service account") {
  const json spec = json::parse(R"({"imagePullSecrets":[{"name":"a"},{},{"name":"b"}],"serviceAccountName":"builder"})");
  CHECK(PodPullSecretNames(spec) == std::vector<std::string>{"a", "b"});
  CHECK(PodServiceAccount(spec) == "builder");
  CHECK(PodServiceAccount(json::object()) == "default");
  CHECK(PodServiceAccount(json::parse(R"({"serviceAccount":"legacy"})")) == "legacy");
}

// An API server holding some objects: path → body; anything else is a 404 Status.
struct Api {
  std::map<std::string, json> objects;
  std::unique_ptr<KubeClient> client;
  FakeTransport* transport = nullptr;
  Api() {
    auto t = std::make_unique<FakeTransport>([this](const SentRequest& r) -> KubeTransportResult {
      if (r.method != "GET") return Json(405, StatusBody(405, "MethodNotAllowed", "no"));
      auto it = objects.find(r.path);
      if (it == objects.end()) return Json(404, StatusBody(404, "NotFound", "not found"));
      return Json(200, it->second.dump());
    });
    transport = t.get();
    ClientConfig config;
    config.server = "https://api:6443";
    KubeClientOptions o;
    o.sleep = [](std::chrono::milliseconds) {};
    client = std::make_unique<KubeClient>(config, std::move(t), std::make_unique<FixedCredentials>(std::vector<std::string>{"t"}), o);
  }
  size_t Gets(const std::string& path) {
    size_t n = 0;
    for (const SentRequest& r : transport->sent()) n += r.path == path;
    return n;
  }
};

const std::string kRegcred = "/api/v1/namespaces/team-a/secrets/regcred";
const std::string kDefaultSa = "/api/v1/namespaces/team-a/serviceaccounts/default";

TEST_CASE("store: the pod's own secrets, in order; a missing one is a problem naming it") {
  Api api;
  api.objects[kRegcred] = Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson", DockerConfigJson("localhost:5000", "alice"));
  FakeClock clock;
  PullSecretStore store(*api.client, clock);
  const json spec = json::parse(R"({"imagePullSecrets":[{"name":"gone"},{"name":"regcred"}]})");
  PullKeyring k = store.For("team-a", spec);
  const auto creds = k.Lookup("localhost:5000/app");
  REQUIRE(creds.size() == 1);
  CHECK(creds[0].credential.username == "alice");
  CHECK(creds[0].origin == "imagePullSecrets \"regcred\"");
  CHECK(k.ProblemText() == "imagePullSecrets \"gone\" in namespace \"team-a\" not found");
  CHECK(api.Gets(kDefaultSa) == 0);  // the pod names secrets: its service account's are not used
}

TEST_CASE("store: a pod without secrets uses its service account's") {
  Api api;
  api.objects[kRegcred] = Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson", DockerConfigJson("localhost:5000", "alice"));
  api.objects["/api/v1/namespaces/team-a/serviceaccounts/builder"] = json::parse(R"({"imagePullSecrets":[{"name":"regcred"}]})");
  FakeClock clock;
  PullSecretStore store(*api.client, clock);
  PullKeyring k = store.For("team-a", json::parse(R"({"serviceAccountName":"builder"})"));
  CHECK(k.Lookup("localhost:5000/app").size() == 1);
  CHECK(k.problems().empty());
  PullKeyring none = store.For("team-a", json::object());
  CHECK(none.ProblemText() == "serviceaccount \"default\" in namespace \"team-a\" not found");
}

TEST_CASE("store: each object is read once per TTL, NotFound too; invalid names are never requested") {
  Api api;
  api.objects[kRegcred] = Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson", DockerConfigJson("localhost:5000", "alice"));
  FakeClock clock;
  PullSecretStore store(*api.client, clock, PullSecretOptions{30s, 10s});
  const json spec = json::parse(R"({"imagePullSecrets":[{"name":"regcred"},{"name":"gone"},{"name":"../../x"}]})");
  for (int i = 0; i < 5; ++i) store.For("team-a", spec);
  CHECK(api.Gets(kRegcred) == 1);
  CHECK(api.Gets("/api/v1/namespaces/team-a/secrets/gone") == 1);
  CHECK(api.transport->sent().size() == 2);
  CHECK(Has(store.For("team-a", spec).ProblemText(), "imagePullSecrets \"../../x\" in namespace \"team-a\": not a valid name"));
  clock.offset.store(11s);  // the NotFound is asked again, the secret not yet
  store.For("team-a", spec);
  CHECK(api.Gets("/api/v1/namespaces/team-a/secrets/gone") == 2);
  CHECK(api.Gets(kRegcred) == 1);
  clock.offset.store(31s);
  store.For("team-a", spec);
  CHECK(api.Gets(kRegcred) == 2);
  // Another namespace is another object.
  store.For("team-b", spec);
  CHECK(api.Gets("/api/v1/namespaces/team-b/secrets/regcred") == 1);
}

TEST_CASE("store: a burst of pods makes one GET per secret") {
  Api api;
  api.objects[kRegcred] = Secret("kubernetes.io/dockerconfigjson", ".dockerconfigjson", DockerConfigJson("localhost:5000", "alice"));
  FakeClock clock;
  PullSecretStore store(*api.client, clock);
  const json spec = json::parse(R"({"imagePullSecrets":[{"name":"regcred"}]})");
  std::vector<std::thread> threads;
  std::atomic<int> found{0};
  for (int i = 0; i < 32; ++i) {
    threads.emplace_back([&] { found += static_cast<int>(store.For("team-a", spec).Lookup("localhost:5000/app").size()); });
  }
  for (std::thread& t : threads) t.join();
  CHECK(found.load() == 32);
  CHECK(api.Gets(kRegcred) == 1);
}

TEST_CASE("store: a refused GET names the action and the API's reason") {
  Api api;
  FakeClock clock;
  auto t = std::make_unique<FakeTransport>([](const SentRequest&) -> KubeTransportResult {
    return Json(403, StatusBody(403, "Forbidden", "secrets \\\"regcred\\\" is forbidden: User \\\"system:serviceaccount:x:y\\\" cannot get resource"));
  });
  ClientConfig config;
  config.server = "https://api:6443";
  KubeClient client(config, std::move(t), std::make_unique<FixedCredentials>(std::vector<std::string>{"t"}));
  PullSecretStore store(client, clock);
  const std::string text = store.For("team-a", json::parse(R"({"imagePullSecrets":[{"name":"regcred"}]})")).ProblemText();
  CHECK(Has(text, "imagePullSecrets \"regcred\" in namespace \"team-a\": get secrets \"regcred\" in namespace \"team-a\""));
  CHECK(Has(text, "Forbidden (403)"));
}

}  // namespace
