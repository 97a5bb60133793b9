// ImageResolver with a scripted fetcher and a fake clock: cache hits and TTLs, singleflight
// under 100 concurrent callers, parallel fetches, deadlines, allow/deny, mirrors, overload,
// metrics; and how platform answers become one fact.
#include "server/registry/image_resolver.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <thread>

namespace {

using namespace rootgate::server;
using namespace std::chrono_literals;
using rootgate::policy::ImageFact;
using rootgate::policy::Policy;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

class FakeClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now() + offset.load(); }
  std::atomic<std::chrono::nanoseconds> offset{0ns};
};

// Answers from a table of users by reference; can block until released, or sleep.
class ScriptedFetcher final : public ImageUserFetcher {
 public:
  std::map<std::string, std::string> users;  // "repo@ref" → User
  std::map<std::string, int64_t> name_uids;  // "repo@ref name" → that name's uid in its passwd
  std::vector<std::string> names_seen;       // settings.user_name of each fetch
  std::atomic<int> calls{0};
  std::chrono::milliseconds sleep{0};
  std::vector<ImageLocation> seen;
  std::vector<std::vector<Platform>> platforms_seen;  // settings.platforms of each fetch
  bool partial_index = false;  // answer an index whose arm64 platform could not be read
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;

  Fetched<ImageUsers> Fetch(const ImageLocation& loc, const LookupSettings& settings, SteadyTime deadline) override {
    ++calls;
    {
      std::unique_lock<std::mutex> l(mu);
      seen.push_back(loc);
      platforms_seen.push_back(settings.platforms);
      names_seen.push_back(settings.user_name);
      cv.wait(l, [this] { return !hold; });
    }
    if (sleep.count() > 0) std::this_thread::sleep_until(std::min(std::chrono::steady_clock::now() + sleep, deadline));
    if (std::chrono::steady_clock::now() >= deadline) return LookupFailure(LookupError::Kind::kTimeout, "timed out");
    auto it = users.find(loc.repository + "@" + loc.reference);
    if (it == users.end()) return LookupFailure(LookupError::Kind::kNotFound, "manifest not found (404)");
    if (!settings.user_name.empty()) {
      PlatformUser u{"", settings.user_name, std::nullopt, "", {}, ""};
      if (auto n = name_uids.find(loc.repository + "@" + loc.reference + " " + settings.user_name); n != name_uids.end()) {
        u.name_uid = n->second;
      } else {
        u.passwd_note = "USER " + settings.user_name + " is not in the image's /etc/passwd";
      }
      return ImageUsers{"sha256:" + std::string(64, 'e'), {u}};
    }
    if (partial_index) {
      return ImageUsers{"d", {PlatformUser{"linux/amd64", it->second, std::nullopt, "", Platform{"linux", "amd64", ""}, ""},
                              PlatformUser{"linux/arm64", "", std::nullopt, "", Platform{"linux", "arm64", ""}, "timed out"}},
                        true};
    }
    return ImageUsers{"sha256:" + std::string(64, 'e'), {PlatformUser{"", it->second, std::nullopt, "", {}, ""}}};
  }
  void Release() {
    {
      std::lock_guard<std::mutex> l(mu);
      hold = false;
    }
    cv.notify_all();
  }
};

struct Rig {
  FakeClock clock;
  ScriptedFetcher* fetcher;
  std::unique_ptr<ImageResolver> resolver;
  Policy policy;

  explicit Rig(ResolverOptions o = {}) {
    auto f = std::make_unique<ScriptedFetcher>();
    fetcher = f.get();
    resolver = std::make_unique<ImageResolver>(std::move(f), clock, std::move(o));
  }
  ResolvedImages Resolve(const std::vector<std::string>& images, std::chrono::milliseconds budget = 5000ms) {
    return resolver->Resolve(images, policy, clock.Now() + budget);
  }
  ImageFact Fact(const ResolvedImages& r, const std::string& image) { return r.facts.Find(image).value(); }
};

const std::string kDigestRef = "ghcr.io/org/app@sha256:" + std::string(64, 'a');

TEST_CASE("ImageResolver: facts, cache hits, metrics") {
  Rig rig;
  rig.fetcher->users = {{"org/app@1.0", "1000"}, {"library/nginx@1.25", ""}};
  auto r = rig.Resolve({"ghcr.io/org/app:1.0", "nginx:1.25", "ghcr.io/org/app:1.0", "Bad Ref!"});
  const ImageFact app = rig.Fact(r, "ghcr.io/org/app:1.0");
  CHECK(app.known);
  CHECK(app.user == "1000");
  CHECK(app.source == "registry ghcr.io");
  CHECK(rig.Fact(r, "nginx:1.25").user == "");
  CHECK(rig.Fact(r, "nginx:1.25").source == "registry docker.io");
  CHECK_FALSE(r.facts.Find("Bad Ref!").has_value());  // invalid: the evaluator says so
  CHECK(rig.fetcher->calls == 2);
  CHECK(rig.fetcher->seen.size() == 2);
  bool hub = false;
  for (const auto& loc : rig.fetcher->seen) hub = hub || loc.host.host == "registry-1.docker.io";
  CHECK(hub);
  auto again = rig.Resolve({"ghcr.io/org/app:1.0"});
  CHECK(rig.Fact(again, "ghcr.io/org/app:1.0").user == "1000");
  CHECK(rig.fetcher->calls == 2);
  const RegistryMetrics& m = rig.resolver->metrics();
  CHECK(m.Lookups(LookupResult::kFetched) == 2);
  CHECK(m.Lookups(LookupResult::kCacheHit) == 1);
  CHECK(m.cache_entries.load() == 2);
  std::string text;
  RenderRegistryMetrics(m, &text);
  CHECK(Has(text, "rootgate_image_lookups_total{result=\"cache_hit\"} 1\n"));
  CHECK(Has(text, "rootgate_image_cache_entries 2\n"));
  CHECK(Has(text, "rootgate_registry_fetch_duration_seconds_count 2\n"));
}

TEST_CASE("ImageResolver: user-name queries beside images, cached per image and name") {
  Rig rig;
  rig.fetcher->users = {{"library/node@20", ""}};
  rig.fetcher->name_uids = {{"library/node@20 node", 1000}, {"library/node@20 toor", 0}};
  const std::vector<UserNameQuery> names = {{"node:20", "node"}, {"node:20", "toor"}, {"node:20", "ghost"},
                                            {"node:20", "node"}, {"Bad Ref!", "node"}};
  auto r = rig.resolver->Resolve({"node:20"}, names, rig.policy, rig.clock.Now() + 5s);
  CHECK(rig.Fact(r, "node:20").user == "");  // the image's own fact is separate
  const ImageFact node = r.facts.FindUserName("node:20", "node").value();
  CHECK(node.known);
  CHECK(node.user == "node");
  CHECK(node.name_uid == std::optional<int64_t>(1000));
  CHECK(r.facts.FindUserName("node:20", "toor").value().name_uid == std::optional<int64_t>(0));
  const ImageFact ghost = r.facts.FindUserName("node:20", "ghost").value();
  CHECK_FALSE(ghost.name_uid.has_value());
  CHECK(Has(ghost.name_note, "USER ghost is not in"));
  CHECK_FALSE(r.facts.FindUserName("Bad Ref!", "node").has_value());
  CHECK_FALSE(r.facts.Find("node:20").value().name_uid.has_value());
  CHECK(rig.fetcher->calls == 4);  // the image, and three distinct names
  auto again = rig.resolver->Resolve({}, {{"node:20", "node"}}, rig.policy, rig.clock.Now() + 5s);
  CHECK(again.facts.FindUserName("node:20", "node").value().name_uid == std::optional<int64_t>(1000));
  CHECK(rig.fetcher->calls == 4);  // from the cache
  // A registry the policy refuses: unknown with the reason.
  Policy only_ghcr;
  only_ghcr.registries.allow = {"ghcr.io"};
  auto refused = rig.resolver->Resolve({}, {{"node:20", "node"}}, only_ghcr, rig.clock.Now() + 5s);
  const ImageFact no = refused.facts.FindUserName("node:20", "node").value();
  CHECK_FALSE(no.known);
  CHECK(Has(no.reason, "registry docker.io: not looked up"));
}

TEST_CASE("ImageResolver: tags expire, digests stay, failures are short-lived") {
  ResolverOptions o;
  o.tag_ttl = 5min;
  o.failure_ttl = 30s;
  Rig rig(o);
  rig.fetcher->users = {{"org/app@1.0", "1000"}, {"org/app@sha256:" + std::string(64, 'a'), "0"}};
  rig.Resolve({"ghcr.io/org/app:1.0", kDigestRef, "ghcr.io/org/missing:1"});
  CHECK(rig.fetcher->calls == 3);
  rig.clock.offset = 29s;
  auto cached = rig.Resolve({"ghcr.io/org/app:1.0", kDigestRef, "ghcr.io/org/missing:1"});
  CHECK(rig.fetcher->calls == 3);
  CHECK(Has(rig.Fact(cached, "ghcr.io/org/missing:1").reason, "manifest not found (404) (cached)"));
  rig.clock.offset = 31s;  // the failure expired
  rig.Resolve({"ghcr.io/org/app:1.0", kDigestRef, "ghcr.io/org/missing:1"});
  CHECK(rig.fetcher->calls == 4);
  rig.clock.offset = 301s;  // the tag expired too; the digest never does
  rig.Resolve({"ghcr.io/org/app:1.0", kDigestRef});
  CHECK(rig.fetcher->calls == 5);
  rig.clock.offset = 100000s;
  auto digest = rig.Resolve({kDigestRef});
  CHECK(rig.fetcher->calls == 5);  // a digest reference is kept until evicted
  CHECK(rig.Fact(digest, kDigestRef).user == "0");
}

TEST_CASE("ImageResolver: an index with a platform that failed is kept only as long as a failure") {
  ResolverOptions o;
  o.failure_ttl = 30s;
  Rig rig(o);
  rig.fetcher->users = {{"org/app@sha256:" + std::string(64, 'a'), "1000"}};
  rig.fetcher->partial_index = true;
  auto r = rig.Resolve({kDigestRef});
  const ImageFact f = rig.Fact(r, kDigestRef);
  REQUIRE(f.platforms.size() == 2);
  CHECK(f.platforms[0].fact.user == "1000");
  CHECK_FALSE(f.platforms[1].fact.known);
  CHECK(f.platforms[1].fact.reason == "registry ghcr.io: timed out");
  rig.clock.offset = 29s;
  rig.Resolve({kDigestRef});
  CHECK(rig.fetcher->calls == 1);
  rig.clock.offset = 31s;  // a digest reference, yet asked again: one of its platforms failed
  rig.Resolve({kDigestRef});
  CHECK(rig.fetcher->calls == 2);
}

TEST_CASE("ImageResolver: the nodes' platforms come from --platform, else the policy's nodePlatforms") {
  {
    Rig rig;  // neither: every platform (an empty list)
    rig.fetcher->users = {{"org/app@1", "1000"}};
    rig.Resolve({"ghcr.io/org/app:1"});
    REQUIRE(rig.fetcher->platforms_seen.size() == 1);
    CHECK(rig.fetcher->platforms_seen[0].empty());
    rig.policy.node_platforms = {Platform{"linux", "arm64", ""}};
    rig.Resolve({"ghcr.io/org/app:1"});  // another fingerprint: not the cached answer
    REQUIRE(rig.fetcher->platforms_seen.size() == 2);
    CHECK(rig.fetcher->platforms_seen[1] == std::vector<Platform>{{"linux", "arm64", ""}});
  }
  ResolverOptions o;
  o.platforms = {Platform{"linux", "amd64", ""}};
  Rig rig(o);
  rig.fetcher->users = {{"org/app@1", "1000"}};
  rig.policy.node_platforms = {Platform{"linux", "arm64", ""}};
  rig.Resolve({"ghcr.io/org/app:1"});
  REQUIRE(rig.fetcher->platforms_seen.size() == 1);
  CHECK(rig.fetcher->platforms_seen[0] == std::vector<Platform>{{"linux", "amd64", ""}});
}

TEST_CASE("ImageResolver: 100 concurrent lookups of one image share one fetch") {
  Rig rig;
  rig.fetcher->users = {{"org/app@1.0", "1000"}};
  rig.fetcher->hold = true;
  std::vector<std::thread> threads;
  std::atomic<int> known{0};
  for (int i = 0; i < 100; ++i) {
    threads.emplace_back([&] {
      auto r = rig.Resolve({"ghcr.io/org/app:1.0"});
      known += r.facts.Find("ghcr.io/org/app:1.0")->known;
    });
  }
  while (rig.resolver->metrics().coalesced.load() < 99) std::this_thread::sleep_for(1ms);
  rig.fetcher->Release();
  for (auto& t : threads) t.join();
  CHECK(rig.fetcher->calls == 1);
  CHECK(known == 100);
  CHECK(rig.resolver->metrics().coalesced.load() == 99);
}

TEST_CASE("ImageResolver: the images of one request are fetched in parallel") {
  Rig rig;
  rig.fetcher->users = {{"org/a@1", "1"}, {"org/b@1", "2"}, {"org/c@1", "3"}, {"org/d@1", "4"}};
  rig.fetcher->sleep = 300ms;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = rig.Resolve({"ghcr.io/org/a:1", "ghcr.io/org/b:1", "ghcr.io/org/c:1", "ghcr.io/org/d:1"});
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took < 900ms);  // one after another would be 1.2 s
  CHECK(rig.Fact(r, "ghcr.io/org/d:1").user == "4");
}

TEST_CASE("ImageResolver: the deadline bounds the wait") {
  ResolverOptions o;
  o.failure_ttl = 0s;
  Rig rig(o);
  rig.fetcher->users = {{"org/slow@1", "1000"}};
  rig.fetcher->sleep = 3000ms;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = rig.Resolve({"ghcr.io/org/slow:1"}, 250ms);
  const auto took = std::chrono::steady_clock::now() - t0;
  CHECK(took < 400ms);
  const ImageFact f = rig.Fact(r, "ghcr.io/org/slow:1");
  CHECK_FALSE(f.known);
  CHECK_MESSAGE(Has(f.reason, "registry ghcr.io: timed out after 2"), f.reason);  // ~250ms
  CHECK(r.timed_out == std::vector<std::string>{"ghcr.io/org/slow:1"});
  CHECK(rig.resolver->metrics().Lookups(LookupResult::kTimeout) == 1);
}

TEST_CASE("ImageResolver: a background budget lets a slow fetch fill the cache") {
  ResolverOptions o;
  o.background_budget = 2s;
  Rig rig(o);
  rig.fetcher->users = {{"org/slow@1", "1000"}};
  rig.fetcher->sleep = 300ms;
  auto first = rig.Resolve({"ghcr.io/org/slow:1"}, 50ms);
  CHECK_FALSE(rig.Fact(first, "ghcr.io/org/slow:1").known);
  std::this_thread::sleep_for(400ms);
  auto second = rig.Resolve({"ghcr.io/org/slow:1"}, 50ms);
  CHECK(rig.Fact(second, "ghcr.io/org/slow:1").user == "1000");
  CHECK(rig.fetcher->calls == 1);
}

TEST_CASE("ImageResolver: allow and deny lists, flags, mirrors, insecure") {
  ResolverOptions o;
  o.allow_flags = {"127.0.0.1:5000"};
  o.insecure_flags = {"127.0.0.1:5000", "mirror.example"};
  Rig rig(o);
  rig.policy.registries.allow = {"docker.io", "ghcr.io"};
  rig.policy.registries.deny = {"ghcr.io"};
  rig.policy.registries.mirrors = {{"docker.io", "mirror.example/hub"}};
  rig.fetcher->users = {{"hub/library/nginx@1.25", "101"}, {"app@1", "7"}};
  auto r = rig.Resolve({"nginx:1.25", "ghcr.io/org/app:1", "quay.io/org/app:1", "127.0.0.1:5000/app:1"});
  CHECK(Has(rig.Fact(r, "ghcr.io/org/app:1").reason, "registry ghcr.io: not looked up, denied by registries.deny"));
  CHECK(Has(rig.Fact(r, "quay.io/org/app:1").reason, "not in registries.allow or --allow-registry"));
  const ImageFact nginx = rig.Fact(r, "nginx:1.25");
  CHECK(nginx.user == "101");
  CHECK(nginx.source == "registry docker.io via mirror.example");
  CHECK(rig.Fact(r, "127.0.0.1:5000/app:1").user == "7");
  REQUIRE(rig.fetcher->seen.size() == 2);
  for (const ImageLocation& loc : rig.fetcher->seen) {
    CHECK(loc.insecure);
    if (loc.registry == "docker.io") {
      CHECK(loc.host.String() == "mirror.example");
      CHECK(loc.host.port == 80);
      CHECK(loc.repository == "hub/library/nginx");
    }
  }
  CHECK(rig.resolver->metrics().Lookups(LookupResult::kRefused) == 2);
}

TEST_CASE("ImageResolver: a digest rootgate cannot verify is not looked up") {
  Rig rig;
  const std::string sha512 = "ghcr.io/org/app@sha512:" + std::string(128, 'b');
  auto r = rig.Resolve({sha512});
  CHECK(Has(rig.Fact(r, sha512).reason, "only sha256 digest references can be verified"));
  CHECK(rig.fetcher->calls == 0);
}

TEST_CASE("ImageResolver: LRU bound and overload") {
  ResolverOptions o;
  o.cache_entries = 2;
  Rig rig(o);
  rig.fetcher->users = {{"org/a@1", "1"}, {"org/b@1", "2"}, {"org/c@1", "3"}};
  rig.Resolve({"ghcr.io/org/a:1", "ghcr.io/org/b:1", "ghcr.io/org/c:1"});
  CHECK(rig.resolver->cache_size() == 2);
  ResolverOptions tight;
  tight.workers = 1;
  tight.max_pending = 1;
  Rig busy(tight);
  busy.fetcher->users = {{"org/a@1", "1"}, {"org/b@1", "2"}, {"org/c@1", "3"}};
  busy.fetcher->hold = true;
  std::thread first([&] { busy.Resolve({"ghcr.io/org/a:1"}, 2000ms); });
  while (busy.fetcher->calls.load() < 1) std::this_thread::sleep_for(1ms);  // a is running
  auto r = busy.Resolve({"ghcr.io/org/b:1", "ghcr.io/org/c:1"}, 100ms);  // b queued, c refused
  CHECK(Has(busy.Fact(r, "ghcr.io/org/c:1").reason, "too many registry lookups in flight"));
  CHECK(busy.resolver->metrics().Lookups(LookupResult::kOverloaded) == 1);
  busy.fetcher->Release();
  first.join();
}

TEST_CASE("FactFromUsers: a single image is one fact; an index one fact per platform") {
  ImageUsers one{"d", {PlatformUser{"", "app", 1000, "", {}, ""}}};
  ImageFact f = FactFromUsers(one, "ghcr.io");
  CHECK(f.known);
  CHECK(f.user == "app");
  CHECK(f.name_uid == std::optional<int64_t>(1000));
  CHECK(f.source == "registry ghcr.io; uid 1000 in its /etc/passwd");
  CHECK(f.platforms.empty());
  PlatformUser amd{"linux/amd64", "1000", std::nullopt, "", Platform{"linux", "amd64", ""}, ""};
  PlatformUser arm{"linux/arm64", "", std::nullopt, "", Platform{"linux", "arm64", ""}, ""};
  PlatformUser broken{"linux/s390x", "", std::nullopt, "", Platform{"linux", "s390x", ""}, "manifest not found (404)"};
  ImageUsers index{"d", {amd, arm, broken}, true};
  f = FactFromUsers(index, "r");
  CHECK_FALSE(f.known);  // judged per pod, never as a whole
  CHECK(f.source == "registry r");
  REQUIRE(f.platforms.size() == 3);
  CHECK(f.platforms[0].platform == Platform{"linux", "amd64", ""});
  CHECK(f.platforms[0].fact.known);
  CHECK(f.platforms[0].fact.user == "1000");
  CHECK(f.platforms[1].fact.user == "");
  CHECK(f.platforms[1].fact.source == "registry r");
  CHECK_FALSE(f.platforms[2].fact.known);
  CHECK(f.platforms[2].fact.reason == "registry r: manifest not found (404)");
}

}  // namespace
