// Time as an interface, so code that keeps deadlines can be tested with a fake clock.
// Implementations must be thread-safe.
#pragma once

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

}  // namespace rootgate::server
