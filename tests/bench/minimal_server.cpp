// The ceiling of cpp-httplib itself, for tests/bench_serve.sh: an httplib::SSLServer that answers
// POST /validate with one fixed AdmissionReview reply and does no other work. Same library, same
// TLS setup and the same thread-pool defaults as `rootgate serve`; TCP_NODELAY on, because with
// Nagle's algorithm a keep-alive client waits for delayed ACKs (tens of ms per request).
// KEEPALIVE_MAX_COUNT is the number of requests before the server closes a connection
// (cpp-httplib's default is 5, which makes a client do a TLS handshake every 5th request).
// usage: minimal_server CERT KEY HOST PORT REPLY_FILE [KEEPALIVE_MAX_COUNT]
#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

bool ReadFile(const char* path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  *out = buffer.str();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::cerr << "usage: minimal_server CERT KEY HOST PORT REPLY_FILE [KEEPALIVE_MAX_COUNT]\n";
    return 2;
  }
  std::string reply;
  if (!ReadFile(argv[5], &reply)) {
    std::cerr << "minimal_server: cannot read " << argv[5] << "\n";
    return 2;
  }
  httplib::SSLServer server(argv[1], argv[2]);
  if (!server.is_valid()) {
    std::cerr << "minimal_server: cannot load the certificate or key\n";
    return 1;
  }
  server.set_tcp_nodelay(true);
  if (argc == 7) server.set_keep_alive_max_count(std::strtoul(argv[6], nullptr, 10));
  server.Post("/validate", [&reply](const httplib::Request&, httplib::Response& res) {
    res.set_content(reply, "application/json");
  });
  server.Get("/readyz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  if (!server.listen(argv[3], std::atoi(argv[4]))) {
    std::cerr << "minimal_server: cannot listen on " << argv[3] << ":" << argv[4] << "\n";
    return 1;
  }
  return 0;
}
