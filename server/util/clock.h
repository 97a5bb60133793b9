// Time as an interface, so code that keeps deadlines can be tested with a fake clock.
// Implementations must be thread-safe.
#pragma once

#include <atomic>
#include <chrono>

namespace rootgate::server {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  // A monotonic now; never goes back.
  virtual TimePoint Now() const = 0;
};

// std::chrono::steady_clock. Thread-safe, stateless.
class SteadyClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

// A clock that moves only when told (tests). Thread-safe.
class ManualClock final : public Clock {
 public:
  TimePoint Now() const override { return TimePoint(std::chrono::nanoseconds(ns_.load())); }
  void Advance(std::chrono::nanoseconds d) { ns_.fetch_add(d.count()); }

 private:
  std::atomic<int64_t> ns_{int64_t{1000} * 1000 * 1000 * 1000};  // not at the epoch
};

}  // namespace rootgate::server
