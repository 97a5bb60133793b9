// The webhook's HTTPS endpoints on cpp-httplib's SSLServer: POST /validate (through
// ValidateHandler), GET /healthz, /readyz and /metrics; JSON bodies for every error, including
// the ones the library itself produces (404, 413, malformed HTTP); TCP_NODELAY and keep-alive;
// TLS set up by ConfigureServerContext so reloaded certificates reach new connections.
// Optionally the same GET endpoints over plain HTTP on a second address (probes and scrapes
// that cannot present a client certificate when mTLS is on).
// Thread-safety: construct, Bind and Run from one thread; Stop from any thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "policy/result.h"
#include "server/clock.h"
#include "server/http_handler.h"
#include "server/metrics.h"
#include "server/serve_options.h"
#include "server/snapshot.h"
#include "server/tls.h"

namespace rootgate::server {

// Runs a bound httplib server's accept loop, and stops it safely from another thread at any
// moment: before the loop started (it then never starts), while it runs, or after it ended.
// httplib's own stop() only acts on a running server and must not be called twice.
// Thread-safe: Run on one thread, Stop from any.
class ServeLoop {
 public:
  explicit ServeLoop(httplib::Server& server) : server_(server) {}
  // Serves until Stop, then returns once every accepted connection is finished.
  void Run();
  // Stops accepting at once. Idempotent.
  void Stop();

 private:
  httplib::Server& server_;
  std::mutex mu_;
  bool stop_requested_ = false;  // guarded by mu_
  bool started_ = false;         // guarded by mu_
  std::atomic<bool> finished_{false};
  std::atomic<bool> stopped_{false};
};

// What the endpoints read and the reloader and signal thread write. Thread-safe.
struct WebhookState {
  Snapshot<policy::Policy> policy;
  Snapshot<TlsMaterial> tls;
  Metrics metrics{ROOTGATE_VERSION};
  std::atomic<bool> shutting_down{false};

  // Ready: a policy and a certificate loaded, and not shutting down. Else why not.
  bool Ready(std::string* why) const;
};

struct HttpsServerOptions {
  bool require_client_cert = false;
  size_t max_body = kDefaultMaxBody;
  int threads = 32;
};

class HttpsServer {
 public:
  // `state`, `facts` and `clock` must outlive the server.
  HttpsServer(WebhookState& state, const policy::ImageFacts& facts, const Clock& clock,
              const HttpsServerOptions& options);
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Binds the listening socket (a free port for port 0; for an empty host every IPv6 and IPv4
  // address, or IPv4 only where IPv6 is unavailable). Returns the address actually bound.
  Result<ListenAddress> Bind(const ListenAddress& address);

  // Accepts and serves until Stop; then returns once every accepted connection is finished.
  // Precondition: Bind succeeded.
  void Run();

  // Stops accepting at once; Run returns when in-flight requests are done. Any thread; idempotent.
  void Stop();

 private:
  void Route();
  void ServeValidate(const httplib::Request& req, httplib::Response& res) const;

  WebhookState& state_;
  ValidateHandler handler_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::unique_ptr<ServeLoop> loop_;
  std::string setup_error_;
};

// The GET endpoints (/healthz, /readyz, /metrics) on `server`.
void RouteHealthAndMetrics(httplib::Server& server, const WebhookState& state);

// A ListenAddress bound on a plain httplib::Server (see HttpsServer::Bind). The port is not
// shared (no SO_REUSEPORT): a port another process holds is an error.
Result<ListenAddress> BindServer(httplib::Server& server, const ListenAddress& address);

}  // namespace rootgate::server
