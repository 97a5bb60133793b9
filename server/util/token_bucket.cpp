#include "server/util/token_bucket.h"

#include <algorithm>

namespace rootgate::server {

TokenBucket::TokenBucket(double qps, int burst, const Clock& clock)
    : qps_(qps > 0 ? qps : 1e-9), burst_(std::max(burst, 1)), clock_(clock), tokens_(burst_),
      last_(clock.Now()) {}

std::chrono::nanoseconds TokenBucket::Take() {
  std::lock_guard<std::mutex> lock(mu_);
  const Clock::TimePoint now = clock_.Now();
  if (now > last_) {
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min<double>(burst_, tokens_ + elapsed * qps_);
    last_ = now;
  }
  tokens_ -= 1;
  if (tokens_ >= 0) return std::chrono::nanoseconds(0);
  return std::chrono::nanoseconds(static_cast<int64_t>(-tokens_ / qps_ * 1e9));
}

}  // namespace rootgate::server
