// A token bucket rate limiter, as client-go's flowcontrol.NewTokenBucketRateLimiter(qps, burst)
// (golang.org/x/time/rate): the bucket holds at most `burst` tokens, starts full, and gains `qps`
// tokens a second. Take() reserves one token and says how long the caller must wait before
// using it (zero when one was there); reservations queue up, so N callers at once are spaced
// 1/qps apart once the burst is spent. Thread-safe (one mutex). Never fails.
#pragma once

#include <chrono>
#include <mutex>

#include "server/util/clock.h"

namespace rootgate::server {

class TokenBucket {
 public:
  // qps > 0 and burst >= 1 (smaller values are raised to those). `clock` must outlive this.
  TokenBucket(double qps, int burst, const Clock& clock);

  // Reserves one token; returns the time to wait before acting on it (>= 0).
  std::chrono::nanoseconds Take();

  double qps() const { return qps_; }
  int burst() const { return burst_; }

 private:
  const double qps_;
  const int burst_;
  const Clock& clock_;
  std::mutex mu_;
  double tokens_;             // may be negative: tokens already promised to waiting callers
  Clock::TimePoint last_;     // when tokens_ was last brought up to date
};

}  // namespace rootgate::server
