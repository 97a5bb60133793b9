// IdleConnections: a parked connection goes to on_ready when bytes arrive (or bytes that came
// before it was parked), or when its peer closes; to on_expired at its deadline, in deadline
// order; one callback each, once; and the ones still parked at destruction go to on_expired.
#include "server/webhook/idle_connections.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using namespace rootgate::server;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Pair {
  int fds[2] = {-1, -1};
  Pair() { REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0); }
  ~Pair() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
};

struct Seen {
  std::mutex mu;
  std::vector<int> ready, expired;
  void Add(std::vector<int>& v, void* c) {
    std::lock_guard<std::mutex> lock(mu);
    v.push_back(static_cast<int>(reinterpret_cast<intptr_t>(c)));
  }
  size_t Count() {
    std::lock_guard<std::mutex> lock(mu);
    return ready.size() + expired.size();
  }
};

bool Eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 300; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

void* Id(int i) { return reinterpret_cast<void*>(static_cast<intptr_t>(i)); }

}  // namespace

TEST_CASE("idle connections: readable ones are handed back, quiet ones expire in deadline order") {
  Seen seen;
  Pair a, b, c, d;
  {
    IdleConnections idle([&](void* x) { seen.Add(seen.ready, x); }, [&](void* x) { seen.Add(seen.expired, x); });
    REQUIRE(idle.ok());
    const auto now = Clock::now();
    REQUIRE(write(b.fds[1], "x", 1) == 1);  // arrived before parking: reported at once
    CHECK(idle.Park(a.fds[0], Id(1), now + 10s));
    CHECK(idle.Park(b.fds[0], Id(2), now + 10s));
    CHECK(idle.Park(c.fds[0], Id(3), now + 150ms));
    CHECK(idle.Park(d.fds[0], Id(4), now + 100ms));
    CHECK_FALSE(idle.Park(d.fds[0], Id(4), now + 100ms));  // parked already
    REQUIRE(Eventually([&] { return seen.Count() == 1; }));
    REQUIRE(Eventually([&] { return seen.Count() == 3; }));
    {
      std::lock_guard<std::mutex> lock(seen.mu);
      CHECK(seen.ready == std::vector<int>{2});
      CHECK(seen.expired == std::vector<int>{4, 3});
    }
    CHECK(Clock::now() - now >= 150ms);
    CHECK(idle.size() == 1);
    close(a.fds[1]);  // the peer hangs up: handed back too (the reader sees the end)
    a.fds[1] = -1;
    REQUIRE(Eventually([&] { return seen.Count() == 4; }));
    CHECK(idle.size() == 0);
    // Parked again with its byte still unread: handed back again (level-triggered).
    CHECK(idle.Park(b.fds[0], Id(5), Clock::now() + 10s));
    REQUIRE(Eventually([&] { return seen.Count() == 5; }));
  }
  std::lock_guard<std::mutex> lock(seen.mu);
  CHECK(seen.ready == std::vector<int>{2, 1, 5});
  CHECK(seen.expired == std::vector<int>{4, 3});
}

TEST_CASE("idle connections: what is still parked at destruction expires; a quiet set does not wake") {
  Seen seen;
  Pair a;
  {
    IdleConnections idle([&](void* x) { seen.Add(seen.ready, x); }, [&](void* x) { seen.Add(seen.expired, x); });
    CHECK(idle.Park(a.fds[0], Id(7), Clock::now() + 1h));
    std::this_thread::sleep_for(50ms);
    CHECK(seen.Count() == 0);
  }
  std::lock_guard<std::mutex> lock(seen.mu);
  CHECK(seen.expired == std::vector<int>{7});
  CHECK(seen.ready.empty());
}
