// Readiness time for tests/bench_serve.sh: starts a server, polls GET /readyz over TLS every
// millisecond and prints the milliseconds from the fork to the first HTTP 200, then stops the server
// with SIGTERM. A poll loop inside one process resolves far below the cost of spawning curl.
// usage: ready_probe CA_FILE PORT TIMEOUT_MS COMMAND [ARG...]
// exit: 0 ready (ms on stdout), 1 not ready in time or the server exited (reason on stderr).
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

bool Ready(httplib::SSLClient& client) {
  auto res = client.Get("/readyz");
  return res && res->status == 200;
}

// Stops the child: SIGTERM, then SIGKILL if it is still there after two seconds.
void Stop(pid_t pid) {
  kill(pid, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: ready_probe CA_FILE PORT TIMEOUT_MS COMMAND [ARG...]\n";
    return 2;
  }
  const char* ca_file = argv[1];
  const int port = std::atoi(argv[2]);
  const auto timeout = std::chrono::milliseconds(std::atoi(argv[3]));
  // One client for every poll, made before the clock starts: building an OpenSSL context and
  // loading the CA costs milliseconds that are not the server's.
  httplib::SSLClient client("127.0.0.1", port);
  client.set_ca_cert_path(ca_file);
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(0, 200000);
  client.set_read_timeout(1, 0);
  const auto start = Clock::now();
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    execvp(argv[4], argv + 4);
    _exit(127);
  }
  while (Clock::now() - start < timeout) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) {
      std::cerr << "ready_probe: the server exited before it was ready\n";
      return 1;
    }
    if (Ready(client)) {
      const std::chrono::duration<double, std::milli> elapsed = Clock::now() - start;
      std::cout << elapsed.count() << "\n";
      Stop(pid);
      return 0;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::cerr << "ready_probe: no 200 from /readyz within " << argv[3] << " ms\n";
  Stop(pid);
  return 1;
}
