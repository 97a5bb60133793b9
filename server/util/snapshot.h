// Snapshot<T>: a value read by many threads and replaced whole by one (the loaded policy, the
// loaded certificate). Readers get an immutable shared_ptr they may keep as long as they need;
// a replacement never disturbs them. Thread-safe.
#pragma once

#include <atomic>
#include <memory>

namespace rootgate::server {

template <typename T>
class Snapshot {
 public:
  Snapshot() = default;
  explicit Snapshot(std::shared_ptr<const T> initial) : ptr_(std::move(initial)) {}
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // The current value; null before the first Set.
  std::shared_ptr<const T> Get() const { return ptr_.load(std::memory_order_acquire); }
  // Replaces the value for every later Get.
  void Set(std::shared_ptr<const T> value) { ptr_.store(std::move(value), std::memory_order_release); }

 private:
  std::atomic<std::shared_ptr<const T>> ptr_;
};

}  // namespace rootgate::server
