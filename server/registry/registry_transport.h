// One HTTP exchange with a registry-side host (registry, mirror, token realm, blob storage), as
// an interface so the registry client is tested in memory. The transport connects to the
// address it is given — already vetted by RegistryLimits — with the host name kept for the Host
// header, TLS SNI and certificate verification. It follows no redirects (the client re-checks
// every hop) and enforces the request's deadline and size cap. Implementations must be
// thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "server/registry/registry_limits.h"

namespace rootgate::server {

using SteadyTime = std::chrono::steady_clock::time_point;

struct HttpTarget {
  bool tls = true;
  HostPort endpoint;    // the name: Host header, SNI, certificate check; and the port
  std::string address;  // the vetted numeric address to connect to
};

struct RegistryHttpRequest {
  HttpTarget target;
  std::string method = "GET";  // GET, or POST for an OAuth2 token
  std::string path;            // path and query, already percent-encoded
  std::vector<std::pair<std::string, std::string>> headers;  // may carry credentials
  std::string body;            // POST only
  std::string content_type;    // POST only
  size_t max_body = size_t{4} << 20;
  // When set, a 2xx body is handed over chunk by chunk instead of kept (other bodies are kept);
  // returning false stops the transfer (reported as kStopped).
  std::function<bool(std::string_view)> on_body;
  SteadyTime deadline;
};

struct RegistryHttpResponse {
  int status = 0;
  // Header names in lower case; repeated headers joined with ", " (RFC 9110 §5.3).
  std::map<std::string, std::string> headers;
  std::string body;  // empty when on_body took it

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct TransportError {
  enum class Kind { kTimeout, kTooLarge, kConnect, kTls, kProtocol, kStopped };
  Kind kind = Kind::kConnect;
  std::string message;  // without the host; never holds a credential
};

using TransportResult = std::variant<RegistryHttpResponse, TransportError>;

class RegistryTransport {
 public:
  virtual ~RegistryTransport() = default;
  // Performs one exchange. A response of any status is a RegistryHttpResponse; an exchange that
  // did not complete (no connection, TLS failure, deadline, cap, stopped by on_body) is a
  // TransportError.
  virtual TransportResult Send(const RegistryHttpRequest& request) = 0;
  // For shutdown: aborts the exchanges in flight and fails every later one at once.
  virtual void CancelAll() {}
};

struct HttpTransportOptions {
  std::string extra_ca_file;  // PEM CA certificates trusted besides the system ones
  size_t max_idle_per_host = 4;
};

// cpp-httplib over OpenSSL: TLS verification always on for tls targets, connection reuse
// (keep-alive) per host and address, timeouts from each request's deadline. Fails to build
// when the extra CA file cannot be read.
Result<std::unique_ptr<RegistryTransport>> MakeHttpTransport(const HttpTransportOptions& options);

}  // namespace rootgate::server
