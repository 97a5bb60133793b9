#include "server/webhook/tls_stream.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace rootgate::server {

namespace {

constexpr size_t kReadBuffer = 16 * 1024;   // one TLS record's plaintext at most
constexpr size_t kMaxGathered = 64 * 1024;  // larger replies go out in pieces

// getpeername/getsockname as text, the way cpp-httplib writes them (numeric host).
void ReadAddress(int fd, bool peer, std::string* ip, int* port) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if ((peer ? getpeername(fd, sa, &len) : getsockname(fd, sa, &len)) != 0) return;
  char host[NI_MAXHOST];
  if (getnameinfo(sa, len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) == 0) *ip = host;
  if (addr.ss_family == AF_INET) {
    *port = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    *port = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
}

}  // namespace

void TlsStream::Allocate(size_t size) {
  in_.reset(new char[size]);  // default-initialised: not zero-filled
  in_size_ = size;
}

bool TlsStream::HasInput() const { return in_pos_ < in_end_ || SSL_has_pending(ssl_) == 1; }

bool TlsStream::is_readable() const {
  if (HasInput()) return true;
  pollfd p{fd_, POLLIN, 0};
  timeval tv{};
  socklen_t len = sizeof tv;
  int ms = 5000;
  if (getsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0 && (tv.tv_sec > 0 || tv.tv_usec > 0)) {
    ms = static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000);
  }
  return poll(&p, 1, ms) > 0;
}

bool TlsStream::FillBuffer() { return FillTo(1); }

bool TlsStream::FillTo(size_t total) {
  if (in_end_ - in_pos_ >= total) return true;
  // A reply still gathered goes out before a read that may wait (an "Expect: 100-continue").
  if (!out_.empty() && !HasInput() && !Flush()) {
    last_read_ = -1;
    return false;
  }
  // What is buffered moves to the front, into a larger buffer if `total` needs one.
  const size_t held = in_end_ - in_pos_;
  if (in_size_ < std::max(total, kReadBuffer)) {
    std::unique_ptr<char[]> kept = std::move(in_);
    Allocate(std::max(total, kReadBuffer));
    if (held > 0) std::memcpy(in_.get(), kept.get() + in_pos_, held);
  } else if (in_pos_ > 0) {
    std::memmove(in_.get(), in_.get() + in_pos_, held);
  }
  in_pos_ = 0;
  in_end_ = held;
  while (in_end_ < total) {
    const int n = SSL_read(ssl_, in_.get() + in_end_, static_cast<int>(in_size_ - in_end_));
    if (n <= 0) {
      last_read_ = SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
      return false;
    }
    last_read_ = n;
    in_end_ += static_cast<size_t>(n);
  }
  return true;
}

void TlsStream::Consume(size_t n) {
  in_pos_ += n;
  if (in_pos_ == in_end_ && in_size_ > kReadBuffer) {
    Allocate(kReadBuffer);
    in_pos_ = in_end_ = 0;
  }
}

ssize_t TlsStream::read(char* ptr, size_t size) {
  if (in_pos_ == in_end_ && !FillBuffer()) return last_read_;
  const size_t k = std::min(size, in_end_ - in_pos_);
  std::memcpy(ptr, in_.get() + in_pos_, k);
  in_pos_ += k;
  return static_cast<ssize_t>(k);
}

ssize_t TlsStream::write(const char* ptr, size_t size) {
  out_.append(ptr, size);
  if (out_.size() >= kMaxGathered && !Flush()) return -1;
  return static_cast<ssize_t>(size);
}

bool TlsStream::Flush() {
  if (out_.empty()) return true;
  const int n = SSL_write(ssl_, out_.data(), static_cast<int>(out_.size()));
  const bool ok = n > 0 && static_cast<size_t>(n) == out_.size();
  out_.clear();
  return ok;
}

void TlsStream::ReleaseBuffers() {
  if (in_pos_ == in_end_) {
    in_.reset();
    in_size_ = 0;
    in_pos_ = in_end_ = 0;
  }
  if (out_.empty()) std::string().swap(out_);
}

void TlsStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  if (!remote_.known) {
    ReadAddress(fd_, true, &remote_.ip, &remote_.port);
    remote_.known = true;
  }
  ip = remote_.ip;
  port = remote_.port;
}

void TlsStream::get_local_ip_and_port(std::string& ip, int& port) const {
  if (!local_.known) {
    ReadAddress(fd_, false, &local_.ip, &local_.port);
    local_.known = true;
  }
  ip = local_.ip;
  port = local_.port;
}

}  // namespace rootgate::server
