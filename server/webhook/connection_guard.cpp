#include "server/webhook/connection_guard.h"

#include <sys/socket.h>

namespace rootgate::server {

namespace {

using std::chrono::steady_clock;

thread_local bool t_refusing = false;

// The ex_data slot on the SSL_CTX that points to its guard.
int ContextIndex() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

ConnectionGuard::RefusingScope::RefusingScope() { t_refusing = true; }
ConnectionGuard::RefusingScope::~RefusingScope() { t_refusing = false; }

namespace {

// The ex_data slot on each tracked SSL: its guard, told when the SSL is freed (OnFree), which is
// before httplib closes the socket; so a socket the guard shuts down is never a reused number.
int ConnectionIndex(CRYPTO_EX_free* on_free) {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, on_free);
  return index;
}

}  // namespace

ConnectionGuard::ConnectionGuard(const Options& options, ConnectionCounters* counters)
    : options_(options), counters_(counters), thread_([this] { Enforce(); }) {}

ConnectionGuard::~ConnectionGuard() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool ConnectionGuard::Install(SSL_CTX* ctx, std::string* error) {
  if (ContextIndex() < 0 || ConnectionIndex(OnFree) < 0 ||
      SSL_CTX_set_ex_data(ctx, ContextIndex(), this) != 1) {
    *error = "TLS setup failed: no OpenSSL ex_data slot for connection deadlines";
    return false;
  }
  SSL_CTX_set_info_callback(ctx, OnInfo);
  return true;
}

void ConnectionGuard::OnInfo(const SSL* ssl, int where, int /*ret*/) {
  if ((where & SSL_CB_HANDSHAKE_START) == 0) return;
  const int fd = SSL_get_fd(ssl);
  if (fd < 0) return;
  if (t_refusing) {
    shutdown(fd, SHUT_RDWR);  // the handshake's first read sees the end and fails
    return;
  }
  auto* guard = static_cast<ConnectionGuard*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ContextIndex()));
  if (guard != nullptr) guard->Track(const_cast<SSL*>(ssl), fd);
}

void ConnectionGuard::OnFree(void* parent, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
  // Called for every SSL freed in the process (registry clients too); only tracked ones carry ptr.
  if (ptr != nullptr) static_cast<ConnectionGuard*>(ptr)->Forget(parent);
}

void ConnectionGuard::Track(SSL* ssl, int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint deadline = steady_clock::now() + options_.read_timeout;
  if (!table_.Add(ssl, fd, deadline)) return;  // a second handshake on the same connection
  if (SSL_set_ex_data(ssl, ConnectionIndex(OnFree), this) != 1) {
    table_.Remove(ssl);  // untracked rather than shut down after its socket number is reused
    return;
  }
  if (deadline < planned_wake_) wake_.notify_one();
}

void ConnectionGuard::Forget(const void* ssl) {
  std::lock_guard<std::mutex> lock(mu_);
  table_.Remove(ssl);
}

void ConnectionGuard::Pause(const SSL* ssl) {
  if (ssl == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  table_.Pause(ssl);
}

void ConnectionGuard::Resume(const SSL* ssl) {
  if (ssl == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint deadline = steady_clock::now() + options_.idle_timeout + options_.read_timeout;
  table_.Set(ssl, deadline);
  if (deadline < planned_wake_) wake_.notify_one();
}

size_t ConnectionGuard::Tracked() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.size();
}

void ConnectionGuard::Enforce() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    // Under mu_: Forget, and so the closing of the socket, waits until the shutdown is done.
    for (int fd : table_.TakeExpired(steady_clock::now())) {
      counters_->timed_out.fetch_add(1, std::memory_order_relaxed);
      shutdown(fd, SHUT_RDWR);
    }
    planned_wake_ = table_.Earliest().value_or(TimePoint::max());
    if (planned_wake_ == TimePoint::max()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, planned_wake_);
    }
  }
}

}  // namespace rootgate::server
