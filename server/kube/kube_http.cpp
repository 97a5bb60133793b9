// KubeTransport over cpp-httplib 0.11.4 and OpenSSL.
//
// Verification is OpenSSL's own, configured on each client's SSL_CTX (httplib's is switched
// off, because it would add the system trust store to a kubeconfig CA): SSL_VERIFY_PEER against
// a shared X509_STORE holding only the kubeconfig's CA (or the system store when none is given),
// and X509_VERIFY_PARAM host (or IP) = tls-server-name, else the URL's host. With
// tls-server-name the client is built for that name (SNI) and connects to the URL host's
// address through httplib's hostname→address map; the Host header stays the URL's.
#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <httplib.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "server/kube/kube_transport.h"

namespace rootgate::server::kube {

namespace {

using SteadyClock = std::chrono::steady_clock;

thread_local int tls_verify_error = X509_V_OK;

int RecordVerify(int ok, X509_STORE_CTX* ctx) {
  if (ok == 0 && tls_verify_error == X509_V_OK) tls_verify_error = X509_STORE_CTX_get_error(ctx);
  return ok;
}

struct ServerUrl {
  bool tls = true;
  std::string host;       // without brackets
  std::string authority;  // as written: host[:port]
  int port = 443;
  std::string prefix;     // "" or "/path"
};

Result<ServerUrl> ParseServerUrl(const std::string& server) {
  ServerUrl u;
  std::string rest;
  if (server.starts_with("https://")) {
    rest = server.substr(8);
  } else if (server.starts_with("http://")) {
    u.tls = false;
    u.port = 80;
    rest = server.substr(7);
  } else {
    return Error{"server \"" + server + "\" is not an https:// URL"};
  }
  const size_t slash = rest.find('/');
  u.authority = rest.substr(0, slash);
  if (slash != std::string::npos) u.prefix = rest.substr(slash);
  while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  std::string port;
  if (u.authority.starts_with("[")) {
    const size_t close = u.authority.find(']');
    if (close == std::string::npos) return Error{"server \"" + server + "\": bad IPv6 address"};
    u.host = u.authority.substr(1, close - 1);
    if (close + 1 < u.authority.size() && u.authority[close + 1] == ':') port = u.authority.substr(close + 2);
  } else {
    const size_t colon = u.authority.rfind(':');
    u.host = u.authority.substr(0, colon);
    if (colon != std::string::npos) port = u.authority.substr(colon + 1);
  }
  if (u.host.empty()) return Error{"server \"" + server + "\" has no host"};
  if (!port.empty()) {
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) || std::stoi(port) == 0 ||
        std::stoi(port) > 65535) {
      return Error{"server \"" + server + "\": bad port"};
    }
    u.port = std::stoi(port);
  }
  return u;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

Result<X509_STORE*> BuildStore(const ClientConfig& c) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr) return Error{"cannot allocate a certificate store"};
  if (c.ca_pem.empty()) {
    X509_STORE_set_default_paths(store);
    return store;
  }
  BIO* bio = BIO_new_mem_buf(c.ca_pem.data(), static_cast<int>(c.ca_pem.size()));
  int added = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, cert) == 1) ++added;
    X509_free(cert);
  }
  BIO_free(bio);
  ERR_clear_error();
  if (added == 0) {
    X509_STORE_free(store);
    const std::string what = c.ca_file.empty() ? "certificate-authority-data" : "certificate-authority " + c.ca_file;
    return Error{what + ": no PEM certificate in it"};
  }
  return store;
}

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

class KubeHttp final : public KubeTransport {
 public:
  KubeHttp(const ClientConfig& c, ServerUrl url, X509_STORE* store)
      : url_(std::move(url)), store_(store), insecure_(c.insecure_skip_tls_verify),
        tls_name_(c.tls_server_name.empty() ? url_.host : c.tls_server_name),
        use_sni_name_(!c.tls_server_name.empty()) {}
  ~KubeHttp() override {
    if (store_ != nullptr) X509_STORE_free(store_);
  }

  KubeTransportResult Send(const KubeHttpRequest& r) override {
    const auto remaining = r.deadline - SteadyClock::now();
    if (remaining <= SteadyClock::duration::zero()) return KubeTransportError{true, "timed out"};
    const uint64_t generation = r.credentials != nullptr ? r.credentials->cert_generation : 0;
    auto client = Checkout(generation);
    if (!client) {
      client = NewClient(r.credentials);
      if (!client) return KubeTransportError{false, error_};
    }
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(remaining) + std::chrono::milliseconds(1);
    client->set_connection_timeout(ms);
    client->set_read_timeout(ms);
    client->set_write_timeout(ms);
    httplib::Request req;
    req.method = r.method;
    req.path = url_.prefix + r.path;
    req.headers.emplace("Host", url_.authority);
    req.headers.emplace("Accept", r.accept);
    req.headers.emplace("User-Agent", "rootgate/" ROOTGATE_VERSION);
    if (r.credentials != nullptr && !r.credentials->bearer_token.empty()) {
      req.headers.emplace("Authorization", "Bearer " + r.credentials->bearer_token);
    }
    if (!r.body.empty() || r.method == "PATCH" || r.method == "POST" || r.method == "PUT") {
      req.body = r.body;
      req.headers.emplace("Content-Type", r.content_type);
    }
    std::string body;
    bool too_large = false;
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (body.size() + n > r.max_body) {
        too_large = true;
        return false;
      }
      body.append(data, n);
      return true;
    };
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    tls_verify_error = X509_V_OK;
    if (!client->send(req, res, err)) return Failure(err, too_large, r);
    KubeHttpResponse out;
    out.status = res.status;
    for (const auto& [name, value] : res.headers) {
      std::string& slot = out.headers[Lower(name)];
      slot += slot.empty() ? value : ", " + value;
    }
    out.body = std::move(body);
    Return(generation, std::move(client));
    return out;
  }

 private:
  KubeTransportError Failure(httplib::Error err, bool too_large, const KubeHttpRequest& r) const {
    if (too_large) return {false, "response larger than " + std::to_string(r.max_body >> 20) + " MiB"};
    if (SteadyClock::now() >= r.deadline) return {true, "timed out"};
    if (tls_verify_error != X509_V_OK) {
      return {false, std::string("TLS certificate verification failed: ") +
                         X509_verify_cert_error_string(tls_verify_error) + " (checked for " + tls_name_ + ")"};
    }
    switch (err) {
      case httplib::Error::Connection:
      case httplib::Error::ConnectionTimeout:
        return {false, "cannot connect"};
      case httplib::Error::SSLConnection:
        return {false, "TLS handshake failed"};
      default:
        return {false, "HTTP exchange failed (" + httplib::to_string(err) + ")"};
    }
  }

  std::unique_ptr<httplib::ClientImpl> NewClient(const Credentials* creds) {
    std::unique_ptr<httplib::ClientImpl> client;
    if (!url_.tls) {
      client = std::make_unique<httplib::ClientImpl>(url_.host, url_.port);
    } else {
      auto ssl = MakeSslClient(creds);
      if (!ssl) return nullptr;
      client = std::move(ssl);
    }
    if (use_sni_name_ && url_.tls) {
      std::string address = Resolve(url_.host);
      if (address.empty()) {
        error_ = "cannot resolve " + url_.host;
        return nullptr;
      }
      client->set_hostname_addr_map({{tls_name_, address}});
    }
    client->set_follow_location(false);
    client->set_keep_alive(true);
    client->set_tcp_nodelay(true);
    return client;
  }

  std::unique_ptr<httplib::SSLClient> MakeSslClient(const Credentials* creds) {
    const std::string host = use_sni_name_ ? tls_name_ : url_.host;
    std::unique_ptr<httplib::SSLClient> ssl;
    if (creds != nullptr && !creds->client_cert_pem.empty()) {
      X509* cert = nullptr;
      EVP_PKEY* key = nullptr;
      if (!ParseClientCert(*creds, &cert, &key)) return nullptr;
      ssl = std::make_unique<httplib::SSLClient>(host, url_.port, cert, key);
      X509_free(cert);
      EVP_PKEY_free(key);
    } else {
      ssl = std::make_unique<httplib::SSLClient>(host, url_.port);
    }
    if (!ssl->is_valid()) {
      error_ = "the client certificate and key do not match";
      return nullptr;
    }
    ssl->enable_server_certificate_verification(false);  // verified by OpenSSL itself, below
    SSL_CTX* ctx = ssl->ssl_context();
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (!insecure_) {
      SSL_CTX_set1_cert_store(ctx, store_);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, RecordVerify);
      X509_VERIFY_PARAM* param = SSL_CTX_get0_param(ctx);
      if (IsIpLiteral(tls_name_)) {
        X509_VERIFY_PARAM_set1_ip_asc(param, tls_name_.c_str());
      } else {
        X509_VERIFY_PARAM_set1_host(param, tls_name_.c_str(), 0);
      }
    }
    return ssl;
  }

  bool ParseClientCert(const Credentials& c, X509** cert, EVP_PKEY** key) {
    BIO* cb = BIO_new_mem_buf(c.client_cert_pem.data(), static_cast<int>(c.client_cert_pem.size()));
    *cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(c.client_key_pem.data(), static_cast<int>(c.client_key_pem.size()));
    *key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    ERR_clear_error();
    if (*cert != nullptr && *key != nullptr) return true;
    error_ = *cert == nullptr ? "the client certificate is not a PEM certificate"
                              : "the client key is not an unencrypted PEM private key";
    X509_free(*cert);
    EVP_PKEY_free(*key);
    return false;
  }

  static std::string Resolve(const std::string& host) {
    if (IsIpLiteral(host)) return host;
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return "";
    char buf[INET6_ADDRSTRLEN] = {};
    const void* addr = res->ai_family == AF_INET6
                           ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr)
                           : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr);
    inet_ntop(res->ai_family, addr, buf, sizeof buf);
    freeaddrinfo(res);
    return buf;
  }

  std::unique_ptr<httplib::ClientImpl> Checkout(uint64_t generation) {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation != generation_) {
      idle_.clear();  // made with another client certificate
      generation_ = generation;
    }
    if (idle_.empty()) return nullptr;
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }

  void Return(uint64_t generation, std::unique_ptr<httplib::ClientImpl> c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (generation == generation_ && idle_.size() < 8) idle_.push_back(std::move(c));
  }

  const ServerUrl url_;
  X509_STORE* store_;
  const bool insecure_;
  const std::string tls_name_;
  const bool use_sni_name_;
  std::mutex mu_;
  std::vector<std::unique_ptr<httplib::ClientImpl>> idle_;
  uint64_t generation_ = 0;
  static thread_local std::string error_;
};

thread_local std::string KubeHttp::error_;

}  // namespace

Result<std::unique_ptr<KubeTransport>> MakeKubeHttpTransport(const ClientConfig& config) {
  auto url = ParseServerUrl(config.server);
  if (!url) return Error{url.error()};
  X509_STORE* store = nullptr;
  if (url.value().tls) {
    auto built = BuildStore(config);
    if (!built) return Error{built.error()};
    store = built.value();
  }
  return std::unique_ptr<KubeTransport>(std::make_unique<KubeHttp>(config, std::move(url).value(), store));
}

}  // namespace rootgate::server::kube
