// The httplib transport against loopback sockets this test opens: it connects to the address it
// is given (not to the name), keeps the deadline against a server that never answers, caps
// bodies, and CancelAll aborts an exchange in flight.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "server/registry/registry_transport.h"

namespace {

using namespace rootgate::server;
using namespace std::chrono_literals;

// A loopback listener. `answer` empty: accepts and never answers; else sends it once per
// connection and closes.
class Listener {
 public:
  explicit Listener(std::string answer) : answer_(std::move(answer)) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~Listener() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
    for (int c : conns_) close(c);
  }
  int port() const { return port_; }

 private:
  void Serve() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      if (answer_.empty()) {
        conns_.push_back(c);  // held open, never answered
        continue;
      }
      char buf[4096];
      (void)!read(c, buf, sizeof buf);
      (void)!write(c, answer_.data(), answer_.size());
      close(c);
    }
  }
  std::string answer_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> conns_;
  std::thread thread_;
};

RegistryHttpRequest Get(int port, std::chrono::milliseconds budget) {
  RegistryHttpRequest r;
  r.target = HttpTarget{false, HostPort{"registry.invalid", port, true}, "127.0.0.1"};
  r.path = "/v2/";
  r.deadline = std::chrono::steady_clock::now() + budget;
  return r;
}

TEST_CASE("HttpTransport: connects to the vetted address, keeps the name for Host") {
  Listener ok("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nDocker-Distribution-Api-Version: registry/2.0\r\n\r\n{}");
  auto transport = MakeHttpTransport({});
  REQUIRE(transport.ok());
  // registry.invalid never resolves: reaching the listener proves the vetted address is used.
  TransportResult r = transport.value()->Send(Get(ok.port(), 5000ms));
  REQUIRE(std::holds_alternative<RegistryHttpResponse>(r));
  CHECK(std::get<RegistryHttpResponse>(r).status == 200);
  CHECK(std::get<RegistryHttpResponse>(r).body == "{}");
  CHECK(std::get<RegistryHttpResponse>(r).Header("docker-distribution-api-version") == "registry/2.0");
}

TEST_CASE("HttpTransport: size cap") {
  Listener big("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
  auto transport = MakeHttpTransport({});
  RegistryHttpRequest req = Get(big.port(), 5000ms);
  req.max_body = 10;
  TransportResult r = transport.value()->Send(req);
  REQUIRE(std::holds_alternative<TransportError>(r));
  CHECK(std::get<TransportError>(r).kind == TransportError::Kind::kTooLarge);
}

TEST_CASE("HttpTransport: a server that never answers meets the deadline; CancelAll aborts") {
  Listener stall("");
  auto transport = MakeHttpTransport({});
  auto t0 = std::chrono::steady_clock::now();
  TransportResult r = transport.value()->Send(Get(stall.port(), 300ms));
  CHECK(std::chrono::steady_clock::now() - t0 < 1500ms);
  REQUIRE(std::holds_alternative<TransportError>(r));
  CHECK_MESSAGE(std::get<TransportError>(r).kind == TransportError::Kind::kTimeout,
                std::get<TransportError>(r).message);

  t0 = std::chrono::steady_clock::now();
  std::thread canceller([&] {
    std::this_thread::sleep_for(200ms);
    transport.value()->CancelAll();
  });
  TransportResult cancelled = transport.value()->Send(Get(stall.port(), 20000ms));
  canceller.join();
  CHECK(std::chrono::steady_clock::now() - t0 < 5000ms);
  CHECK(std::holds_alternative<TransportError>(cancelled));
  TransportResult after = transport.value()->Send(Get(stall.port(), 20000ms));
  REQUIRE(std::holds_alternative<TransportError>(after));
  CHECK(std::get<TransportError>(after).kind == TransportError::Kind::kStopped);
}

TEST_CASE("HttpTransport: a bad extra CA file is refused") {
  auto bad = MakeHttpTransport({"/nonexistent/ca.pem", 4});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("/nonexistent/ca.pem") != std::string::npos);
}

}  // namespace
