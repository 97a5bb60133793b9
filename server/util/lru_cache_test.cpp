// LruCache: eviction order, recency on hits and updates, expiry, capacity 0; and Sha256 against
// published test vectors (FIPS 180-2).
#include "server/util/lru_cache.h"

#include <doctest/doctest.h>

#include "server/util/sha256.h"

namespace {

using rootgate::server::LruCache;
using rootgate::server::Sha256;
using namespace std::chrono_literals;
using TP = LruCache<int>::TimePoint;

TEST_CASE("LruCache: evicts the least recently used") {
  const TP t0{};
  LruCache<int> c(2);
  c.Put("a", 1, std::nullopt);
  c.Put("b", 2, std::nullopt);
  CHECK(c.Get("a", t0) == 1);  // a is now more recent than b
  c.Put("c", 3, std::nullopt);
  CHECK(c.size() == 2);
  CHECK_FALSE(c.Get("b", t0).has_value());
  CHECK(c.Get("a", t0) == 1);
  CHECK(c.Get("c", t0) == 3);
  c.Put("a", 10, std::nullopt);  // update refreshes recency
  c.Put("d", 4, std::nullopt);
  CHECK(c.Get("a", t0) == 10);
  CHECK_FALSE(c.Get("c", t0).has_value());
  c.Erase("a");
  CHECK(c.size() == 1);
  c.Clear();
  CHECK(c.size() == 0);
}

TEST_CASE("LruCache: expiry") {
  const TP t0{};
  LruCache<int> c(10);
  c.Put("tag", 1, t0 + 300s);
  c.Put("digest", 2, std::nullopt);
  CHECK(c.Get("tag", t0 + 299s) == 1);
  CHECK_FALSE(c.Get("tag", t0 + 300s).has_value());
  CHECK(c.size() == 1);  // the expired entry was dropped
  CHECK(c.Get("digest", t0 + 1000000s) == 2);
  c.Put("tag", 3, t0 + 400s);
  CHECK(c.Get("tag", t0 + 301s) == 3);
}

TEST_CASE("LruCache: capacity 0 holds nothing") {
  LruCache<int> c(0);
  c.Put("a", 1, std::nullopt);
  CHECK(c.size() == 0);
  CHECK_FALSE(c.Get("a", TP{}).has_value());
}

TEST_CASE("Sha256: test vectors, incremental equals one-shot") {
  CHECK(Sha256::Of("") ==
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256::Of("abc") ==
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  CHECK(h.Digest() == Sha256::Of("abc"));
}

}  // namespace
