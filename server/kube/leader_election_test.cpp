// Leader election against an in-memory Lease API (GET, POST with AlreadyExists, PUT with
// resourceVersion conflicts) and a fake clock: acquire, renew, takeover only after the lease
// duration has passed on the candidate's own clock since it observed the record, a lost
// conflict, release, and step-down after the renew deadline. Expected behaviour from client-go
// tools/leaderelection (tryAcquireOrRenew, renew, release) and the issue.
#include "server/kube/leader_election.h"

#include <doctest/doctest.h>

#include "server/kube/kube_test_support.h"

namespace {

using namespace rootgate::server::kube;
using namespace rootgate::server::kube::testing;
using rootgate::server::ManualClock;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kPath = "/apis/coordination.k8s.io/v1/namespaces/rg/leases/rootgate-audit";
constexpr const char* kCollection = "/apis/coordination.k8s.io/v1/namespaces/rg/leases";

// The API server's side of one Lease: resourceVersion checks as the real one does them.
struct LeaseStore {
  std::mutex mu;
  json lease;  // null: none
  int rv = 0;
  bool down = false;          // every request fails with 503
  int conflict_next_put = 0;  // answer the next N PUTs with 409 (someone else wrote)
  std::vector<std::string> writes;  // "POST holder", "PUT holder"

  KubeTransportResult Handle(const SentRequest& r) {
    std::lock_guard<std::mutex> lock(mu);
    if (down) return Json(503, StatusBody(503, "ServiceUnavailable", "etcd is down"));
    if (r.method == "GET" && r.path == kPath) {
      if (lease.is_null()) return Json(404, StatusBody(404, "NotFound", "leases \\\"rootgate-audit\\\" not found"));
      return Json(200, lease.dump());
    }
    if (r.method == "POST" && r.path == kCollection) {
      if (!lease.is_null()) return Json(409, StatusBody(409, "AlreadyExists", "leases \\\"rootgate-audit\\\" already exists"));
      lease = json::parse(r.body);
      lease["metadata"]["resourceVersion"] = std::to_string(++rv);
      writes.push_back("POST " + lease["spec"].value("holderIdentity", ""));
      return Json(201, lease.dump());
    }
    if (r.method == "PUT" && r.path == kPath) {
      json sent = json::parse(r.body);
      if (conflict_next_put > 0 || lease.is_null() ||
          sent["metadata"].value("resourceVersion", "") != lease["metadata"].value("resourceVersion", "")) {
        if (conflict_next_put > 0) --conflict_next_put;
        return Json(409, StatusBody(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again"));
      }
      lease = sent;
      lease["metadata"]["resourceVersion"] = std::to_string(++rv);
      writes.push_back("PUT " + lease["spec"].value("holderIdentity", ""));
      return Json(200, lease.dump());
    }
    return Json(404, StatusBody(404, "NotFound", "no such path"));
  }
  std::string Holder() {
    std::lock_guard<std::mutex> lock(mu);
    return lease.is_null() ? "" : lease["spec"].value("holderIdentity", "");
  }
  json Spec() {
    std::lock_guard<std::mutex> lock(mu);
    return lease.is_null() ? json() : lease["spec"];
  }
};

// One candidate: its own client (no retry sleeps), its own clock, one shared store.
struct Candidate {
  Candidate(LeaseStore& store, const std::string& id) {
    ClientConfig config;
    config.server = "https://api:6443";
    KubeClientOptions o;
    o.sleep = [](std::chrono::milliseconds) {};
    o.max_retries = 0;
    client = std::make_unique<KubeClient>(
        config, std::make_unique<FakeTransport>([&store](const SentRequest& r) { return store.Handle(r); }),
        std::make_unique<FixedCredentials>(std::vector<std::string>{"t"}), o);
    LeaderElectionConfig c;
    c.namespace_name = "rg";
    c.identity = id;
    // Wall time moves with this candidate's clock, from 2025-12-03T15:24:05.123456Z.
    const auto start = clock.Now();
    elector = std::make_unique<LeaderElector>(*client, c, clock, [this, start] {
      return std::chrono::system_clock::time_point(1764775445123456us) +
             std::chrono::duration_cast<std::chrono::microseconds>(clock.Now() - start);
    });
    elector->set_on_change([this](bool leading) { changes.push_back(leading); });
    elector->set_on_error([this](const std::string& e) { errors.push_back(e); });
  }
  ManualClock clock;
  std::unique_ptr<KubeClient> client;
  std::unique_ptr<LeaderElector> elector;
  std::vector<bool> changes;
  std::vector<std::string> errors;
};

TEST_CASE("leader election: MicroTime is RFC 3339 with microseconds, UTC") {
  CHECK(MicroTime(std::chrono::system_clock::time_point(1764775445123456us)) == "2025-12-03T15:24:05.123456Z");
  CHECK(MicroTime(std::chrono::system_clock::time_point(0us)) == "1970-01-01T00:00:00.000000Z");
}

TEST_CASE("leader election: the first candidate creates the Lease and leads; the second waits") {
  LeaseStore store;
  Candidate a(store, "a"), b(store, "b");
  CHECK(a.elector->Step() == 2s);  // the leader renews every retry period
  CHECK(a.elector->IsLeader());
  CHECK(a.changes == std::vector<bool>{true});
  const json spec = store.Spec();
  CHECK(spec["holderIdentity"] == "a");
  CHECK(spec["leaseDurationSeconds"] == 15);
  CHECK(spec["leaseTransitions"] == 0);
  CHECK(spec["acquireTime"] == "2025-12-03T15:24:05.123456Z");
  CHECK(spec["renewTime"] == "2025-12-03T15:24:05.123456Z");

  const auto wait = b.elector->Step();
  CHECK_FALSE(b.elector->IsLeader());
  CHECK(wait >= 2s);  // a candidate retries after 2 s plus up to 1.2 × 2 s of jitter
  CHECK(wait <= 4400ms);
  CHECK(store.Holder() == "a");
  CHECK(store.writes == std::vector<std::string>{"POST a"});  // b did not write
}

TEST_CASE("leader election: renewal keeps acquireTime and transitions, writes with the read resourceVersion") {
  LeaseStore store;
  Candidate a(store, "a");
  a.elector->Step();
  const json first = store.Spec();
  a.clock.Advance(2s);
  a.elector->Step();
  CHECK(a.elector->IsLeader());
  CHECK(store.writes == std::vector<std::string>{"POST a", "PUT a"});
  CHECK(store.Spec()["acquireTime"] == first["acquireTime"]);
  CHECK(store.Spec()["leaseTransitions"] == 0);
  CHECK(a.changes == std::vector<bool>{true});  // no flapping
}

TEST_CASE("leader election: takeover only after the lease duration on OUR clock since we saw the record") {
  LeaseStore store;
  Candidate a(store, "a"), b(store, "b");
  a.elector->Step();  // a leads, then dies (never renews again)
  // b first sees a's record now. renewTime in the record is irrelevant: only b's clock counts.
  CHECK_FALSE(b.elector->TryAcquireOrRenew());
  b.clock.Advance(14s);
  CHECK_FALSE(b.elector->TryAcquireOrRenew());  // 14 s < 15 s
  CHECK(store.Holder() == "a");
  b.clock.Advance(1s);  // 15 s since b observed the record unchanged
  CHECK(b.elector->TryAcquireOrRenew());
  CHECK(store.Holder() == "b");
  CHECK(store.Spec()["leaseTransitions"] == 1);
}

TEST_CASE("leader election: a record that keeps changing is never taken over") {
  LeaseStore store;
  Candidate a(store, "a"), b(store, "b");
  a.elector->Step();
  CHECK_FALSE(b.elector->TryAcquireOrRenew());
  for (int i = 0; i < 20; ++i) {  // 40 s of b's time, a renewing every 2 s
    a.clock.Advance(2s);
    b.clock.Advance(2s);
    a.elector->Step();  // a new renewTime each time
    b.elector->Step();
    CHECK_FALSE(b.elector->IsLeader());
  }
  CHECK(a.elector->IsLeader());
  CHECK(store.Holder() == "a");
}

TEST_CASE("leader election: a 409 Conflict loses the round without retrying") {
  LeaseStore store;
  Candidate a(store, "a"), b(store, "b");
  a.elector->Step();
  a.clock.Advance(2s);
  store.conflict_next_put = 1;  // b (or anyone) wrote between a's GET and PUT
  CHECK_FALSE(a.elector->TryAcquireOrRenew());
  REQUIRE(a.errors.size() == 1);
  CHECK(a.errors[0].find("Conflict (409)") != std::string::npos);
  // One PUT attempt only: a conflict is an answer, not a failure to retry.
  size_t puts = 0;
  for (const auto& w : store.writes) puts += w.starts_with("PUT");
  CHECK(puts == 0);
  // The create race: b finds no Lease, a creates it first → b's POST gets 409 AlreadyExists.
  LeaseStore fresh;
  Candidate c(fresh, "c");
  fresh.lease = json{{"metadata", {{"resourceVersion", "9"}}}, {"spec", {{"holderIdentity", "d"}, {"leaseDurationSeconds", 15}}}};
  CHECK_FALSE(c.elector->TryAcquireOrRenew());  // held by d, not expired
  CHECK(fresh.writes.empty());
}

TEST_CASE("leader election: release hands over at once") {
  LeaseStore store;
  Candidate a(store, "a"), b(store, "b");
  a.elector->Step();
  CHECK_FALSE(b.elector->TryAcquireOrRenew());
  CHECK(a.elector->Release());
  CHECK_FALSE(a.elector->IsLeader());
  CHECK(a.changes == std::vector<bool>{true, false});
  const json spec = store.Spec();
  CHECK(spec["holderIdentity"] == "");
  CHECK(spec["leaseDurationSeconds"] == 1);
  CHECK(spec["leaseTransitions"] == 0);
  // b takes over on its next try, with no time passed on its clock.
  CHECK(b.elector->TryAcquireOrRenew());
  CHECK(store.Holder() == "b");
  CHECK(store.Spec()["leaseTransitions"] == 1);
  // Releasing what one does not hold writes nothing.
  const size_t writes = store.writes.size();
  CHECK(a.elector->Release());
  CHECK(store.writes.size() == writes);
}

TEST_CASE("leader election: step down when renewals fail past the renew deadline") {
  LeaseStore store;
  Candidate a(store, "a");
  a.elector->Step();
  REQUIRE(a.elector->IsLeader());
  store.down = true;
  for (int i = 1; i <= 4; ++i) {  // 2, 4, 6, 8 s without a renewal: still leading
    a.clock.Advance(2s);
    a.elector->Step();
    CHECK(a.elector->IsLeader());
  }
  a.clock.Advance(2s);  // 10 s = the renew deadline
  a.elector->Step();
  CHECK_FALSE(a.elector->IsLeader());
  CHECK(a.changes == std::vector<bool>{true, false});
  CHECK(a.errors.size() == 5);
  CHECK(a.errors.back().find("ServiceUnavailable (503)") != std::string::npos);
  // When the API comes back a takes it again (it is still the holder in the record).
  store.down = false;
  a.clock.Advance(2s);
  a.elector->Step();
  CHECK(a.elector->IsLeader());
}

TEST_CASE("leader election: a leader that sees another holder steps down at once") {
  LeaseStore store;
  Candidate a(store, "a");
  a.elector->Step();
  {
    std::lock_guard<std::mutex> lock(store.mu);
    store.lease["spec"]["holderIdentity"] = "intruder";
    store.lease["metadata"]["resourceVersion"] = std::to_string(++store.rv);
  }
  a.clock.Advance(2s);
  a.elector->Step();
  CHECK_FALSE(a.elector->IsLeader());
  CHECK(store.Holder() == "intruder");
}

TEST_CASE("leader election: Run leads until Stop, then releases") {
  LeaseStore store;
  Candidate a(store, "a");
  std::thread t([&] { a.elector->Run(); });
  for (int i = 0; i < 500 && !a.elector->IsLeader(); ++i) std::this_thread::sleep_for(2ms);
  CHECK(a.elector->IsLeader());
  a.elector->Stop();
  t.join();
  CHECK(store.Holder() == "");
  CHECK_FALSE(a.elector->IsLeader());
}

}  // namespace
