// RegistryTransport over cpp-httplib 0.11.4 with OpenSSL.
//
// Connecting to the vetted address: httplib's ClientImpl::set_hostname_addr_map({name → ip})
// (present in 0.11.4) makes create_client_socket connect to `ip` while the client keeps `name`
// for the Host header, SNI and the certificate host check. So the address RegistryLimits
// vetted is the address connected to; the name is never resolved again (no DNS rebinding).
//
// CA certificates: the system store (httplib's SSL_CTX_set_default_verify_paths) unless an
// extra CA file is given; then one shared X509_STORE holds the system CAs and the extra file,
// each client's SSL_CTX takes a reference to it, and ca_cert_path is set to the extra file so
// httplib does not reload the system bundle per client.
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>

#include "server/registry/registry_transport.h"

namespace rootgate::server {

namespace {

using Clock = std::chrono::steady_clock;

std::string PoolKey(const HttpTarget& t) {
  return std::string(t.tls ? "https://" : "http://") + t.endpoint.host + ":" +
         std::to_string(t.endpoint.port) + "@" + t.address;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// What one Send observed while the body streamed in.
struct Transfer {
  explicit Transfer(const RegistryHttpRequest& r) : request(r) {}

  const RegistryHttpRequest& request;
  size_t received = 0;
  bool too_large = false, timed_out = false, stopped = false, stream = false;
  std::string body;

  bool OnResponse(const httplib::Response& res) {
    stream = request.on_body && res.status >= 200 && res.status < 300;
    const std::string length = res.get_header_value("Content-Length");
    const bool digits = !length.empty() && length.size() < 19 &&
                        std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits && std::stoull(length) > request.max_body) {
      too_large = true;
      return false;
    }
    return true;
  }

  bool OnData(const char* data, size_t n) {
    received += n;
    if (received > request.max_body) {
      too_large = true;
      return false;
    }
    if (Clock::now() >= request.deadline) {
      timed_out = true;
      return false;
    }
    if (stream) {
      if (!request.on_body(std::string_view(data, n))) {
        stopped = true;
        return false;
      }
      return true;
    }
    body.append(data, n);
    return true;
  }
};

TransportError Failure(TransportError::Kind kind, std::string message) {
  return TransportError{kind, std::move(message)};
}

TransportError MapError(httplib::Error err, const Transfer& t, const httplib::ClientImpl& client,
                        bool tls) {
  using K = TransportError::Kind;
  if (t.too_large) return Failure(K::kTooLarge, "response larger than " + std::to_string(t.request.max_body) + " bytes");
  if (t.timed_out || Clock::now() >= t.request.deadline) return Failure(K::kTimeout, "timed out");
  if (t.stopped) return Failure(K::kStopped, "stopped");
  switch (err) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
      return Failure(K::kConnect, "cannot connect");
    case httplib::Error::SSLConnection:
      return Failure(K::kTls, "TLS handshake failed");
    case httplib::Error::SSLLoadingCerts:
      return Failure(K::kTls, "cannot load CA certificates");
    case httplib::Error::SSLServerVerification: {
      long code = tls ? static_cast<const httplib::SSLClient&>(client).get_openssl_verify_result() : 0;
      return Failure(K::kTls, std::string("TLS certificate verification failed: ") +
                                  X509_verify_cert_error_string(code));
    }
    default:
      return Failure(K::kProtocol, "HTTP exchange failed (" + httplib::to_string(err) + ")");
  }
}

class HttpTransport final : public RegistryTransport {
 public:
  HttpTransport(X509_STORE* store, std::string extra_ca, size_t max_idle)
      : store_(store), extra_ca_(std::move(extra_ca)), max_idle_(max_idle) {}
  ~HttpTransport() override {
    if (store_ != nullptr) X509_STORE_free(store_);
  }

  TransportResult Send(const RegistryHttpRequest& r) override {
    const auto remaining = r.deadline - Clock::now();
    if (remaining <= Clock::duration::zero()) return Failure(TransportError::Kind::kTimeout, "timed out");
    std::unique_ptr<httplib::ClientImpl> client = Checkout(r.target);
    if (!Track(client.get())) return Failure(TransportError::Kind::kStopped, "shutting down");
    struct Untrack {
      HttpTransport* t;
      httplib::ClientImpl* c;
      ~Untrack() { t->Forget(c); }
    } untrack{this, client.get()};
    // httplib polls with whole milliseconds (truncated): round up, so that its timeout falls at
    // or just after the deadline and is reported as one.
    const auto us = std::chrono::ceil<std::chrono::milliseconds>(remaining) + std::chrono::milliseconds(1);
    client->set_connection_timeout(us);
    client->set_read_timeout(us);
    client->set_write_timeout(us);
    Transfer transfer(r);
    httplib::Request req = BuildRequest(r, transfer);
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    if (!client->send(req, res, err)) return MapError(err, transfer, *client, r.target.tls);
    RegistryHttpResponse out;
    out.status = res.status;
    for (const auto& [name, value] : res.headers) {
      std::string& slot = out.headers[Lower(name)];
      slot += slot.empty() ? value : ", " + value;
    }
    out.body = std::move(transfer.body);
    Return(r.target, std::move(client));
    return out;
  }

 private:
  static httplib::Request BuildRequest(const RegistryHttpRequest& r, Transfer& transfer) {
    httplib::Request req;
    req.method = r.method;
    req.path = r.path;
    for (const auto& [name, value] : r.headers) req.headers.emplace(name, value);
    req.headers.emplace("Accept-Encoding", "identity");
    req.headers.emplace("User-Agent", "rootgate/" ROOTGATE_VERSION);
    if (!r.body.empty() || r.method == "POST") {
      req.body = r.body;
      req.headers.emplace("Content-Type", r.content_type);
    }
    req.response_handler = [&transfer](const httplib::Response& res) { return transfer.OnResponse(res); };
    req.content_receiver = [&transfer](const char* data, size_t n, uint64_t, uint64_t) {
      return transfer.OnData(data, n);
    };
    return req;
  }

  std::unique_ptr<httplib::ClientImpl> NewClient(const HttpTarget& t) const {
    std::unique_ptr<httplib::ClientImpl> client;
    if (t.tls) {
      auto ssl = std::make_unique<httplib::SSLClient>(t.endpoint.host, t.endpoint.port);
      ssl->enable_server_certificate_verification(true);
      SSL_CTX_set_min_proto_version(ssl->ssl_context(), TLS1_2_VERSION);
      if (store_ != nullptr) {
        SSL_CTX_set1_cert_store(ssl->ssl_context(), store_);
        ssl->set_ca_cert_path(extra_ca_);
      }
      client = std::move(ssl);
    } else {
      client = std::make_unique<httplib::ClientImpl>(t.endpoint.host, t.endpoint.port);
    }
    client->set_hostname_addr_map({{t.endpoint.host, t.address}});
    client->set_follow_location(false);
    client->set_keep_alive(true);
    client->set_decompress(false);
    client->set_tcp_nodelay(true);
    return client;
  }

  // An idle client, newest last; connections idle longer than kIdleFor are closed.
  struct Idle {
    std::unique_ptr<httplib::ClientImpl> client;
    Clock::time_point since;
  };
  static constexpr auto kIdleFor = std::chrono::seconds(30);
  static constexpr size_t kMaxIdleTotal = 64;

  std::unique_ptr<httplib::ClientImpl> Checkout(const HttpTarget& t) {
    std::unique_ptr<httplib::ClientImpl> reused;
    std::vector<std::unique_ptr<httplib::ClientImpl>> stale;  // closed outside the lock
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto now = Clock::now();
      for (auto it = idle_.begin(); it != idle_.end();) {
        auto& list = it->second;
        while (!list.empty() && now - list.front().since > kIdleFor) {
          stale.push_back(std::move(list.front().client));
          list.erase(list.begin());
          --idle_total_;
        }
        it = list.empty() ? idle_.erase(it) : std::next(it);
      }
      auto it = idle_.find(PoolKey(t));
      if (it != idle_.end()) {
        reused = std::move(it->second.back().client);
        it->second.pop_back();
        --idle_total_;
        if (it->second.empty()) idle_.erase(it);
      }
    }
    return reused ? std::move(reused) : NewClient(t);
  }

  void Return(const HttpTarget& t, std::unique_ptr<httplib::ClientImpl> client) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& list = idle_[PoolKey(t)];
    if (list.size() >= max_idle_ || idle_total_ >= kMaxIdleTotal) return;  // closed on return
    list.push_back(Idle{std::move(client), Clock::now()});
    ++idle_total_;
  }

  // Clients in an exchange now, so CancelAll can stop them (httplib's stop() is meant to be
  // called from another thread).
  bool Track(httplib::ClientImpl* c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return false;
    active_.insert(c);
    return true;
  }
  void Forget(httplib::ClientImpl* c) {
    std::lock_guard<std::mutex> lock(mu_);
    active_.erase(c);
  }

 public:
  void CancelAll() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    for (httplib::ClientImpl* c : active_) c->stop();
  }

 private:
  X509_STORE* store_;
  std::string extra_ca_;
  size_t max_idle_;
  bool cancelled_ = false;
  std::set<httplib::ClientImpl*> active_;
  std::mutex mu_;
  std::map<std::string, std::vector<Idle>> idle_;
  size_t idle_total_ = 0;
};

}  // namespace

Result<std::unique_ptr<RegistryTransport>> MakeHttpTransport(const HttpTransportOptions& options) {
  X509_STORE* store = nullptr;
  if (!options.extra_ca_file.empty()) {
    store = X509_STORE_new();
    if (store == nullptr || X509_STORE_set_default_paths(store) != 1 ||
        X509_STORE_load_file(store, options.extra_ca_file.c_str()) != 1) {
      if (store != nullptr) X509_STORE_free(store);
      return Error{"registry CA file " + options.extra_ca_file + ": cannot load PEM certificates"};
    }
  }
  return std::unique_ptr<RegistryTransport>(
      std::make_unique<HttpTransport>(store, options.extra_ca_file, options.max_idle_per_host));
}

}  // namespace rootgate::server
