// One server-side TLS connection as cpp-httplib's Stream, for HttpsServer's own connection loop.
// Differences from the library's SSLSocketStream, each measured (see README, Performance):
//  * reads: one SSL_read fills a buffer and the parser's one-byte reads are served from it (the
//    library makes an SSL_read, and before it a poll(2), for each byte of the request line
//    and headers);
//  * writes: the reply (status line, headers, body) is gathered and sent by Flush as one
//    SSL_write, so one TLS record and one TCP segment instead of two; pending output is also
//    flushed before any read that has to wait (an "Expect: 100-continue" answer goes out);
//  * the peer's and the local address are read once per connection, not per request.
// Blocking reads and writes are bounded by the socket's SO_RCVTIMEO/SO_SNDTIMEO.
// Thread-compatible: one thread at a time.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>

namespace rootgate::server {

class TlsStream final : public httplib::Stream {
 public:
  // `ssl` has completed its handshake on socket `fd`; both outlive the stream.
  TlsStream(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}

  bool is_readable() const override;
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  // Sends what write gathered, in one SSL_write. False when that failed (the connection is
  // then unusable).
  bool Flush();
  // Request bytes already here: in the buffer, or decrypted or read ahead inside OpenSSL.
  bool HasInput() const;
  // The request bytes read and not yet consumed; with FillBuffer and Consume, for a reader that
  // looks at a whole request before taking it (HttpsServer's POST /validate path).
  std::string_view Buffered() const { return {in_.get() + in_pos_, in_end_ - in_pos_}; }
  // When the buffer is empty, one SSL_read into it (blocking, bounded by SO_RCVTIMEO, as read
  // would). False when nothing could be read (closed, failed, timed out).
  bool FillBuffer();
  // Reads (blocking, as read would) until `total` bytes are buffered, growing the buffer to fit.
  // False when a read failed first; what was read stays buffered.
  bool FillTo(size_t total);
  // Takes the first `n` buffered bytes (n <= Buffered().size()). A buffer grown by FillTo goes
  // back to its usual size once it is empty.
  void Consume(size_t n);
  // Frees the buffers when nothing is held in them (before the connection waits, idle).
  void ReleaseBuffers();

 private:
  struct Address {
    bool known = false;
    std::string ip;
    int port = 0;
  };
  // A new read buffer of `size` bytes in place of the old one (its bytes are not kept).
  void Allocate(size_t size);

  const int fd_;
  SSL* const ssl_;
  // The read buffer: allocated without zero-filling it, so only the pages a read writes are
  // touched (a 2 KiB request in a 16 KiB buffer: one page, not four).
  std::unique_ptr<char[]> in_;
  size_t in_size_ = 0;
  size_t in_pos_ = 0;
  size_t in_end_ = 0;
  std::string out_;
  ssize_t last_read_ = 0;  // what the last SSL_read gave: bytes, 0 at the end, -1 on failure
  mutable Address remote_, local_;
};

}  // namespace rootgate::server
