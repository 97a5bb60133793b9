// Counters of image lookups, for /metrics: lookups by result, registry fetch latency, cache
// entries, coalesced lookups, fetches in flight. Every label takes values from a fixed set.
// Thread-safe: relaxed atomics; RenderRegistryMetrics reads without stopping writers.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/registry/registry_error.h"

namespace rootgate::server {

// The `result` label values of rootgate_image_lookups_total, one count per image per request:
// answered from the cache, fetched, or why not.
enum class LookupResult {
  kCacheHit, kFetched, kNotFound, kUnauthorized, kTimeout, kRefused, kTooLarge, kInvalid,
  kNetwork, kOverloaded,
};
inline constexpr std::array<std::string_view, 10> kLookupResultLabels = {
    "cache_hit", "fetched", "not_found", "unauthorized", "timeout", "refused", "too_large",
    "invalid", "network", "overloaded"};

LookupResult ResultOf(LookupError::Kind kind);

// Upper bounds (seconds) of rootgate_registry_fetch_duration_seconds.
inline constexpr std::array<double, 11> kFetchBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                         0.5,   1,    2.5,   5,    10};

struct RegistryMetrics {
  std::array<std::atomic<uint64_t>, kLookupResultLabels.size()> lookups{};
  std::atomic<uint64_t> coalesced{0};  // lookups that joined one already in flight
  std::array<std::atomic<uint64_t>, kFetchBuckets.size() + 1> fetch_buckets{};  // +Inf last
  std::atomic<uint64_t> fetch_sum_ns{0};
  std::atomic<int64_t> fetches_in_flight{0};
  std::atomic<int64_t> cache_entries{0};  // set by the resolver after each change

  void Count(LookupResult r) {
    lookups[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  void RecordFetch(std::chrono::nanoseconds d);
  uint64_t Lookups(LookupResult r) const {
    return lookups[static_cast<size_t>(r)].load(std::memory_order_relaxed);
  }
};

// Appends the metrics in the Prometheus text format:
//   rootgate_image_lookups_total{result="..."}     counter
//   rootgate_image_lookups_coalesced_total          counter
//   rootgate_registry_fetch_duration_seconds        histogram (registry round trips only)
//   rootgate_registry_fetches_in_flight             gauge
//   rootgate_image_cache_entries                    gauge
void RenderRegistryMetrics(const RegistryMetrics& m, std::string* out);

}  // namespace rootgate::server
