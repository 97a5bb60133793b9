// The task queue behind the webhook's HTTPS server: one task per accepted connection, run on a
// thread of its own while the connection is busy (TLS handshake, requests, replies). A connection
// task may leave its connection open when it returns (KeepConnectionOpen: it waits, idle, in
// IdleConnections, holding no thread); Resume later runs a task for it again, and ConnectionClosed
// counts it closed when it is closed without a task. Unlike httplib::ThreadPool, whose fixed threads a thousand idle or
// byte-at-a-time clients would all occupy while real requests wait in its queue, this pool starts
// a thread whenever every thread is busy, up to a cap on open connections; a connection beyond
// the cap is handed to `refuse`, which must close it at once. Threads left idle beyond
// `spare_threads` exit after `spare_idle`, so a burst does not keep its threads, and then
// `on_burst_over` runs (the server returns freed heap memory to the system there).
// Thread-safety: enqueue from one thread (httplib's accept loop), then shutdown from that same
// thread; the counters may be read from any thread at any time.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "server/webhook/metrics.h"

namespace rootgate::server {

// Open files kept for everything but HTTPS connections: listeners, the health server, log and
// policy files, registry connections, /proc reads.
inline constexpr size_t kReservedFds = 64;

// The connection cap that fits an open-file limit of `fd_limit`: `wanted`, or less so that
// kReservedFds stay free (at least 1). Beyond the limit accept() would fail and connections
// would wait in the kernel's queue instead of being refused.
size_t ConnectionCapForFdLimit(size_t wanted, uint64_t fd_limit);

struct ConnectionPoolOptions {
  size_t max_connections = 1024;  // open connections at once; more are refused
  size_t spare_threads = 32;      // idle threads kept ready
  std::chrono::milliseconds spare_idle{10'000};  // an idle thread beyond spare_threads then exits
  // Called (on the exiting thread, no lock held) when the last thread beyond spare_threads has
  // exited: a burst is over. May be empty.
  std::function<void()> on_burst_over;
};

class ConnectionPool : public httplib::TaskQueue {
 public:
  // Runs a task that must close its connection without serving it (the pool is full). It runs
  // on the accepting thread, so it must not wait for the client.
  using Refuse = std::function<void(const std::function<void()>& task)>;

  // `counters` (open connections, threads, accepted, refused) must outlive the pool.
  ConnectionPool(const ConnectionPoolOptions& options, ConnectionCounters* counters, Refuse refuse);
  ~ConnectionPool() override;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // Serves `fn` on an idle or a new thread; or, when max_connections tasks are running or
  // waiting, refuses it (counted in counters->refused). If no thread can be started and none
  // is running, the task is refused too; if some are running, it waits for one.
  void enqueue(std::function<void()> fn) override;
  // Returns once every task given so far has finished and every thread has exited.
  void shutdown() override;

  // Called by a connection task, on its thread, before it returns: its connection stays open
  // (counted in `open`) after the task ends; Resume or ConnectionClosed takes it over.
  static void KeepConnectionOpen();
  // Runs `fn`, a task for a connection kept open, on an idle or a new thread: never refused, not
  // counted again. False, `fn` not run, only when no thread can be started and none is running.
  bool Resume(std::function<void()> fn);
  // A connection kept open was closed without a task.
  void ConnectionClosed();
  // Returns once no connection is open (tasks finished, kept-open connections closed).
  void WaitAllClosed();

 private:
  struct Worker;
  struct State;
  static void Work(std::shared_ptr<State> s, std::function<void()> task);
  static bool StartThread(const std::shared_ptr<State>& s, const std::function<void()>& first);
  // Hands `fn` to an idle thread, a new one, or the backlog; under s.mu. False: none possible.
  bool Dispatch(std::function<void()>& fn);

  std::shared_ptr<State> state_;  // shared with the threads, which may outlive this object
  Refuse refuse_;
};

}  // namespace rootgate::server
