// Against a real kube-apiserver, when tests/kube/audit_test.sh runs this binary with
// ROOTGATE_LIVE_KUBECONFIG and ROOTGATE_LIVE_ETCD set (otherwise the case returns at once): a
// paged LIST whose continue token expires because etcd is compacted between two pages must get
// 410 Gone, restart, and still hand over every object exactly once.
#include <doctest/doctest.h>

#include <httplib.h>

#include <cstdlib>
#include <set>

#include "server/registry/docker_config.h"
#include "server/kube/kube_client.h"
#include "server/kube/kube_list.h"
#include "server/kube/kubeconfig.h"

namespace {

using namespace rootgate::server::kube;
using nlohmann::json;

// Writes a key (a new etcd revision) and compacts up to it: every older snapshot is gone.
bool CompactEtcd(const std::string& url) {
  httplib::Client etcd(url);
  const json put = {{"key", rootgate::server::EncodeBase64("rootgate-live-test")},
                    {"value", rootgate::server::EncodeBase64("x")}};
  auto res = etcd.Post("/v3/kv/put", put.dump(), "application/json");
  if (!res || res->status != 200) return false;
  const std::string revision = json::parse(res->body)["header"]["revision"].get<std::string>();
  auto compacted = etcd.Post("/v3/kv/compaction", json{{"revision", revision}, {"physical", true}}.dump(),
                             "application/json");
  return compacted && compacted->status == 200;
}

TEST_CASE("live kube-apiserver: 410 Gone on continue restarts the list") {
  const char* kubeconfig = std::getenv("ROOTGATE_LIVE_KUBECONFIG");
  const char* etcd = std::getenv("ROOTGATE_LIVE_ETCD");
  if (kubeconfig == nullptr || etcd == nullptr) return;
  LoadOptions o;
  o.explicit_path = kubeconfig;
  auto config = LoadClientConfig(o);
  REQUIRE_MESSAGE(config.ok(), config.error());
  auto client = KubeClient::Create(config.value());
  REQUIRE(client.ok());
  KubeClient& c = *client.value();
  const ApiResource namespaces{"", "v1", "namespaces", "Namespace", false};
  const ApiResource pods{"", "v1", "pods", "Pod", true};
  REQUIRE(c.Apply(namespaces.Path("") + "/live410", {{"apiVersion", "v1"}, {"kind", "Namespace"},
                                                    {"metadata", {{"name", "live410"}}}}, "rootgate-test", "ns").ok());
  for (int i = 0; i < 6; ++i) {
    const std::string name = "p" + std::to_string(i);
    const json pod = {{"apiVersion", "v1"}, {"kind", "Pod"},
                      {"metadata", {{"name", name}, {"namespace", "live410"}}},
                      {"spec", {{"containers", {{{"name", "c"}, {"image", "registry.test/x:1"}}}}}}};
    auto applied = c.Apply(pods.Path("live410") + "/" + name, pod, "rootgate-test", "create pod");
    REQUIRE_MESSAGE(applied.ok(), applied.error->message);
  }
  std::multiset<std::string> seen;
  bool compacted = false;
  const ListAllResult list = ListAll(c, pods, "live410", 2, [&](json&& item) {
    seen.insert(ListKey(item));
    if (seen.size() == 2 && !compacted) compacted = CompactEtcd(etcd);
  });
  REQUIRE(compacted);
  CHECK_FALSE(list.error.has_value());
  CHECK(list.restarts == 1);
  CHECK(seen.size() == 6);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 6);  // none twice
  REQUIRE(list.notes.size() == 1);
  CHECK(list.notes[0].find("410 Gone") != std::string::npos);
}

}  // namespace
