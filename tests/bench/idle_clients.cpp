// Idle keep-alive connections for tests/bench_serve.sh: opens N TLS connections to a server, sends
// one POST on each (so each is a kept-alive connection that has served a request), prints
// "ready", holds them all idle for HOLD_SECONDS, then sends one more POST on each connection in
// turn and times its reply. Prints one line:
//   IDLE opened=N replied=K closed=C p50_us=.. p99_us=.. max_us=..
// where closed counts connections the server had closed while idle (or that failed), and the
// percentiles are over the K replies after the idle time.
// usage: idle_clients CA_FILE PORT PATH BODY_FILE N HOLD_SECONDS
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

std::string g_first_error;  // why the first failure failed, for the report

bool Fail(const std::string& why) {
  if (g_first_error.empty()) g_first_error = why;
  return false;
}

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
};

Conn Open(SSL_CTX* ctx, int port) {
  Conn c;
  c.fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c.fd < 0) return c;
  const int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  timeval tv{5, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    Fail(std::string("connect: ") + std::strerror(errno));
    close(c.fd);
    c.fd = -1;
    return c;
  }
  c.ssl = SSL_new(ctx);
  SSL_set_fd(c.ssl, c.fd);
  SSL_set_tlsext_host_name(c.ssl, "localhost");
  if (SSL_connect(c.ssl) != 1) {
    Fail("TLS handshake failed: " + std::string(ERR_error_string(ERR_get_error(), nullptr)));
    SSL_free(c.ssl);
    close(c.fd);
    c = Conn{};
  }
  return c;
}

// Sends the request and reads one whole reply (headers, then a Content-Length or chunked body).
// False on any error or a reply without a 200.
bool RoundTrip(Conn& c, const std::string& request) {
  if (c.ssl == nullptr) return false;
  if (SSL_write(c.ssl, request.data(), static_cast<int>(request.size())) <= 0) return Fail("write failed");
  std::string got;
  char buf[16384];
  size_t header_end = std::string::npos;
  size_t need = 0;
  bool chunked = false;
  for (;;) {
    const int n = SSL_read(c.ssl, buf, sizeof buf);
    if (n <= 0) return Fail("read failed after " + std::to_string(got.size()) + " bytes: " + got.substr(0, 200));
    got.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos) {
      header_end = got.find("\r\n\r\n");
      if (header_end == std::string::npos) continue;
      if (got.compare(0, 12, "HTTP/1.1 200") != 0) return Fail("reply: " + got.substr(0, 200));
      std::string lower = got.substr(0, header_end);
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      const size_t cl = lower.find("content-length:");
      chunked = cl == std::string::npos && lower.find("transfer-encoding: chunked") != std::string::npos;
      if (cl == std::string::npos && !chunked) return Fail("reply without a length: " + got.substr(0, 200));
      if (!chunked) need = header_end + 4 + std::strtoul(lower.c_str() + cl + 15, nullptr, 10);
    }
    if (chunked ? got.size() >= 5 && got.compare(got.size() - 5, 5, "0\r\n\r\n") == 0 : got.size() >= need) {
      return true;
    }
  }
}

void Close(Conn& c) {
  if (c.ssl != nullptr) SSL_free(c.ssl);
  if (c.fd >= 0) close(c.fd);
  c = Conn{};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr << "usage: idle_clients CA_FILE PORT PATH BODY_FILE N HOLD_SECONDS\n";
    return 2;
  }
  const int port = std::atoi(argv[2]);
  const std::string path = argv[3];
  std::ifstream in(argv[4], std::ios::binary);
  std::stringstream body;
  body << in.rdbuf();
  const int n = std::atoi(argv[5]);
  const int hold = std::atoi(argv[6]);
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, argv[1], nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const std::string request = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\n" +
                              "Content-Type: application/json\r\nContent-Length: " +
                              std::to_string(body.str().size()) + "\r\n\r\n" + body.str();
  std::vector<Conn> conns(static_cast<size_t>(n));
  int opened = 0;
  for (Conn& c : conns) {
    c = Open(ctx, port);
    if (c.ssl != nullptr && RoundTrip(c, request)) {
      ++opened;
    } else {
      Close(c);
    }
  }
  std::cout << "ready " << opened << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(hold));
  std::vector<double> us;
  int closed = 0;
  for (Conn& c : conns) {
    if (c.ssl == nullptr) continue;
    const auto start = Clock::now();
    if (RoundTrip(c, request)) {
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    } else {
      ++closed;
    }
    Close(c);
  }
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) {
    if (us.empty()) return 0.0;
    return us[std::min(us.size() - 1, static_cast<size_t>(p * static_cast<double>(us.size())))];
  };
  std::printf("IDLE opened=%d replied=%zu closed=%d p50_us=%.0f p99_us=%.0f max_us=%.0f\n", opened,
              us.size(), closed, pct(0.5), pct(0.99), us.empty() ? 0.0 : us.back());
  if (!g_first_error.empty()) std::fprintf(stderr, "idle_clients: first failure: %s\n", g_first_error.c_str());
  SSL_CTX_free(ctx);
  return 0;
}
