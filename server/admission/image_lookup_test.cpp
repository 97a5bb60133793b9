// DecidePlanWithLookups and ReviewBodyWithResolver: verdicts from looked-up users, no lookups
// when nothing would read them (exempt namespace, pss-restricted, runAsUser set), and onTimeout.
#include "server/admission/image_lookup.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

namespace {

using namespace rootgate::server;
using namespace std::chrono_literals;
namespace policy = rootgate::policy;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class TableFetcher final : public ImageUserFetcher {
 public:
  std::map<std::string, std::string> users;  // "repo@ref" → User
  std::atomic<int> calls{0};
  std::chrono::milliseconds sleep{0};
  Fetched<ImageUsers> Fetch(const ImageLocation& loc, const LookupSettings&, SteadyTime deadline) override {
    ++calls;
    if (sleep.count() > 0) std::this_thread::sleep_until(std::min(std::chrono::steady_clock::now() + sleep, deadline));
    if (std::chrono::steady_clock::now() >= deadline) return LookupFailure(LookupError::Kind::kTimeout, "timed out");
    auto it = users.find(loc.repository + "@" + loc.reference);
    if (it == users.end()) return LookupFailure(LookupError::Kind::kNotFound, "manifest not found (404)");
    return ImageUsers{"d", {PlatformUser{"", it->second, std::nullopt, "", {}, ""}}};
  }
};

struct Rig {
  SteadyClock clock;
  TableFetcher* fetcher;
  std::unique_ptr<ImageResolver> resolver;
  Rig() {
    auto f = std::make_unique<TableFetcher>();
    fetcher = f.get();
    f->users = {{"org/root@1", ""}, {"org/app@1", "1000"}, {"org/slow@1", "1000"}};
    ResolverOptions o;
    o.failure_ttl = 0s;
    resolver = std::make_unique<ImageResolver>(std::move(f), clock, o);
  }
  policy::Decision Decide(const policy::Request& req, const policy::Policy& p, std::chrono::milliseconds budget = 5000ms) {
    const policy::Plan plan = policy::PlanRequest(req, p);
    return DecidePlanWithLookups(plan, req, p, *resolver, clock.Now() + budget, clock);
  }
};

policy::Request PodCreate(const std::string& image, const std::string& ns = "demo",
                          nlohmann::json security = nullptr) {
  policy::Request r;
  r.uid = "u1";
  r.kind = {"", "v1", "Pod"};
  r.resource = {"", "v1", "pods"};
  r.operation = "CREATE";
  r.namespace_name = ns;
  nlohmann::json container = {{"name", "web"}, {"image", image}};
  if (!security.is_null()) container["securityContext"] = security;
  r.object = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}, {"namespace", ns}}},
              {"spec", {{"containers", nlohmann::json::array({container})}}}};
  return r;
}

std::string Rules(const std::vector<policy::Finding>& fs) {
  std::string s;
  for (const auto& f : fs) s += (s.empty() ? "" : ",") + std::string(policy::RuleName(f.rule));
  return s;
}

TEST_CASE("DecidePlanWithLookups: verdicts from the registry's answer") {
  Rig rig;
  const policy::Policy p;
  policy::Decision root = rig.Decide(PodCreate("ghcr.io/org/root:1"), p);
  CHECK_FALSE(root.allowed);
  CHECK(Rules(root.violations) == "rootUser");
  CHECK(Has(root.violations[0].message, "image ghcr.io/org/root:1 has no USER (registry ghcr.io)"));
  CHECK(rig.Decide(PodCreate("ghcr.io/org/app:1"), p).allowed);
  policy::Decision missing = rig.Decide(PodCreate("ghcr.io/org/none:1"), p);
  CHECK(Rules(missing.violations) == "unknownUser");
  CHECK(Has(missing.violations[0].message, "registry ghcr.io: manifest not found (404)"));
}

TEST_CASE("DecidePlanWithLookups: no lookups when nothing reads the image user") {
  Rig rig;
  policy::Policy exempt;
  exempt.exemptions.namespaces = {"kube-system"};
  CHECK(rig.Decide(PodCreate("ghcr.io/org/root:1", "kube-system"), exempt).allowed);
  policy::Policy pss;
  pss.preset = policy::Preset::kPssRestricted;
  pss.rules = policy::PresetRules(pss.preset);
  rig.Decide(PodCreate("ghcr.io/org/root:1"), pss);
  CHECK(rig.Decide(PodCreate("ghcr.io/org/root:1", "demo", {{"runAsUser", 1000}}), policy::Policy{}).allowed);
  CHECK(rig.fetcher->calls == 0);
}

TEST_CASE("DecidePlanWithLookups: onTimeout deny and allow") {
  Rig rig;
  rig.fetcher->sleep = 2000ms;
  policy::Policy deny;
  policy::Decision d = rig.Decide(PodCreate("ghcr.io/org/slow:1"), deny, 200ms);
  CHECK_FALSE(d.allowed);
  CHECK(Rules(d.violations) == "unknownUser");
  CHECK(Has(d.violations[0].message, "registry ghcr.io: timed out after"));
  policy::Policy allow;
  allow.on_timeout = policy::OnTimeout::kAllowWithWarning;
  policy::Decision a = rig.Decide(PodCreate("ghcr.io/org/slow:1"), allow, 200ms);
  CHECK(a.allowed);
  CHECK(Rules(a.warnings) == "unknownUser");
  CHECK(Has(a.warnings[0].message, "onTimeout: allow"));
  // A root image whose lookup succeeded is still denied under onTimeout: allow.
  rig.fetcher->sleep = 0ms;
  CHECK_FALSE(rig.Decide(PodCreate("ghcr.io/org/root:1"), allow).allowed);
}

TEST_CASE("ReviewBodyWithResolver: the AdmissionReview reply") {
  Rig rig;
  nlohmann::json review = {{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"},
                           {"request", {{"uid", "abc"}, {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                                        {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                                        {"operation", "CREATE"}, {"namespace", "demo"},
                                        {"userInfo", {{"username", "alice"}}},
                                        {"object", PodCreate("ghcr.io/org/root:1").object}}}};
  auto reply = ReviewBodyWithResolver(review.dump(), policy::Policy{}, *rig.resolver,
                                      rig.clock.Now() + 5s, rig.clock);
  REQUIRE(reply.ok());
  CHECK(reply.value()["response"]["uid"] == "abc");
  CHECK(reply.value()["response"]["allowed"] == false);
  CHECK(Has(reply.value()["response"]["status"]["message"].get<std::string>(), "[rootUser]"));
  CHECK_FALSE(ReviewBodyWithResolver("{", policy::Policy{}, *rig.resolver, rig.clock.Now() + 5s, rig.clock).ok());
}

}  // namespace
