// Time limits and refusal for the webhook's TLS connections, through OpenSSL callbacks on the
// server's SSL_CTX. cpp-httplib has no per-connection hook, but every connection's TLS handshake
// starts (SSL_CB_HANDSHAKE_START, before anything is read) on the thread that serves it, and its
// SSL object is freed before its socket is closed; those two moments bracket the bookkeeping.
//  * Deadlines: from the start of the handshake a client has read_timeout to complete the
//    handshake and its first request (headers and body); after each response, idle_timeout plus
//    read_timeout for the next one. A connection past its deadline is shut down (shutdown(2)),
//    which wakes the thread reading from it; counted in ConnectionCounters::timed_out. This is
//    what bounds a client sending a byte at a time, which a per-read timeout cannot. While a
//    handler runs (Pause until Resume), there is no deadline.
//  * Refusal: a connection whose task runs inside a RefusingScope is shut down as its handshake
//    starts, so the client sees its connection closed at once.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "server/webhook/deadline_table.h"
#include "server/webhook/metrics.h"

namespace rootgate::server {

class ConnectionGuard {
 public:
  struct Options {
    std::chrono::nanoseconds read_timeout = std::chrono::seconds(10);
    std::chrono::nanoseconds idle_timeout = std::chrono::seconds(5);
  };

  // `counters` must outlive the guard. Starts the thread that enforces deadlines.
  ConnectionGuard(const Options& options, ConnectionCounters* counters);
  ~ConnectionGuard();  // stops that thread
  ConnectionGuard(const ConnectionGuard&) = delete;
  ConnectionGuard& operator=(const ConnectionGuard&) = delete;

  // Installs the callbacks on `ctx`, whose connections must all end before the guard does.
  // False with *error set when OpenSSL has no room for them.
  bool Install(SSL_CTX* ctx, std::string* error);

  // The request on `ssl` is complete and being handled: no deadline until Resume.
  void Pause(const SSL* ssl);
  // A response went out on `ssl`: the next request must arrive within idle + read timeout.
  void Resume(const SSL* ssl);

  // Connections tracked now (handshake started, SSL object not yet freed).
  size_t Tracked() const;

  // While one is alive on a thread, a connection whose handshake starts on that thread is
  // closed at once instead.
  class RefusingScope {
   public:
    RefusingScope();
    ~RefusingScope();
    RefusingScope(const RefusingScope&) = delete;
    RefusingScope& operator=(const RefusingScope&) = delete;
  };

 private:
  using TimePoint = DeadlineTable::TimePoint;

  static void OnInfo(const SSL* ssl, int where, int ret);
  static void OnFree(void* parent, void* ptr, CRYPTO_EX_DATA* ad, int index, long argl, void* argp);
  void Track(SSL* ssl, int fd);
  void Forget(const void* ssl);
  void Enforce();

  const Options options_;
  ConnectionCounters* counters_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  DeadlineTable table_;                      // guarded by mu_
  TimePoint planned_wake_ = TimePoint::max();  // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::thread thread_;
};

}  // namespace rootgate::server
