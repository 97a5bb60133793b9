#include "server/util/token_bucket.h"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using rootgate::server::ManualClock;
using rootgate::server::TokenBucket;

TEST_CASE("token bucket: a full burst at once, then one token per 1/qps") {
  ManualClock clock;
  TokenBucket bucket(5, 3, clock);  // 5 a second, burst 3: as client-go's QPS 5, Burst 3
  CHECK(bucket.Take() == 0ns);
  CHECK(bucket.Take() == 0ns);
  CHECK(bucket.Take() == 0ns);
  // The fourth waits 1/5 s; a fifth reserved at the same moment waits behind it, 2/5 s.
  CHECK(bucket.Take() == 200ms);
  CHECK(bucket.Take() == 400ms);
  // After 400 ms both promised tokens are paid; the next waits another 200 ms.
  clock.Advance(400ms);
  CHECK(bucket.Take() == 200ms);
}

TEST_CASE("token bucket: refills at qps up to burst, never beyond") {
  ManualClock clock;
  TokenBucket bucket(2, 2, clock);
  CHECK(bucket.Take() == 0ns);
  CHECK(bucket.Take() == 0ns);
  clock.Advance(500ms);  // one token back (2/s)
  CHECK(bucket.Take() == 0ns);
  CHECK(bucket.Take() == 500ms);
  clock.Advance(1h);  // an hour idle: still only `burst` tokens
  CHECK(bucket.Take() == 0ns);
  CHECK(bucket.Take() == 0ns);
  CHECK(bucket.Take() == 500ms);
}

TEST_CASE("token bucket: fractional qps and bad values") {
  ManualClock clock;
  TokenBucket slow(0.5, 1, clock);  // one every 2 s
  CHECK(slow.Take() == 0ns);
  CHECK(slow.Take() == 2s);
  TokenBucket raised(10, 0, clock);  // burst below 1 is raised to 1
  CHECK(raised.burst() == 1);
  CHECK(raised.Take() == 0ns);
  CHECK(raised.Take() == 100ms);
}
