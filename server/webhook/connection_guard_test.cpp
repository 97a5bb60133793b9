// ConnectionGuard on real OpenSSL server connections over socketpairs (no network): a client that
// never completes its handshake is cut off at read_timeout and counted; Pause holds the deadline
// off and Resume starts a new one; inside a RefusingScope the handshake fails at once; a freed
// connection is no longer tracked.
#include "server/webhook/connection_guard.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <future>
#include <optional>
#include <thread>

namespace {

using namespace rootgate::server;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

struct Context {
  // OpenSSL may write an alert to a socket the guard shut down: EPIPE, not SIGPIPE, as in serve.
  Context() { signal(SIGPIPE, SIG_IGN); }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  ~Context() { SSL_CTX_free(ctx); }
};

// A server-side SSL on one end of a socketpair; the other end is the (silent) client.
struct Connection {
  int fds[2] = {-1, -1};
  SSL* ssl = nullptr;
  explicit Connection(SSL_CTX* ctx) {
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fds[0]);
  }
  ~Connection() {
    if (ssl != nullptr) SSL_free(ssl);
    close(fds[0]);
    close(fds[1]);
  }
  void Free() {
    SSL_free(ssl);
    ssl = nullptr;
  }
};

// Runs SSL_accept on another thread; the future holds how long it took to fail or succeed.
std::future<steady_clock::duration> AcceptAsync(SSL* ssl, bool refusing = false) {
  return std::async(std::launch::async, [ssl, refusing] {
    std::optional<ConnectionGuard::RefusingScope> scope;
    if (refusing) scope.emplace();
    const auto start = steady_clock::now();
    SSL_accept(ssl);
    return steady_clock::now() - start;
  });
}

bool Eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 300; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

}  // namespace

TEST_CASE("connection guard: a silent client is cut off at read_timeout") {
  ConnectionCounters counters;
  ConnectionGuard guard({200ms, 1s}, &counters);
  Context c;
  std::string error;
  REQUIRE(guard.Install(c.ctx, &error));
  Connection conn(c.ctx);
  auto took = AcceptAsync(conn.ssl);
  REQUIRE(took.wait_for(5s) == std::future_status::ready);
  CHECK(took.get() >= 190ms);
  CHECK(Eventually([&] { return counters.timed_out.load() == 1; }));
  CHECK(guard.Tracked() == 0);  // expired entries are dropped at once
  conn.Free();
  CHECK(guard.Tracked() == 0);
}

TEST_CASE("connection guard: Pause holds the deadline off; Resume starts idle + read timeout") {
  ConnectionCounters counters;
  ConnectionGuard guard({100ms, 100ms}, &counters);
  Context c;
  std::string error;
  REQUIRE(guard.Install(c.ctx, &error));
  Connection conn(c.ctx);
  auto took = AcceptAsync(conn.ssl);
  REQUIRE(Eventually([&] { return guard.Tracked() == 1; }));
  guard.Pause(conn.ssl);
  CHECK(took.wait_for(400ms) == std::future_status::timeout);
  CHECK(counters.timed_out.load() == 0);
  const auto resumed = steady_clock::now();
  guard.Resume(conn.ssl);
  REQUIRE(took.wait_for(5s) == std::future_status::ready);
  CHECK(steady_clock::now() - resumed >= 190ms);
  CHECK(Eventually([&] { return counters.timed_out.load() == 1; }));
}

TEST_CASE("connection guard: a freed connection is forgotten, never shut down later") {
  ConnectionCounters counters;
  ConnectionGuard guard({150ms, 1s}, &counters);
  Context c;
  std::string error;
  REQUIRE(guard.Install(c.ctx, &error));
  Connection conn(c.ctx);
  auto took = AcceptAsync(conn.ssl);
  REQUIRE(Eventually([&] { return guard.Tracked() == 1; }));
  // The client closes: the handshake fails, the server frees its SSL before the deadline.
  shutdown(conn.fds[1], SHUT_RDWR);
  REQUIRE(took.wait_for(5s) == std::future_status::ready);
  conn.Free();
  CHECK(guard.Tracked() == 0);
  std::this_thread::sleep_for(300ms);
  CHECK(counters.timed_out.load() == 0);
}

TEST_CASE("connection guard: inside a RefusingScope the handshake fails at once") {
  ConnectionCounters counters;
  ConnectionGuard guard({10s, 10s}, &counters);
  Context c;
  std::string error;
  REQUIRE(guard.Install(c.ctx, &error));
  Connection conn(c.ctx);
  auto took = AcceptAsync(conn.ssl, /*refusing=*/true);
  REQUIRE(took.wait_for(5s) == std::future_status::ready);
  CHECK(took.get() < 1s);
  CHECK(guard.Tracked() == 0);
  char byte;
  CHECK(read(conn.fds[1], &byte, 1) == 0);  // the client sees its connection closed
  CHECK(counters.timed_out.load() == 0);
}
