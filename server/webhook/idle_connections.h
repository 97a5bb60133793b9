// Keep-alive connections waiting for their next request, all watched by one thread with one
// epoll set, so an idle connection holds no worker thread and costs no wake-up until a request
// arrives or its idle time is up. (cpp-httplib's own keep-alive wait polls each connection every
// 10 ms on the thread that serves it.) A parked connection is handed to `on_ready` when its
// socket becomes readable (a request, or the peer closing), or to `on_expired` at its deadline;
// exactly one of the two, once, on the watching thread, and never after the set is destroyed.
// Connections still parked when the set is destroyed go to `on_expired` then.
// Thread-safety: Park and size from any thread; the callbacks run on the watching thread and must
// not call back into the set.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace rootgate::server {

class IdleConnections {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Callback = std::function<void(void* connection)>;

  // Starts the watching thread. If the system has no epoll or eventfd to give, the set is not
  // usable (ok() false) and Park always fails.
  IdleConnections(Callback on_ready, Callback on_expired);
  ~IdleConnections();
  IdleConnections(const IdleConnections&) = delete;
  IdleConnections& operator=(const IdleConnections&) = delete;

  bool ok() const { return epoll_fd_ >= 0 && wake_fd_ >= 0; }

  // Watches `fd` for `connection` until it is readable or `deadline` passes. False (nothing
  // watched, no callback) when the kernel refuses it: the caller then closes the connection.
  bool Park(int fd, void* connection, TimePoint deadline);

  // Connections parked now.
  size_t size() const;

 private:
  struct Entry {
    int fd;
    std::multimap<TimePoint, void*>::iterator by_deadline;
  };
  void Watch();
  void Wake();

  const Callback on_ready_;
  const Callback on_expired_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: an earlier deadline, or stop
  mutable std::mutex mu_;
  std::unordered_map<void*, Entry> parked_;              // guarded by mu_
  std::multimap<TimePoint, void*> deadlines_;            // guarded by mu_
  TimePoint planned_wake_ = TimePoint::max();            // guarded by mu_
  bool stop_ = false;                                    // guarded by mu_
  std::thread thread_;
};

}  // namespace rootgate::server
