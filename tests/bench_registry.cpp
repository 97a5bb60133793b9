// rootgate_registry_bench: figures for registry lookups against a live registry (the loopback
// docker-registry of tests/registry_test.sh), printed, not asserted:
//   1. coalescing: N threads look up one uncached image at the same moment; the registry should
//      see one manifest fetch (the test script counts it in the registry's access log);
//   2. the decision latency of a Pod CREATE with its image cached, against the same decision
//      with the image user given statically: what the lookup path adds;
//   3. uncached lookups: the cache cleared before each;
//   4. with --named-image REF (repeatable): uncached lookups of an image with a named USER under
//      namedUsers: resolve (layers read top first until /etc/passwd) against the same lookups
//      under namedUsers: assume (manifest and config only), as medians and their ratio. The
//      layer bytes read are counted by the test script in the registry's access log.
//   5. multi-platform images (--index REF, repeatable: e.g. a 2- and a 6-platform index): the
//      decision cold (nothing cached), with only the index fetched again (its platform manifests
//      cached by digest, as after a tag's TTL), and cached, each against the single-platform
//      --image; the cached ratio is what issue 19 bounds (within 2x).
// usage: rootgate_registry_bench --image REF [--single REF] [--index REF]... [--named-image REF]... [--concurrency N]
//        [--iterations N] [registry flags]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include "policy/admission.h"
#include "server/admission/image_lookup.h"
#include "server/registry/registry_options.h"

namespace {

using namespace rootgate;
using Ns = std::chrono::nanoseconds;

policy::Request PodCreate(const std::string& image) {
  policy::Request r;
  r.uid = "bench";
  r.kind = {"", "v1", "Pod"};
  r.resource = {"", "v1", "pods"};
  r.operation = "CREATE";
  r.namespace_name = "demo";
  r.object = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}, {"namespace", "demo"}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", image}}}}}}};
  return r;
}

template <typename F>
Ns Median(int iterations, F&& f) {
  std::vector<Ns> times;
  times.reserve(iterations);
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::steady_clock::now() - t0);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

uint64_t FetchCount(const server::RegistryMetrics& m) {
  uint64_t n = 0;
  for (const auto& bucket : m.fetch_buckets) n += bucket.load();
  return n;
}

void Coalescing(server::ImageResolver& resolver, const std::string& image, int threads) {
  const policy::Policy policy;
  std::atomic<int> ready{0}, known{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&] {
      ++ready;
      while (!go.load()) std::this_thread::yield();
      auto r = resolver.Resolve({image}, policy, std::chrono::steady_clock::now() + std::chrono::seconds(10));
      known += r.facts.Find(image).value_or(policy::ImageFact{}).known;
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  go = true;
  for (auto& t : pool) t.join();
  const auto& m = resolver.metrics();
  std::printf("coalescing: %d concurrent lookups of %s (cold cache): %llu registry fetch(es), "
              "%llu coalesced, %d answered\n",
              threads, image.c_str(),
              static_cast<unsigned long long>(FetchCount(m)),
              static_cast<unsigned long long>(m.coalesced.load()), known.load());
}

void Latency(server::ImageResolver& resolver, const std::string& image, int iterations) {
  const server::SteadyClock clock;
  const policy::Policy policy;
  const policy::Request req = PodCreate(image);
  const policy::Plan plan = policy::PlanRequest(req, policy);
  policy::ImageFactMap static_facts;
  static_facts.Set(image, policy::ImageFact{true, "1000", "static", ""});
  volatile bool sink = false;
  const Ns base = Median(iterations, [&] { sink = policy::DecidePlan(plan, req, static_facts, policy).allowed; });
  const Ns cached = Median(iterations, [&] {
    sink = server::DecidePlanWithLookups(plan, req, policy, resolver, clock.Now() + std::chrono::seconds(10), clock).allowed;
  });
  std::printf("decision, image cached: %.2f us median (static facts: %.2f us): the lookup adds %.2f us\n",
              cached.count() / 1e3, base.count() / 1e3, (cached - base).count() / 1e3);
  const int uncached_runs = std::max(5, iterations / 1000);
  const Ns uncached = Median(uncached_runs, [&] {
    resolver.ClearCache();
    sink = server::DecidePlanWithLookups(plan, req, policy, resolver, clock.Now() + std::chrono::seconds(10), clock).allowed;
  });
  std::printf("decision, image not cached (loopback registry): %.3f ms median over %d\n",
              uncached.count() / 1e6, uncached_runs);
  (void)sink;
}

void NamedUserFigures(server::ImageResolver& resolver, const std::string& image, int runs) {
  policy::Policy resolve, assume;
  resolve.named_users = policy::NamedUsers::kResolve;
  assume.named_users = policy::NamedUsers::kAssume;
  std::string answer;
  auto lookup = [&](const policy::Policy& p) {
    resolver.ClearCache(true);
    auto r = resolver.Resolve({image}, p, std::chrono::steady_clock::now() + std::chrono::seconds(30));
    const policy::ImageFact f = r.facts.Find(image).value_or(policy::ImageFact{});
    answer = !f.known ? "unknown: " + f.reason
             : f.name_uid ? "uid " + std::to_string(*f.name_uid)
                          : "unresolved: " + f.name_note;
  };
  const Ns with = Median(runs, [&] { lookup(resolve); });
  const std::string resolved = answer;
  const Ns without = Median(runs, [&] { lookup(assume); });
  std::printf("named user, %s: %.2f ms median over %d uncached lookups resolving /etc/passwd (%s), "
              "%.2f ms without (namedUsers: assume): %.1fx\n",
              image.c_str(), with.count() / 1e6, runs, resolved.c_str(), without.count() / 1e6,
              static_cast<double>(with.count()) / static_cast<double>(std::max<int64_t>(1, without.count())));
}

// What one decision on a Pod running `image` costs: cached, cold, and with the index fetched
// again while its platform manifests stay cached by digest.
struct Costs {
  Ns cached, cold, refetch;
};

Costs Measure(server::ImageResolver& resolver, const std::string& image, int iterations) {
  const server::SteadyClock clock;
  const policy::Policy policy;
  const policy::Request req = PodCreate(image);
  const policy::Plan plan = policy::PlanRequest(req, policy);
  volatile bool sink = false;
  auto decide = [&] {
    sink = server::DecidePlanWithLookups(plan, req, policy, resolver, clock.Now() + std::chrono::seconds(10), clock).allowed;
  };
  decide();  // fill the cache
  Costs c;
  c.cached = Median(iterations, decide);
  const int runs = std::max(5, iterations / 1000);
  c.cold = Median(runs, [&] {
    resolver.ClearCache(true);
    decide();
  });
  c.refetch = Median(runs, [&] {
    resolver.ClearCache(false);
    decide();
  });
  (void)sink;
  return c;
}

void MultiPlatform(server::ImageResolver& resolver, const std::string& single,
                   const std::vector<std::string>& indexes, int iterations) {
  const Costs base = Measure(resolver, single, iterations);
  std::printf("multi-platform: single-platform %s: cached %.2f us, cold %.3f ms\n", single.c_str(),
              base.cached.count() / 1e3, base.cold.count() / 1e6);
  for (const std::string& index : indexes) {
    const Costs c = Measure(resolver, index, iterations);
    std::printf("multi-platform: %s: cached %.2f us (%.2fx single-platform), cold %.3f ms (%.2fx), "
                "index fetched again with platform manifests cached by digest %.3f ms (%.2fx)\n",
                index.c_str(), c.cached.count() / 1e3, double(c.cached.count()) / base.cached.count(),
                c.cold.count() / 1e6, double(c.cold.count()) / base.cold.count(), c.refetch.count() / 1e6,
                double(c.refetch.count()) / base.cold.count());
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  server::RegistryOptions options;
  std::string image;
  std::vector<std::string> named_images;
  std::vector<std::string> indexes;
  std::string single;  // the single-platform image the indexes are compared with (default --image)
  int concurrency = 100, iterations = 20000;
  for (size_t i = 0; i < args.size(); ++i) {
    auto consumed = server::ConsumeRegistryFlag(args, &i, &options);
    if (!consumed) {
      std::cerr << consumed.error() << "\n";
      return 2;
    }
    if (consumed.value()) continue;
    if (args[i] == "--image" && i + 1 < args.size()) {
      image = args[++i];
    } else if (args[i] == "--named-image" && i + 1 < args.size()) {
      named_images.push_back(args[++i]);
    } else if (args[i] == "--single" && i + 1 < args.size()) {
      single = args[++i];
    } else if (args[i] == "--index" && i + 1 < args.size()) {
      indexes.push_back(args[++i]);
    } else if (args[i] == "--concurrency" && i + 1 < args.size()) {
      concurrency = std::stoi(args[++i]);
    } else if (args[i] == "--iterations" && i + 1 < args.size()) {
      iterations = std::stoi(args[++i]);
    } else {
      std::cerr << "usage: rootgate_registry_bench --image REF [--single REF] [--index REF]... "
                   "[--named-image REF]... [--concurrency N] [--iterations N] [registry flags]\n";
      return 2;
    }
  }
  if (image.empty() && named_images.empty()) {
    std::cerr << "--image or --named-image is required\n";
    return 2;
  }
  const server::SteadyClock clock;
  auto resolver = server::BuildImageResolver(options, clock, std::chrono::seconds(0));
  if (!resolver) {
    std::cerr << resolver.error() << "\n";
    return 2;
  }
  if (!image.empty()) {
    Coalescing(*resolver.value(), image, concurrency);
    Latency(*resolver.value(), image, iterations);
  }
  for (const std::string& named : named_images) NamedUserFigures(*resolver.value(), named, std::max(3, iterations));
  if (!indexes.empty()) MultiPlatform(*resolver.value(), single.empty() ? image : single, indexes, iterations);
  return 0;
}
