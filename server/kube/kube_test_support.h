// Test helpers for server/kube and server/audit unit tests: a temporary folder, and an
// in-memory KubeTransport that answers from a script and records what it was sent.
#pragma once

#include <stdlib.h>

#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "server/kube/kube_client.h"

namespace rootgate::server::kube::testing {

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/rootgate-kube-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string p = path + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string path;
};

struct SentRequest {
  std::string method, path, body, content_type, token, cert;
};

// Answers each request with `handler` (default: 404), recording it.
class FakeTransport final : public KubeTransport {
 public:
  using Handler = std::function<KubeTransportResult(const SentRequest&)>;
  explicit FakeTransport(Handler h) : handler_(std::move(h)) {}
  KubeTransportResult Send(const KubeHttpRequest& r) override {
    SentRequest s{r.method, r.path, r.body, r.content_type,
                  r.credentials ? r.credentials->bearer_token : "",
                  r.credentials ? r.credentials->client_cert_pem : ""};
    {
      std::lock_guard<std::mutex> lock(mu_);
      sent_.push_back(s);
    }
    return handler_(s);
  }
  std::vector<SentRequest> sent() {
    std::lock_guard<std::mutex> lock(mu_);
    return sent_;
  }

 private:
  std::mutex mu_;
  Handler handler_;
  std::vector<SentRequest> sent_;
};

inline KubeHttpResponse Json(int status, const std::string& body,
                             std::map<std::string, std::string> headers = {}) {
  KubeHttpResponse r;
  r.status = status;
  r.body = body;
  r.headers = std::move(headers);
  return r;
}

inline std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":")" + message +
         R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

// A credential source with a fixed token; counts invalidations.
class FixedCredentials final : public CredentialSource {
 public:
  explicit FixedCredentials(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}
  Result<Credentials> Get() override {
    Credentials c;
    c.bearer_token = tokens_[std::min(index_, tokens_.size() - 1)];
    return c;
  }
  bool Invalidate() override {
    ++index_;
    return index_ < tokens_.size();
  }
  size_t invalidations() const { return index_; }

 private:
  std::vector<std::string> tokens_;
  size_t index_ = 0;
};

}  // namespace rootgate::server::kube::testing
