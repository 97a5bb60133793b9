// The API client against an in-memory transport: Status errors, retries with backoff and
// Retry-After, re-authentication after a 401, streamed LIST pages, and 410 restarts.
#include "server/kube/kube_client.h"

#include <doctest/doctest.h>

#include "server/kube/kube_list.h"
#include "server/kube/kube_test_support.h"

namespace {

using namespace rootgate::server::kube;
using namespace rootgate::server::kube::testing;
using nlohmann::json;
using std::chrono::milliseconds;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

struct Harness {
  explicit Harness(FakeTransport::Handler h, std::vector<std::string> tokens = {"t"}) {
    auto t = std::make_unique<FakeTransport>(std::move(h));
    transport = t.get();
    auto c = std::make_unique<FixedCredentials>(std::move(tokens));
    creds = c.get();
    ClientConfig config;
    config.server = "https://api:6443";
    config.source = "context \"x\" of kubeconfig k";
    KubeClientOptions o;
    o.sleep = [this](milliseconds d) { sleeps.push_back(d); };
    client = std::make_unique<KubeClient>(config, std::move(t), std::move(c), o);
  }
  FakeTransport* transport;
  FixedCredentials* creds;
  std::vector<milliseconds> sleeps;
  std::unique_ptr<KubeClient> client;
};

const ApiResource kPods{"", "v1", "pods", "Pod", true};
const ApiResource kDeployments{"apps", "v1", "deployments", "Deployment", true};

std::string Pod(const std::string& ns, const std::string& name) {
  return R"({"metadata":{"namespace":")" + ns + R"(","name":")" + name + R"("},"spec":{"containers":[]}})";
}

std::string Page(const std::vector<std::string>& items, const std::string& cont) {
  std::string s = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":")" + cont + R"("},"items":[)";
  for (size_t i = 0; i < items.size(); ++i) s += (i ? "," : "") + items[i];
  return s + "]}";
}

TEST_CASE("paths") {
  CHECK(kPods.Path("") == "/api/v1/pods");
  CHECK(kDeployments.Path("team a") == "/apis/apps/v1/namespaces/team%20a/deployments");
  CHECK(kDeployments.Name() == "deployments.apps");
}

TEST_CASE("403 and 401: the Status message, code and what was refused") {
  Harness h([](const SentRequest&) {
    return Json(403, StatusBody(403, "Forbidden",
                                "deployments.apps is forbidden: User \\\"system:serviceaccount:a:b\\\" cannot list resource"));
  });
  auto r = h.client->List(kDeployments, "team-a", 2, "", [](json&&) {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error->status == 403);
  CHECK(r.error->reason == "Forbidden");
  CHECK(r.error->message ==
        "list deployments.apps in namespace \"team-a\": Forbidden (403): deployments.apps is forbidden: User "
        "\"system:serviceaccount:a:b\" cannot list resource");
  CHECK(h.sleeps.empty());  // not retried

  Harness unauthorized([](const SentRequest&) { return Json(401, StatusBody(401, "Unauthorized", "Unauthorized")); });
  auto u = unauthorized.client->List(kPods, "", 2, "", [](json&&) {});
  REQUIRE_FALSE(u.ok());
  CHECK(u.error->status == 401);
  CHECK(Has(u.error->message, "list pods in all namespaces: Unauthorized (401): Unauthorized"));
  CHECK(Has(u.error->message, "context \"x\" of kubeconfig k"));
  CHECK_FALSE(Has(u.error->message, "Bearer"));
}

TEST_CASE("a 401 re-reads the credentials and sends once more") {
  Harness h(
      [](const SentRequest& s) {
        return s.token == "fresh" ? Json(200, Page({}, "")) : Json(401, StatusBody(401, "Unauthorized", "Unauthorized"));
      },
      {"stale", "fresh", "never"});
  auto r = h.client->List(kPods, "", 10, "", [](json&&) {});
  CHECK(r.ok());
  CHECK(h.creds->invalidations() == 1);
  CHECK(h.transport->sent().size() == 2);
}

TEST_CASE("429 and 5xx are retried: Retry-After honoured, else exponential backoff") {
  int calls = 0;
  Harness h([&](const SentRequest&) {
    ++calls;
    if (calls == 1) return Json(429, StatusBody(429, "TooManyRequests", "slow down"), {{"retry-after", "2"}});
    if (calls == 2) return Json(503, "upstream unavailable");
    if (calls == 3) return Json(500, StatusBody(500, "InternalError", "boom"));
    return Json(200, Page({}, ""));
  });
  auto r = h.client->List(kPods, "", 10, "", [](json&&) {});
  CHECK(r.ok());
  CHECK(h.sleeps == std::vector<milliseconds>{milliseconds(2000), milliseconds(500), milliseconds(1000)});
  CHECK(h.client->stats().requests == 4);
  CHECK(h.client->stats().retries == 3);

  Harness always([](const SentRequest&) { return Json(503, StatusBody(503, "ServiceUnavailable", "etcd down")); });
  auto failed = always.client->List(kPods, "", 10, "", [](json&&) {});
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error->status == 503);
  CHECK(Has(failed.error->message, "ServiceUnavailable (503): etcd down"));
  CHECK(always.sleeps.size() == 5);  // max_retries
  CHECK(always.sleeps.back() == milliseconds(4000));

  Harness not_found([](const SentRequest&) { return Json(404, StatusBody(404, "NotFound", "the server could not find")); });
  CHECK_FALSE(not_found.client->List(kPods, "", 10, "", [](json&&) {}).ok());
  CHECK(not_found.sleeps.empty());
}

TEST_CASE("a Retry-After beyond the deadline ends the call at once") {
  Harness h([](const SentRequest&) { return Json(429, StatusBody(429, "TooManyRequests", "x"), {{"retry-after", "3600"}}); });
  auto r = h.client->List(kPods, "", 10, "", [](json&&) {});
  REQUIRE_FALSE(r.ok());
  CHECK(Has(r.error->message, "TooManyRequests (429): x (still failing after 1 attempts"));
  CHECK(h.sleeps.empty());
}

TEST_CASE("transport failures: retried when it may help, never TLS verification") {
  int calls = 0;
  Harness h([&](const SentRequest&) -> KubeTransportResult {
    if (++calls < 3) return KubeTransportError{false, "cannot connect"};
    return Json(200, Page({}, ""));
  });
  CHECK(h.client->List(kPods, "", 1, "", [](json&&) {}).ok());
  CHECK(calls == 3);
  Harness tls([](const SentRequest&) -> KubeTransportResult {
    return KubeTransportError{false, "TLS certificate verification failed: self-signed certificate"};
  });
  auto r = tls.client->List(kPods, "", 1, "", [](json&&) {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error->message ==
        "list pods in all namespaces: API server https://api:6443: TLS certificate verification failed: self-signed certificate");
  CHECK(tls.sleeps.empty());
}

TEST_CASE("LIST pages: items streamed one by one, limit and continue sent") {
  Harness h([](const SentRequest& s) {
    if (Has(s.path, "continue=abc%3D")) return Json(200, Page({Pod("b", "3")}, ""));
    return Json(200, Page({Pod("a", "1"), Pod("a", "2")}, "abc="));
  });
  std::vector<std::string> seen;
  const auto take = [&](json&& item) { seen.push_back(ListKey(item)); };
  auto all = ListAll(*h.client, kPods, "", 2, take);
  CHECK_FALSE(all.error.has_value());
  CHECK(all.pages == 2);
  CHECK(all.items == 3);
  CHECK(seen == std::vector<std::string>{"a/1", "a/2", "b/3"});
  const auto sent = h.transport->sent();
  REQUIRE(sent.size() == 2);
  CHECK(sent[0].path == "/api/v1/pods?limit=2");
  CHECK(sent[1].path == "/api/v1/pods?limit=2&continue=abc%3D");
  CHECK(sent[0].token == "t");

  Harness bad([](const SentRequest&) { return Json(200, R"({"kind":"Status"})"); });
  auto r = ListAll(*bad.client, kPods, "x", 2, take);
  REQUIRE(r.error.has_value());
  CHECK(Has(r.error->message, "not a list"));
}

TEST_CASE("410 Gone on continue: the list restarts and skips what was already read") {
  int first_pages = 0;
  Harness h([&](const SentRequest& s) {
    if (Has(s.path, "continue=old")) return Json(410, StatusBody(410, "Expired", "The provided continue parameter is too old"));
    if (Has(s.path, "continue=new")) return Json(200, Page({Pod("b", "4"), Pod("c", "5")}, ""));
    if (first_pages++ == 0) return Json(200, Page({Pod("a", "1"), Pod("a", "2")}, "old"));
    // The fresh snapshot: a/0 appeared before the last key read (not reported), a/2 again.
    return Json(200, Page({Pod("a", "0"), Pod("a", "2"), Pod("ab", "3")}, "new"));
  });
  std::vector<std::string> seen;
  auto all = ListAll(*h.client, kPods, "", 2, [&](json&& item) { seen.push_back(ListKey(item)); });
  CHECK_FALSE(all.error.has_value());
  CHECK(all.restarts == 1);
  CHECK(seen == std::vector<std::string>{"a/1", "a/2", "ab/3", "b/4", "c/5"});
  REQUIRE(all.notes.size() == 1);
  CHECK(Has(all.notes[0], "list pods in all namespaces: the continue token expired (410 Gone) after 2 items"));

  Harness forever([&](const SentRequest& s) {
    if (Has(s.path, "continue=")) return Json(410, StatusBody(410, "Expired", "too old"));
    return Json(200, Page({Pod("a", "1")}, "tok"));
  });
  auto gave_up = ListAll(*forever.client, kPods, "", 1, [](json&&) {}, 2);
  REQUIRE(gave_up.error.has_value());
  CHECK(gave_up.error->status == 410);
  CHECK(gave_up.restarts == 2);
}

TEST_CASE("apply and delete") {
  Harness h([](const SentRequest& s) {
    if (s.method == "DELETE") return Json(404, StatusBody(404, "NotFound", "gone"));
    return Json(200, s.body);
  });
  auto applied = h.client->Apply("/apis/g/v1/namespaces/a/things/x", json{{"kind", "Thing"}}, "rootgate", "apply");
  CHECK(applied.ok());
  auto sent = h.transport->sent();
  CHECK(sent[0].method == "PATCH");
  CHECK(sent[0].path == "/apis/g/v1/namespaces/a/things/x?fieldManager=rootgate&force=true");
  CHECK(sent[0].content_type == "application/apply-patch+yaml");
  CHECK(h.client->Delete("/x", "delete").ok());  // 404: already gone
}

}  // namespace

namespace {

TEST_CASE("Create and Update: POST/PUT the object; 409 returned at once; 5xx not retried, 429 is") {
  int calls = 0;
  Harness h([&](const SentRequest& r) {
    ++calls;
    if (r.method == "POST") return KubeTransportResult(Json(409, StatusBody(409, "AlreadyExists", "leases \\\"x\\\" already exists")));
    if (calls == 2) return KubeTransportResult(Json(429, StatusBody(429, "TooManyRequests", "slow down"), {{"retry-after", "1"}}));
    return KubeTransportResult(Json(503, StatusBody(503, "ServiceUnavailable", "busy")));
  });
  auto created = h.client->Create("/apis/coordination.k8s.io/v1/namespaces/a/leases", json{{"kind", "Lease"}}, "create lease a/x");
  REQUIRE_FALSE(created.ok());
  CHECK(created.error->status == 409);
  CHECK(Has(created.error->message, "create lease a/x: AlreadyExists (409)"));
  CHECK(calls == 1);
  CHECK(h.transport->sent()[0].method == "POST");
  CHECK(h.transport->sent()[0].content_type == "application/json");
  CHECK(json::parse(h.transport->sent()[0].body)["kind"] == "Lease");
  // PUT: the 429 is retried (after Retry-After), the 503 is not (the update may have happened).
  auto updated = h.client->Update("/apis/coordination.k8s.io/v1/namespaces/a/leases/x", json::object(), "update lease a/x");
  REQUIRE_FALSE(updated.ok());
  CHECK(updated.error->status == 503);
  CHECK(calls == 3);
  CHECK(h.sleeps == std::vector<milliseconds>{milliseconds(1000)});
  CHECK(h.transport->sent()[2].method == "PUT");
}

TEST_CASE("rate limit and cancel: each exchange takes a token; a cancelled call stops before sending") {
  rootgate::server::ManualClock clock;
  auto bucket = std::make_shared<rootgate::server::TokenBucket>(2, 1, clock);
  std::vector<milliseconds> sleeps;
  bool cancel = false;
  int sent = 0;
  ClientConfig config;
  config.server = "https://api:6443";
  KubeClientOptions o;
  o.sleep = [&](milliseconds d) { sleeps.push_back(d); clock.Advance(d); };
  o.rate_limit = bucket;
  o.cancelled = [&] { return cancel; };
  KubeClient client(config, std::make_unique<FakeTransport>([&](const SentRequest&) { ++sent; return Json(200, "{}"); }),
                    std::make_unique<FixedCredentials>(std::vector<std::string>{"t"}), o);
  CHECK(client.Get("/api/v1/namespaces/a", "get a").ok());
  CHECK(client.Get("/api/v1/namespaces/a", "get a").ok());
  CHECK(sleeps == std::vector<milliseconds>{milliseconds(500)});  // 2 a second, burst 1
  cancel = true;
  auto r = client.Get("/api/v1/namespaces/a", "get a");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error->status == 0);
  CHECK(r.error->message == "get a: cancelled");
  CHECK(sent == 2);
}

}  // namespace
