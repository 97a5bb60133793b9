// ConnectionPool: a thread for every open connection however many are slow, the cap refusing the
// excess at once (and exactly: open connections are counted until their task ends), surplus
// threads leaving after their idle time, and shutdown waiting for every task. Also the cap that
// fits an open-file limit.
#include "server/webhook/connection_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace {

using namespace rootgate::server;
using namespace std::chrono_literals;

// Tasks that block until released, counting how many are running.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> running{0};
  std::atomic<int> finished{0};

  std::function<void()> Task() {
    return [this] {
      running.fetch_add(1);
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [this] { return open; });
      running.fetch_sub(1);
      finished.fetch_add(1);
    };
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu);
      open = true;
    }
    cv.notify_all();
  }
};

bool Eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 500; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

ConnectionPool::Refuse CountRefusals(std::atomic<int>* refused) {
  return [refused](const std::function<void()>&) { refused->fetch_add(1); };
}

}  // namespace

TEST_CASE("connection pool: every open connection runs at once, beyond the spare threads") {
  ConnectionCounters counters;
  std::atomic<int> refused{0};
  Gate gate;
  ConnectionPool pool({/*max_connections=*/100, /*spare_threads=*/2, 10s, {}}, &counters,
                      CountRefusals(&refused));
  for (int i = 0; i < 60; ++i) pool.enqueue(gate.Task());
  CHECK(Eventually([&] { return gate.running.load() == 60; }));
  CHECK(counters.open.load() == 60);
  CHECK(counters.threads.load() == 60);
  CHECK(counters.accepted.load() == 60);
  CHECK(refused.load() == 0);
  gate.Release();
  pool.shutdown();
  CHECK(gate.finished.load() == 60);
  CHECK(counters.open.load() == 0);
  CHECK(counters.threads.load() == 0);
}

TEST_CASE("connection pool: beyond the cap a connection is refused at once, on the caller's thread") {
  ConnectionCounters counters;
  Gate gate;
  std::thread::id refused_on;
  int refusals = 0;
  bool refused_task_ran = false;
  ConnectionPool pool({3, 1, 10s, {}}, &counters, [&](const std::function<void()>& task) {
    refused_on = std::this_thread::get_id();
    ++refusals;
    task();  // the refusal runs the task itself: here it only marks that it ran
  });
  for (int i = 0; i < 3; ++i) pool.enqueue(gate.Task());
  REQUIRE(Eventually([&] { return gate.running.load() == 3; }));
  pool.enqueue([&] { refused_task_ran = true; });
  CHECK(refusals == 1);
  CHECK(refused_task_ran);
  CHECK(refused_on == std::this_thread::get_id());
  CHECK(counters.refused.load() == 1);
  CHECK(counters.open.load() == 3);
  CHECK(counters.accepted.load() == 3);

  // A connection counts as open until its task has returned; then its place is free again.
  gate.Release();
  REQUIRE(Eventually([&] { return counters.open.load() == 0; }));
  std::atomic<int> served{0};
  for (int i = 0; i < 3; ++i) pool.enqueue([&] { served.fetch_add(1); });
  pool.shutdown();
  CHECK(served.load() == 3);
  CHECK(refusals == 1);
}

TEST_CASE("connection pool: threads beyond the spare ones exit when idle, then on_burst_over; the spare ones stay") {
  ConnectionCounters counters;
  std::atomic<int> refused{0};
  Gate gate;
  static std::atomic<int> bursts_over{0};
  ConnectionPool pool({100, 2, 50ms, [] { bursts_over.fetch_add(1); }}, &counters,
                      CountRefusals(&refused));
  for (int i = 0; i < 10; ++i) pool.enqueue(gate.Task());
  REQUIRE(Eventually([&] { return gate.running.load() == 10; }));
  CHECK(counters.threads.load() == 10);
  gate.Release();
  CHECK(Eventually([&] { return counters.threads.load() == 2; }));
  std::this_thread::sleep_for(150ms);
  CHECK(counters.threads.load() == 2);
  CHECK(bursts_over.load() == 1);  // once, when the last of the 8 surplus threads left
  // The spare threads serve what comes next without new ones.
  std::atomic<int> served{0};
  pool.enqueue([&] { served.fetch_add(1); });
  CHECK(Eventually([&] { return served.load() == 1; }));
  CHECK(counters.threads.load() == 2);
  pool.shutdown();
  CHECK(counters.threads.load() == 0);
}

TEST_CASE("connection pool: shutdown waits for running tasks") {
  ConnectionCounters counters;
  std::atomic<int> refused{0};
  std::atomic<bool> done{false};
  ConnectionPool pool({10, 4, 10s, {}}, &counters, CountRefusals(&refused));
  pool.enqueue([&] {
    std::this_thread::sleep_for(100ms);
    done = true;
  });
  pool.shutdown();
  CHECK(done.load());
  pool.shutdown();  // again: nothing left to wait for
  CHECK(counters.threads.load() == 0);
}

TEST_CASE("connection pool: a connection kept open counts against the cap until it is closed; Resume serves it again") {
  ConnectionCounters counters;
  std::atomic<int> refused{0};
  ConnectionPool pool({2, 1, 10s, {}}, &counters, CountRefusals(&refused));
  std::atomic<int> parked{0};
  auto park = [&] {
    ConnectionPool::KeepConnectionOpen();
    parked.fetch_add(1);
  };
  pool.enqueue(park);
  pool.enqueue(park);
  REQUIRE(Eventually([&] { return parked.load() == 2; }));
  // Both tasks returned, their connections still open: the cap of 2 is reached.
  std::this_thread::sleep_for(20ms);
  CHECK(counters.open.load() == 2);
  pool.enqueue([] {});
  CHECK(refused.load() == 1);
  CHECK(counters.accepted.load() == 2);

  // Resume runs a task for a kept connection, never refused, not counted again; when it returns
  // without keeping the connection open, the connection is closed.
  std::atomic<int> resumed{0};
  CHECK(pool.Resume([&] { resumed.fetch_add(1); }));
  REQUIRE(Eventually([&] { return resumed.load() == 1 && counters.open.load() == 1; }));
  CHECK(counters.accepted.load() == 2);
  CHECK(refused.load() == 1);

  // The other one is closed without a task (an idle connection past its time).
  std::atomic<bool> all_closed{false};
  std::thread waiter([&] {
    pool.WaitAllClosed();
    all_closed = true;
  });
  std::this_thread::sleep_for(20ms);
  CHECK_FALSE(all_closed.load());
  pool.ConnectionClosed();
  waiter.join();
  CHECK(all_closed.load());
  CHECK(counters.open.load() == 0);
  pool.shutdown();
}

TEST_CASE("connection pool: the cap that fits the open-file limit") {
  CHECK(ConnectionCapForFdLimit(1024, 1024 + kReservedFds) == 1024);
  CHECK(ConnectionCapForFdLimit(1024, 1 << 20) == 1024);
  CHECK(ConnectionCapForFdLimit(1024, 1024) == 1024 - kReservedFds);
  CHECK(ConnectionCapForFdLimit(1024, kReservedFds + 2) == 2);
  CHECK(ConnectionCapForFdLimit(1024, 10) == 1);
}
