#include "server/webhook/connection_pool.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace rootgate::server {

// One thread. While idle it sits on the pool's idle stack and waits on its own condition
// variable for a task handed to it directly: a notify with exactly one waiter cannot be stolen
// or lost, and the stack (newest on top) leaves the longest-idle threads to time out.
struct ConnectionPool::Worker {
  std::condition_variable wake;
  std::function<void()> task;  // handed over by enqueue; guarded by State::mu
};

// What the threads share. Each thread holds a shared_ptr to it, so a thread finishing its last
// steps never touches freed memory, whatever the order of destruction.
namespace {
thread_local bool t_keep_open = false;
}  // namespace

struct ConnectionPool::State {
  ConnectionPoolOptions options;
  ConnectionCounters* counters;
  std::mutex mu;
  std::condition_variable gone;  // a thread exited
  std::condition_variable closed;  // a connection was closed
  // The rest guarded by mu.
  std::vector<Worker*> idle;                 // newest last
  std::deque<std::function<void()>> backlog;  // only when no thread could be started
  size_t open = 0;                           // tasks queued or running
  size_t threads = 0;                        // threads alive
  bool shutting_down = false;

  State(const ConnectionPoolOptions& o, ConnectionCounters* c) : options(o), counters(c) {}
};

size_t ConnectionCapForFdLimit(size_t wanted, uint64_t fd_limit) {
  if (fd_limit <= kReservedFds + 1) return 1;
  return static_cast<size_t>(std::min<uint64_t>(wanted, fd_limit - kReservedFds));
}

ConnectionPool::ConnectionPool(const ConnectionPoolOptions& options, ConnectionCounters* counters,
                               Refuse refuse)
    : state_(std::make_shared<State>(options, counters)), refuse_(std::move(refuse)) {}

ConnectionPool::~ConnectionPool() { shutdown(); }

// Called with s->mu held. False, `first` untouched, when the system refuses a new thread (no
// memory, pid limit).
bool ConnectionPool::StartThread(const std::shared_ptr<State>& s, const std::function<void()>& first) {
  try {
    std::thread(Work, s, first).detach();  // a copy: a failed start must leave `first` usable
  } catch (const std::system_error&) {
    return false;
  }
  ++s->threads;
  s->counters->threads.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool ConnectionPool::Dispatch(std::function<void()>& fn) {
  State& s = *state_;
  if (!s.idle.empty()) {
    Worker* w = s.idle.back();
    s.idle.pop_back();
    w->task = std::move(fn);
    w->wake.notify_one();
    return true;
  }
  if (StartThread(state_, fn)) return true;
  if (s.threads == 0) return false;
  s.backlog.push_back(std::move(fn));  // a busy thread takes it from the backlog when it is done
  return true;
}

void ConnectionPool::KeepConnectionOpen() { t_keep_open = true; }

bool ConnectionPool::Resume(std::function<void()> fn) {
  std::lock_guard<std::mutex> lock(state_->mu);
  return Dispatch(fn);
}

void ConnectionPool::ConnectionClosed() {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mu);
  --s.open;
  s.counters->open.fetch_sub(1, std::memory_order_relaxed);
  if (s.open == 0) s.closed.notify_all();
}

void ConnectionPool::WaitAllClosed() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  s.closed.wait(lock, [&] { return s.open == 0; });
}

void ConnectionPool::enqueue(std::function<void()> fn) {
  State& s = *state_;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.open < s.options.max_connections) {
      if (Dispatch(fn)) {
        ++s.open;
        s.counters->open.fetch_add(1, std::memory_order_relaxed);
        s.counters->accepted.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
  }
  s.counters->refused.fetch_add(1, std::memory_order_relaxed);
  refuse_(fn);
}

void ConnectionPool::Work(std::shared_ptr<State> sp, std::function<void()> task) {
  State& s = *sp;
  Worker self;
  std::unique_lock<std::mutex> lock(s.mu);
  for (;;) {
    if (task) {
      lock.unlock();
      t_keep_open = false;
      task();
      task = nullptr;  // whatever the task holds goes before the connection counts as closed
      const bool kept = t_keep_open;
      t_keep_open = false;
      lock.lock();
      // Both counts together, under the lock: the gauge never shows a place the pool has not
      // freed yet.
      if (!kept) {
        --s.open;
        s.counters->open.fetch_sub(1, std::memory_order_relaxed);
        if (s.open == 0) s.closed.notify_all();
      }
    }
    if (!s.backlog.empty()) {
      task = std::move(s.backlog.front());
      s.backlog.pop_front();
      continue;
    }
    if (s.shutting_down) break;
    // Idle: wait for a task, for shutdown, or (beyond spare_threads) for spare_idle to pass.
    s.idle.push_back(&self);
    const auto idle_until = std::chrono::steady_clock::now() + s.options.spare_idle;
    auto ready = [&] { return self.task != nullptr || s.shutting_down; };
    while (!ready()) {
      if (s.threads <= s.options.spare_threads) {
        self.wake.wait(lock);
      } else if (self.wake.wait_until(lock, idle_until) == std::cv_status::timeout && !ready()) {
        break;
      }
    }
    task = std::move(self.task);
    self.task = nullptr;
    if (!task) {  // timed out or shutting down: still on the idle stack
      s.idle.erase(std::find(s.idle.begin(), s.idle.end(), &self));
      if (!s.shutting_down && s.threads <= s.options.spare_threads) continue;
      break;
    }
  }
  --s.threads;
  s.counters->threads.fetch_sub(1, std::memory_order_relaxed);
  s.gone.notify_all();
  const bool burst_over = !s.shutting_down && s.threads == s.options.spare_threads;
  lock.unlock();
  if (burst_over && s.options.on_burst_over) s.options.on_burst_over();
}

void ConnectionPool::shutdown() {
  State& s = *state_;
  std::unique_lock<std::mutex> lock(s.mu);
  s.shutting_down = true;
  for (Worker* w : s.idle) w->wake.notify_one();
  s.gone.wait(lock, [&] { return s.threads == 0; });
}

}  // namespace rootgate::server
