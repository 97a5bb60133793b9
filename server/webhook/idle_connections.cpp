#include "server/webhook/idle_connections.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace rootgate::server {

IdleConnections::IdleConnections(Callback on_ready, Callback on_expired)
    : on_ready_(std::move(on_ready)), on_expired_(std::move(on_expired)) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ >= 0 && wake_fd_ >= 0) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the wake-up descriptor
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
      close(wake_fd_);
      wake_fd_ = -1;
    }
  }
  if (ok()) thread_ = std::thread([this] { Watch(); });
}

IdleConnections::~IdleConnections() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    Wake();
    thread_.join();
  }
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

void IdleConnections::Wake() {
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = write(wake_fd_, &one, sizeof one);
}

bool IdleConnections::Park(int fd, void* connection, TimePoint deadline) {
  if (!ok()) return false;
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || parked_.count(connection) != 0) return false;
    epoll_event ev{};
    // Level-triggered: bytes that arrived before the watch began are reported at once.
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.ptr = connection;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
    parked_.emplace(connection, Entry{fd, deadlines_.emplace(deadline, connection)});
    if (deadline < planned_wake_) {
      planned_wake_ = deadline;
      wake = true;
    }
  }
  if (wake) Wake();
  return true;
}

size_t IdleConnections::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return parked_.size();
}

void IdleConnections::Watch() {
  std::vector<epoll_event> events(64);
  std::vector<void*> ready, expired;
  for (;;) {
    int timeout_ms = -1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) break;
      planned_wake_ = deadlines_.empty() ? TimePoint::max() : deadlines_.begin()->first;
      if (planned_wake_ != TimePoint::max()) {
        const auto left = planned_wake_ - std::chrono::steady_clock::now();
        // Rounded up: waking a little early would only loop.
        const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
        timeout_ms = static_cast<int>(std::clamp<int64_t>(ms, 0, 60'000));
      }
    }
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
    ready.clear();
    expired.clear();
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int i = 0; i < n; ++i) {
        void* c = events[static_cast<size_t>(i)].data.ptr;
        if (c == nullptr) {
          uint64_t count = 0;
          [[maybe_unused]] const ssize_t r = read(wake_fd_, &count, sizeof count);
          continue;
        }
        auto it = parked_.find(c);
        if (it == parked_.end()) continue;
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
        deadlines_.erase(it->second.by_deadline);
        parked_.erase(it);
        ready.push_back(c);
      }
      const auto now = std::chrono::steady_clock::now();
      while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        void* c = deadlines_.begin()->second;
        auto it = parked_.find(c);
        epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
        parked_.erase(it);
        deadlines_.erase(deadlines_.begin());
        expired.push_back(c);
      }
    }
    for (void* c : ready) on_ready_(c);
    for (void* c : expired) on_expired_(c);
  }
  // Stopping: whatever is still parked is closed.
  std::unordered_map<void*, Entry> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(parked_);
    deadlines_.clear();
  }
  for (auto& [c, e] : left) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, e.fd, nullptr);
    on_expired_(c);
  }
}

}  // namespace rootgate::server
