// A bounded least-recently-used map with optional per-entry expiry, for image facts. Not
// thread-safe: the owner (ImageResolver) guards it with its mutex. O(1) lookups and inserts.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

namespace rootgate::server {

template <typename V>
class LruCache {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // capacity 0 caches nothing.
  explicit LruCache(size_t capacity) : capacity_(capacity) {}

  // The value for `key` if present and not expired at `now` (an expired entry is dropped);
  // a hit becomes the most recently used.
  std::optional<V> Get(const std::string& key, TimePoint now) {
    auto it = index_.find(key);
    if (it == index_.end()) return std::nullopt;
    if (it->second->expires && *it->second->expires <= now) {
      order_.erase(it->second);
      index_.erase(it);
      return std::nullopt;
    }
    order_.splice(order_.begin(), order_, it->second);
    return it->second->value;
  }

  // Inserts or replaces; `expires` nullopt keeps the entry until it is evicted. Evicts the least
  // recently used entries beyond capacity.
  void Put(const std::string& key, V value, std::optional<TimePoint> expires) {
    if (capacity_ == 0) return;
    auto it = index_.find(key);
    if (it != index_.end()) {
      it->second->value = std::move(value);
      it->second->expires = expires;
      order_.splice(order_.begin(), order_, it->second);
      return;
    }
    order_.push_front(Node{key, std::move(value), expires});
    index_.emplace(key, order_.begin());
    while (index_.size() > capacity_) {
      index_.erase(order_.back().key);
      order_.pop_back();
    }
  }

  void Erase(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return;
    order_.erase(it->second);
    index_.erase(it);
  }

  void Clear() {
    index_.clear();
    order_.clear();
  }

  size_t size() const { return index_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  struct Node {
    std::string key;
    V value;
    std::optional<TimePoint> expires;
  };
  size_t capacity_;
  std::list<Node> order_;  // most recently used first
  std::unordered_map<std::string, typename std::list<Node>::iterator> index_;
};

}  // namespace rootgate::server
