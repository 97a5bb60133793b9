#include "server/webhook/https_server.h"

#include <malloc.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <string_view>
#include <thread>
#include <vector>

#include "server/util/logging.h"
#include "server/webhook/fast_request.h"
#include "server/webhook/tls_stream.h"

namespace rootgate::server {

namespace {

// With a parameter, so cpp-httplib (which compresses exactly "application/json" when the client
// accepts gzip, as the API server always does) leaves these small replies alone: compressing
// ~500 bytes costs more CPU than it saves on the wire. The media type is still application/json.
constexpr const char* kJson = "application/json; charset=utf-8";
constexpr size_t kKeepAliveMaxRequests = 1000;  // per connection, then the client reconnects
// The largest request (head and body) the fast path buffers whole; larger ones are the library's.
constexpr size_t kMaxFastRequest = size_t{1} << 20;

// Set by the logger (which cpp-httplib calls once the reply is written, to our buffer) when the
// reply says "Connection: close": the connection loop closes after sending it.
thread_local bool t_close_after_reply = false;

void LogDecision(const AdmissionOutcome& o, std::chrono::nanoseconds duration) {
  if (!spdlog::default_logger_raw()->should_log(spdlog::level::info)) return;
  std::vector<std::string_view> rules;
  for (policy::RuleId r : o.rules) rules.push_back(policy::RuleName(r));
  const double ms = std::chrono::duration<double, std::milli>(duration).count();
  Log(spdlog::level::info, "admission decision",
      {{"uid", o.uid},
       {"kind", o.kind},
       {"namespace", o.namespace_name},
       {"name", o.name},
       {"operation", o.operation},
       {"user", o.username},
       {"decision", VerdictName(o.verdict)},
       {"rules", rules},
       {"dry_run", o.dry_run},
       {"deadline_exceeded", o.deadline_exceeded},
       {"duration_ms", ms},
       {"note", o.note}});
}

void LogRejected(std::string_view method, std::string_view path, std::string_view remote,
                 size_t body_bytes, int status, std::string_view error) {
  Log(status >= 500 ? spdlog::level::err : spdlog::level::info, "request rejected",
      {{"status", status},
       {"method", method},
       {"path", path},
       {"remote", remote},
       {"body_bytes", body_bytes},
       {"error", error}});
}

void LogRejected(const httplib::Request& req, int status, std::string_view error) {
  LogRejected(req.method, req.path, req.remote_addr, req.body.size(), status, error);
}

// A JSON body for the errors cpp-httplib answers by itself (no route, body over the cap,
// malformed HTTP). Responses our handlers made already have a body and are left alone.
httplib::Server::HandlerResponse LibraryError(const httplib::Request& req, httplib::Response& res,
                                              size_t max_body) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
  std::string error;
  switch (res.status) {
    case 404: error = "no such endpoint: " + req.path; break;
    case 413: error = "request body exceeds the limit of " + std::to_string(max_body) + " bytes"; break;
    case 400: error = "malformed HTTP request"; break;
    default: error = "HTTP status " + std::to_string(res.status); break;
  }
  if (res.status != 404) LogRejected(req, res.status, error);
  res.set_content(JsonError(error), kJson);
  return httplib::Server::HandlerResponse::Handled;
}

}  // namespace

bool WebhookState::Ready(std::string* why) const {
  if (shutting_down.load()) {
    *why = "shutting down";
  } else if (!policy.Get()) {
    *why = "no policy loaded";
  } else if (!tls.Get()) {
    *why = "no certificate loaded";
  } else {
    return true;
  }
  return false;
}

void RouteHealthAndMetrics(httplib::Server& server, const WebhookState& state) {
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  server.Get("/readyz", [&state](const httplib::Request&, httplib::Response& res) {
    std::string why;
    const bool ready = state.Ready(&why);
    res.status = ready ? 200 : 503;
    res.set_content(ready ? "ok\n" : "not ready: " + why + "\n", "text/plain; charset=utf-8");
  });
  server.Get("/metrics", [&state](const httplib::Request&, httplib::Response& res) {
    res.set_content(state.metrics.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

namespace {

// cpp-httplib's default socket options add SO_REUSEPORT, which lets a second process bind the
// same port and silently take half the connections; keep only SO_REUSEADDR (fast restarts).
void ExclusivePortOptions(socket_t sock) {
  const int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

// Raises the soft open-file limit to `wanted` (or the hard limit if lower); returns the limit in
// force afterwards.
uint64_t RaiseOpenFileLimit(uint64_t wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return wanted;  // unknown: assume enough
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= wanted) return wanted;
  rlimit raised = lim;
  raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? wanted : std::min<rlim_t>(wanted, lim.rlim_max);
  if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return raised.rlim_cur;
  return lim.rlim_cur;
}

}  // namespace

// cpp-httplib's SSLServer with rootgate's connection loop. The library allows this much: its
// per-connection entry point (process_and_close_socket) is virtual, and process_request (parse
// one request from a Stream, route it, write the reply) is protected, so a subclass can own the
// connection — TLS handshake, keep-alive wait, buffering — and leave HTTP to the library. Its own
// keep-alive wait (detail::keep_alive, a 10 ms poll loop per connection) has no hook.
class HttpsServer::Server final : public httplib::SSLServer {
 public:
  Server(HttpsServer* owner, const std::function<bool(SSL_CTX&)>& setup)
      : httplib::SSLServer(setup), owner_(owner) {}
  // cpp-httplib listens with a backlog of 5: a burst of new connections would overflow the
  // queue and wait for SYN retransmits (a second or more) before the accept loop even sees them.
  // listen() again on a listening socket only changes its backlog (Linux).
  bool WidenBacklog() { return ::listen(svr_sock_, SOMAXCONN) == 0; }
  // Ends the accept loop, which then closes the socket, without httplib's stop(): that marks the
  // server socket invalid, and every connection loop checks the mark before each request, so a
  // connection still in its handshake, or between a reply and the client's next request, would
  // be closed unserved (the client sees an error, not a refusal). After shutdown(2) of the
  // listening socket, new connections are refused at once and accepted ones are served.
  void StopAccepting() { ::shutdown(svr_sock_, SHUT_RDWR); }
  bool ProcessRequest(httplib::Stream& stream, bool close_connection, bool& connection_closed,
                      SSL* ssl) {
    return process_request(stream, close_connection, connection_closed,
                           [ssl](httplib::Request& req) { req.ssl = ssl; });
  }
  // The library's per-read and per-write socket timeouts (its defaults: 5 s each).
  timeval ReadTimeout() const {
    return {static_cast<time_t>(read_timeout_sec_), static_cast<suseconds_t>(read_timeout_usec_)};
  }
  timeval WriteTimeout() const {
    return {static_cast<time_t>(write_timeout_sec_), static_cast<suseconds_t>(write_timeout_usec_)};
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    owner_->ServeNewConnection(sock);
    return true;
  }
  HttpsServer* const owner_;
};

// One accepted connection after its handshake.
struct HttpsServer::Connection {
  Connection(int f, SSL* s) : fd(f), ssl(s), stream(f, s) {}
  int fd;
  SSL* ssl;
  TlsStream stream;
  size_t served = 0;
};

namespace {

// The TaskQueue httplib's accept loop makes and deletes: it forwards to the server's pool, and
// its shutdown (when the accept loop has ended) waits until every connection is closed, the
// idle ones included.
class PoolHandle final : public httplib::TaskQueue {
 public:
  explicit PoolHandle(ConnectionPool& pool) : pool_(pool) {}
  void enqueue(std::function<void()> fn) override { pool_.enqueue(std::move(fn)); }
  void shutdown() override { pool_.WaitAllClosed(); }

 private:
  ConnectionPool& pool_;
};

}  // namespace

void HttpsServer::ServeNewConnection(int sock) {
  const timeval rcv = server_->ReadTimeout(), snd = server_->WriteTimeout();
  setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv);
  setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);
  SSL* ssl = SSL_new(server_->ssl_context());
  // A refused connection (ConnectionGuard::RefusingScope) is shut down as its handshake starts,
  // so SSL_accept fails at once; a slow one is shut down by the guard at its deadline.
  if (ssl == nullptr || SSL_set_fd(ssl, sock) != 1 || SSL_accept(ssl) != 1) {
    if (ssl != nullptr) SSL_free(ssl);
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return;
  }
  ServeConnection(new Connection(sock, ssl));
}

void HttpsServer::ServeConnection(Connection* c) {
  for (;;) {
    if (!c->stream.HasInput()) {
      pollfd p{c->fd, POLLIN, 0};
      int ready = 0;
      do {
        ready = poll(&p, 1, static_cast<int>(kLinger.count()));
      } while (ready < 0 && errno == EINTR);
      if (ready == 0) {
        // Quiet: wait with the other idle connections, holding no thread. The idle time counts
        // from the reply, as the library's keep-alive wait did.
        c->stream.ReleaseBuffers();
        const auto deadline = std::chrono::steady_clock::now() - kLinger + idle_timeout_;
        if (idle_->Park(c->fd, c, deadline)) {
          // `c` may already be another thread's (a request came): not touched again here.
          ConnectionPool::KeepConnectionOpen();
          return;
        }
        break;  // not parked (no epoll): closed, and counted closed when this task ends
      }
    }
    const bool last = ++c->served >= kKeepAliveMaxRequests || closing_.load();
    // The fast path answers only replies that keep the connection open; the last one, with its
    // "Connection: close", is the library's.
    if (fast_path_ && !last) {
      if (!c->stream.FillBuffer()) {  // what the library's first read would have met
        CloseConnection(c, false);
        return;
      }
      if (ServeFast(c)) {
        if (!c->stream.Flush()) {
          CloseConnection(c, false);
          return;
        }
        continue;
      }
    }
    bool closed_by_client = false;
    t_close_after_reply = false;
    const bool ok = server_->ProcessRequest(c->stream, last, closed_by_client, c->ssl);
    const bool sent = c->stream.Flush();
    if (!ok || !sent) {
      CloseConnection(c, false);
      return;
    }
    if (last || closed_by_client || t_close_after_reply) break;
  }
  CloseConnection(c, true);
}

void HttpsServer::CloseConnection(Connection* c, bool graceful) {
  if (graceful) SSL_shutdown(c->ssl);  // close_notify, as the library does
  SSL_free(c->ssl);                    // before close: the guard forgets the socket first
  ::shutdown(c->fd, SHUT_RDWR);
  ::close(c->fd);
  delete c;
}

Result<ListenAddress> BindServer(httplib::Server& server, const ListenAddress& address) {
  server.set_socket_options(ExclusivePortOptions);
  const std::vector<std::string> hosts =
      address.host.empty() ? std::vector<std::string>{"::", "0.0.0.0"}
                           : std::vector<std::string>{address.host};
  for (const std::string& host : hosts) {
    if (address.port == 0) {
      const int port = server.bind_to_any_port(host);
      if (port > 0) return ListenAddress{host, port};
    } else if (server.bind_to_port(host, address.port)) {
      return ListenAddress{host, address.port};
    }
  }
  return Error{"cannot listen on " + address.ToString() + ": " + std::strerror(errno)};
}

HttpsServer::HttpsServer(WebhookState& state, const policy::ImageFacts& facts, const Clock& clock,
                         const HttpsServerOptions& options)
    : state_(state),
      handler_(state.policy, facts, clock, options.max_body),
      pool_options_{options.max_connections, static_cast<size_t>(options.threads),
                    ConnectionPoolOptions{}.spare_idle, {}},
      guard_({options.read_timeout, options.idle_timeout}, &state.metrics.connections()),
      idle_timeout_(options.idle_timeout),
      fast_path_(options.fast_path),
      max_body_(options.max_body) {
  const bool mtls = options.require_client_cert;
  server_ = std::make_unique<Server>(this, [this, mtls](SSL_CTX& ctx) {
    if (!ConfigureServerContext(&ctx, &state_.tls, mtls, &setup_error_)) return false;
    // An idle connection (keep-alive, or a slow client between bytes) then holds no 16 KiB
    // record buffers.
    SSL_CTX_set_mode(&ctx, SSL_MODE_RELEASE_BUFFERS);
    // One read(2) takes whatever has arrived, not a record header and then its body.
    SSL_CTX_set_read_ahead(&ctx, 1);
    return guard_.Install(&ctx, &setup_error_);
  });
  // After a burst of connections, glibc keeps the heap they freed; give it back.
  pool_options_.on_burst_over = [] { malloc_trim(0); };
  server_->new_task_queue = [this] {
    if (!pool_) {
      pool_ = std::make_unique<ConnectionPool>(pool_options_, &state_.metrics.connections(),
                                               [](const std::function<void()>& task) {
                                                 ConnectionGuard::RefusingScope refusing;
                                                 task();
                                               });
      idle_ = std::make_unique<IdleConnections>(
          [this](void* c) {
            auto* conn = static_cast<Connection*>(c);
            if (!pool_->Resume([this, conn] { ServeConnection(conn); })) {
              CloseConnection(conn, false);
              pool_->ConnectionClosed();
            }
          },
          [this](void* c) {
            CloseConnection(static_cast<Connection*>(c), true);
            pool_->ConnectionClosed();
          });
    }
    return new PoolHandle(*pool_);
  };
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_max_count(kKeepAliveMaxRequests);
  server_->set_keep_alive_timeout(options.idle_timeout.count());
  server_->set_payload_max_length(options.max_body);
  const size_t max_body = options.max_body;
  server_->set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body](const httplib::Request& req, httplib::Response& res) {
        return LibraryError(req, res, max_body);
      }));
  server_->set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(JsonError("internal error"), kJson);
    LogRejected(req, 500, "unexpected exception in a handler");
  });
  server_->set_post_routing_handler([this](const httplib::Request&, httplib::Response& res) {
    if (closing_.load()) res.set_header("Connection", "close");
  });
  server_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    state_.metrics.RecordHttpStatus(res.status);
    if (res.get_header_value("Connection") == "close") {
      // The reply tells the client so: the connection loop closes once it is sent. (Not on
      // closing_ alone: a reply whose headers were written before Stop promised keep-alive.)
      t_close_after_reply = true;
    } else {
      guard_.Resume(req.ssl);  // the reply is out: the next request's deadline starts
    }
  });
  loop_ = std::make_unique<ServeLoop>(*server_, [this] { server_->StopAccepting(); });
  Route();
}

HandledRequest HttpsServer::Validate(const HttpRequest& request, const SSL* ssl) {
  guard_.Pause(ssl);  // the request is in; answering may take up to its own ?timeout=
  InflightGuard inflight(state_.metrics);
  HandledRequest handled = handler_.Handle(request);
  if (handled.outcome) {
    state_.metrics.RecordDecision(*handled.outcome, handled.duration);
    LogDecision(*handled.outcome, handled.duration);
  }
  return handled;
}

void HttpsServer::ServeValidate(const httplib::Request& req, httplib::Response& res) {
  const std::string content_type = req.get_header_value("Content-Type");
  const std::string timeout = req.get_param_value("timeout");
  HandledRequest handled = Validate({req.method, content_type, req.body, timeout}, req.ssl);
  res.status = handled.http.status;
  if (!handled.http.allow.empty()) res.set_header("Allow", handled.http.allow);
  res.set_content(std::move(handled.http.body), kJson);
  if (!handled.outcome) LogRejected(req, handled.http.status, handled.error);
}

bool HttpsServer::ServeFast(Connection* c) {
  size_t need = 0;
  auto request = ParseFastValidate(c->stream.Buffered(), max_body_, &need);
  if (!request && need > 0 && need <= kMaxFastRequest) {
    // The headers are here and the body is on its way: wait for it, as the library would. If
    // that read fails, the library takes over what arrived and meets the failure itself.
    if (!c->stream.FillTo(need)) return false;
    request = ParseFastValidate(c->stream.Buffered(), max_body_);
  }
  if (!request) return false;
  HandledRequest handled = Validate({"POST", request->content_type, request->body, request->timeout}, c->ssl);
  std::string reply;
  if (!AppendFastReply(&reply, handled.http.status, handled.http.body, idle_timeout_.count(),
                       kKeepAliveMaxRequests)) {
    // A status the fast path has no reply for (none of the handler's today): a 500, logged
    // with the status that had none.
    handled.error = "internal error: no fast-path reply for status " + std::to_string(handled.http.status);
    handled.http.status = 500;
    AppendFastReply(&reply, 500, JsonError("internal error"), idle_timeout_.count(), kKeepAliveMaxRequests);
  }
  c->stream.Consume(request->size);
  if (!handled.outcome) {
    std::string remote;
    int port = 0;
    c->stream.get_remote_ip_and_port(remote, port);
    LogRejected("POST", "/validate", remote, request->body.size(), handled.http.status, handled.error);
  }
  c->stream.write(reply.data(), reply.size());
  state_.metrics.RecordHttpStatus(handled.http.status);
  state_.metrics.RecordFastPathRequest();
  guard_.Resume(c->ssl);  // the reply is out: the next request's deadline starts
  return true;
}

void HttpsServer::Route() {
  auto validate = [this](const httplib::Request& req, httplib::Response& res) { ServeValidate(req, res); };
  server_->Post("/validate", validate);
  server_->Get("/validate", validate);  // and HEAD
  server_->Put("/validate", validate);
  server_->Patch("/validate", validate);
  server_->Delete("/validate", validate);
  server_->Options("/validate", validate);
  RouteHealthAndMetrics(*server_, state_);
}

Result<ListenAddress> HttpsServer::Bind(const ListenAddress& address) {
  if (!server_->is_valid()) {
    return Error{setup_error_.empty() ? "TLS setup failed: " + OpenSslErrors() : setup_error_};
  }
  const size_t wanted = pool_options_.max_connections;
  const uint64_t fd_limit = RaiseOpenFileLimit(wanted + kReservedFds);
  pool_options_.max_connections = ConnectionCapForFdLimit(wanted, fd_limit);
  if (pool_options_.max_connections < wanted) {
    Log(spdlog::level::warn, "open-file limit too low for --max-connections; connection cap lowered",
        {{"max_connections", wanted}, {"open_file_limit", fd_limit},
         {"connection_cap", pool_options_.max_connections}});
  }
  auto bound = BindServer(*server_, address);
  if (bound && !server_->WidenBacklog()) {
    Log(spdlog::level::warn, "cannot widen the listen backlog", {{"error", std::strerror(errno)}});
  }
  return bound;
}

HttpsServer::~HttpsServer() {
  // Connections still idle (Run never ran, or returned early) are closed before the server.
  idle_.reset();
  if (pool_) pool_->shutdown();
}

void HttpsServer::Run() { loop_->Run(); }

void HttpsServer::Stop() {
  closing_.store(true);
  loop_->Stop();
}

void ServeLoop::Run() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_requested_) {
      finished_.store(true);
      return;
    }
    started_ = true;
  }
  server_.listen_after_bind();
  finished_.store(true);
}

void ServeLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requested_ = true;
    if (!started_) return;  // Run will return at once
  }
  // Run is about to start the accept loop, or has: wait until it is running or over.
  while (!server_.is_running() && !finished_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (stopped_.exchange(true) || finished_.load()) return;
  if (stop_accepting_) {
    stop_accepting_();
  } else {
    server_.stop();
  }
}

}  // namespace rootgate::server
