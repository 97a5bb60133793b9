// Deadlines of open connections, keyed by an opaque pointer (the connection's SSL object): which
// sockets have gone past their deadline at a given time. Pure bookkeeping (no clock, no
// sockets); ConnectionGuard keeps one behind a mutex and shuts the expired sockets down.
// Thread-compatible.
#pragma once

#include <chrono>
#include <optional>
#include <unordered_map>
#include <vector>

namespace rootgate::server {

class DeadlineTable {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // Starts tracking `key`, whose socket is `fd`, with `deadline`. False, changing nothing, when
  // `key` is tracked already.
  bool Add(const void* key, int fd, TimePoint deadline);
  // A new deadline for a tracked key; ignored for an untracked one.
  void Set(const void* key, TimePoint deadline);
  // No deadline for `key` until the next Set (its request is being handled).
  void Pause(const void* key);
  // Stops tracking `key`; ignored for an untracked one.
  void Remove(const void* key);
  // Stops tracking every key whose deadline is at or before `now`, and returns their sockets.
  std::vector<int> TakeExpired(TimePoint now);
  // The earliest deadline of a tracked, unpaused key; nullopt when there is none.
  std::optional<TimePoint> Earliest() const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    int fd;
    TimePoint deadline;  // TimePoint::max() while paused
  };
  std::unordered_map<const void*, Entry> entries_;
};

}  // namespace rootgate::server
