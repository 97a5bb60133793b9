#include "server/registry/registry_metrics.h"

#include <cstdio>

namespace rootgate::server {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

LookupResult ResultOf(LookupError::Kind kind) {
  switch (kind) {
    case LookupError::Kind::kNotFound: return LookupResult::kNotFound;
    case LookupError::Kind::kUnauthorized: return LookupResult::kUnauthorized;
    case LookupError::Kind::kTimeout: return LookupResult::kTimeout;
    case LookupError::Kind::kRefused: return LookupResult::kRefused;
    case LookupError::Kind::kTooLarge: return LookupResult::kTooLarge;
    case LookupError::Kind::kInvalid: return LookupResult::kInvalid;
    case LookupError::Kind::kNetwork: return LookupResult::kNetwork;
  }
  return LookupResult::kNetwork;
}

std::string_view LookupErrorLabel(LookupError::Kind kind) {
  return kLookupResultLabels[static_cast<size_t>(ResultOf(kind))];
}

void RegistryMetrics::RecordFetch(std::chrono::nanoseconds d) {
  const double s = std::chrono::duration<double>(d).count();
  size_t i = 0;
  while (i < kFetchBuckets.size() && s > kFetchBuckets[i]) ++i;
  fetch_buckets[i].fetch_add(1, kRelaxed);
  fetch_sum_ns.fetch_add(static_cast<uint64_t>(d.count()), kRelaxed);
}

void RenderRegistryMetrics(const RegistryMetrics& m, std::string* out) {
  *out += "# HELP rootgate_image_lookups_total Image user lookups, one per image per request, by result.\n"
          "# TYPE rootgate_image_lookups_total counter\n";
  for (size_t i = 0; i < kLookupResultLabels.size(); ++i) {
    *out += "rootgate_image_lookups_total{result=\"" + std::string(kLookupResultLabels[i]) + "\"} " +
            std::to_string(m.lookups[i].load(kRelaxed)) + "\n";
  }
  *out += "# HELP rootgate_image_lookups_coalesced_total Lookups that joined a registry fetch already in flight.\n"
          "# TYPE rootgate_image_lookups_coalesced_total counter\n"
          "rootgate_image_lookups_coalesced_total " + std::to_string(m.coalesced.load(kRelaxed)) + "\n";
  *out += "# HELP rootgate_registry_fetch_duration_seconds Time of one image lookup against its registry.\n"
          "# TYPE rootgate_registry_fetch_duration_seconds histogram\n";
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= kFetchBuckets.size(); ++i) {
    cumulative += m.fetch_buckets[i].load(kRelaxed);
    const std::string le = i < kFetchBuckets.size() ? Seconds(kFetchBuckets[i]) : "+Inf";
    *out += "rootgate_registry_fetch_duration_seconds_bucket{le=\"" + le + "\"} " + std::to_string(cumulative) + "\n";
  }
  *out += "rootgate_registry_fetch_duration_seconds_sum " +
          Seconds(static_cast<double>(m.fetch_sum_ns.load(kRelaxed)) / 1e9) + "\n" +
          "rootgate_registry_fetch_duration_seconds_count " + std::to_string(cumulative) + "\n";
  *out += "# HELP rootgate_registry_fetches_in_flight Registry fetches running now.\n"
          "# TYPE rootgate_registry_fetches_in_flight gauge\n"
          "rootgate_registry_fetches_in_flight " + std::to_string(m.fetches_in_flight.load(kRelaxed)) + "\n";
  *out += "# HELP rootgate_image_cache_entries Image lookups held in the cache.\n"
          "# TYPE rootgate_image_cache_entries gauge\n"
          "rootgate_image_cache_entries " + std::to_string(m.cache_entries.load(kRelaxed)) + "\n";
}

}  // namespace rootgate::server
