// One HTTP exchange with the Kubernetes API server, as an interface so the API client is tested
// in memory. The HTTPS implementation verifies the server against the kubeconfig's CA (the
// system trust store when none is given), checks the certificate for tls-server-name (else
// the URL's host), skips verification only with insecure-skip-tls-verify, presents the client
// certificate of the request's credentials, reuses connections (keep-alive), and enforces each
// request's deadline and body cap. Implementations must be thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <variant>

#include "policy/result.h"
#include "server/kube/credentials.h"
#include "server/kube/kubeconfig.h"

namespace rootgate::server::kube {

struct KubeHttpRequest {
  std::string method = "GET";
  std::string path;  // path and query, percent-encoded, without the server's path prefix
  std::string body;
  std::string content_type;
  std::string accept = "application/json";
  const Credentials* credentials = nullptr;  // bearer token and/or client certificate
  std::chrono::steady_clock::time_point deadline;
  size_t max_body = size_t{256} << 20;
};

struct KubeHttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;

  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct KubeTransportError {
  bool timeout = false;
  std::string message;  // "cannot connect", "TLS certificate verification failed: ..."; no credentials
};

using KubeTransportResult = std::variant<KubeHttpResponse, KubeTransportError>;

class KubeTransport {
 public:
  virtual ~KubeTransport() = default;
  // A response of any status, or the reason the exchange did not complete.
  virtual KubeTransportResult Send(const KubeHttpRequest& request) = 0;
};

// The HTTPS (or, for an http:// server, plain) transport for `config`. Fails on a bad server
// URL or unreadable CA PEM, naming which.
Result<std::unique_ptr<KubeTransport>> MakeKubeHttpTransport(const ClientConfig& config);

}  // namespace rootgate::server::kube
