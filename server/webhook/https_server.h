// The webhook's HTTPS endpoints on cpp-httplib's SSLServer: POST /validate (through
// ValidateHandler), GET /healthz, /readyz and /metrics; JSON bodies for every error, including
// the ones the library itself produces (404, 413, malformed HTTP); TCP_NODELAY and keep-alive;
// TLS set up by ConfigureServerContext so reloaded certificates reach new connections.
// Connections: the server runs its own connection loop (cpp-httplib's request parsing, routing and
// reply writing, through TlsStream): a busy connection holds a thread of a ConnectionPool that
// grows on demand up to max_connections (beyond it a connection is closed at once); after a reply
// the thread waits kLinger for the next request, and a connection still quiet then waits in
// IdleConnections (one epoll thread for all) until a request arrives or idle_timeout is up,
// holding no thread. A ConnectionGuard closes any connection whose handshake and request take
// longer than read_timeout, so slow or idle clients cannot starve real traffic.
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
#include "server/util/clock.h"
#include "server/webhook/connection_guard.h"
#include "server/webhook/connection_pool.h"
#include "server/webhook/http_handler.h"
#include "server/webhook/idle_connections.h"
#include "server/webhook/metrics.h"
#include "server/webhook/serve_options.h"
#include "server/util/snapshot.h"
#include "server/webhook/tls.h"

namespace rootgate::server {

// Runs a bound httplib server's accept loop, and stops it safely from another thread at any
// moment: before the loop started (it then never starts), while it runs, or after it ended.
// httplib's own stop() only acts on a running server and must not be called twice.
// Thread-safe: Run on one thread, Stop from any.
class ServeLoop {
 public:
  // `stop_accepting`, when given, replaces httplib's stop(): it must make the accept loop end
  // (see HttpsServer::Stop for why the HTTPS server does it differently).
  explicit ServeLoop(httplib::Server& server, std::function<void()> stop_accepting = nullptr)
      : server_(server), stop_accepting_(std::move(stop_accepting)) {}
  // Serves until Stop, then returns once every accepted connection is finished.
  void Run();
  // Stops accepting at once. Idempotent.
  void Stop();

 private:
  httplib::Server& server_;
  const std::function<void()> stop_accepting_;
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
  int threads = 32;               // idle worker threads kept ready
  size_t max_connections = 1024;  // open connections at once; beyond, closed at once
  std::chrono::nanoseconds read_timeout = std::chrono::seconds(10);  // see ConnectionGuard
  std::chrono::seconds idle_timeout{5};  // keep-alive idleness before the server closes
  // POST /validate requests that arrive whole are read and answered without the library's
  // parser (server/webhook/fast_request.h); false sends every request through the library.
  bool fast_path = true;
};

class HttpsServer {
 public:
  // `state`, `facts` and `clock` must outlive the server.
  HttpsServer(WebhookState& state, const policy::ImageFacts& facts, const Clock& clock,
              const HttpsServerOptions& options);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  // Binds the listening socket (a free port for port 0; for an empty host every IPv6 and IPv4
  // address, or IPv4 only where IPv6 is unavailable). Returns the address actually bound.
  // Also raises the soft open-file limit to fit max_connections; where the hard limit does not
  // allow it, lowers the connection cap to fit and logs a warning.
  Result<ListenAddress> Bind(const ListenAddress& address);

  // Accepts and serves until Stop; then returns once every accepted connection is finished.
  // Precondition: Bind succeeded.
  void Run();

  // Stops accepting at once (new connections are refused); every connection already accepted,
  // even one still in its TLS handshake, is served its next request, answered with
  // "Connection: close", then closed; an idle one is closed after the idle timeout. Run returns
  // when they are all done. Any thread; idempotent.
  void Stop();

  // The connection cap in force (max_connections, or lower to fit the open-file limit).
  size_t max_connections() const { return pool_options_.max_connections; }

  // How long a thread waits for the next request on its connection after a reply before the
  // connection goes to IdleConnections: under load the next request comes sooner, and is
  // served with no hand-over between threads.
  static constexpr std::chrono::milliseconds kLinger{50};

 private:
  struct Connection;
  class Server;
  void Route();
  void ServeValidate(const httplib::Request& req, httplib::Response& res);
  // What both paths do for /validate: the decision, its metrics, and its log line (a rejected
  // request's line is the caller's: it knows the request).
  HandledRequest Validate(const HttpRequest& request, const SSL* ssl);
  // On c's thread, with request bytes in c's buffer: when they start a POST /validate request
  // the fast path takes, waits for the rest of its body if need be, answers it (the reply
  // gathered, not yet flushed) and returns true; else false, nothing consumed that the library
  // will not read next.
  bool ServeFast(Connection* c);
  // On a pool thread: a new socket's TLS handshake, then its requests.
  void ServeNewConnection(int sock);
  // On a pool thread: requests on `c` until it closes (deleted) or goes idle (parked).
  void ServeConnection(Connection* c);
  void CloseConnection(Connection* c, bool graceful);

  WebhookState& state_;
  ValidateHandler handler_;
  ConnectionPoolOptions pool_options_;
  ConnectionGuard guard_;  // before server_: outlives the SSL_CTX and its connections
  std::atomic<bool> closing_{false};
  std::chrono::seconds idle_timeout_;
  const bool fast_path_;
  const size_t max_body_;
  std::unique_ptr<ConnectionPool> pool_;   // outlives httplib's accept loop (parked connections)
  std::unique_ptr<IdleConnections> idle_;  // after pool_: destroyed first
  std::unique_ptr<Server> server_;
  std::unique_ptr<ServeLoop> loop_;
  std::string setup_error_;
};

// The GET endpoints (/healthz, /readyz, /metrics) on `server`.
void RouteHealthAndMetrics(httplib::Server& server, const WebhookState& state);

// A ListenAddress bound on a plain httplib::Server (see HttpsServer::Bind). The port is not
// shared (no SO_REUSEPORT): a port another process holds is an error.
Result<ListenAddress> BindServer(httplib::Server& server, const ListenAddress& address);

}  // namespace rootgate::server
