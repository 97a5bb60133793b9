// Credential sources: static, token file, exec plugin.
#include "server/kube/credentials.h"

#include <fstream>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "server/registry/docker_config.h"

namespace rootgate::server::kube {

namespace {

using SystemTime = std::chrono::system_clock::time_point;

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// Token (static or from a file, the file winning when readable, as client-go's
// cachedFileTokenSource) and a static client certificate.
class StaticSource final : public CredentialSource {
 public:
  StaticSource(const ClientConfig& c, WallClock now, std::chrono::seconds period)
      : token_(c.token), file_(c.token_file), now_(std::move(now)), period_(period) {
    creds_.client_cert_pem = c.client_cert_pem;
    creds_.client_key_pem = c.client_key_pem;
  }

  Result<Credentials> Get() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (file_.empty()) {
      creds_.bearer_token = token_;
      return creds_;
    }
    const SystemTime now = now_();
    if (!have_ || force_ || now - read_at_ >= period_) {
      std::ifstream in(file_, std::ios::binary);
      std::ostringstream s;
      if (in && (s << in.rdbuf())) {
        file_token_ = Trim(s.str());
        have_ = true;
      } else if (!have_ && token_.empty()) {
        return Error{"token file " + file_ + ": cannot read it"};
      }
      // On a failed re-read the last good token stays (client-go's cachedFileTokenSource).
      read_at_ = now;
      force_ = false;
    }
    creds_.bearer_token = have_ && !file_token_.empty() ? file_token_ : token_;
    return creds_;
  }

  bool Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (file_.empty()) return false;
    force_ = true;  // re-read now: the kubelet may have rotated it
    return true;
  }

 private:
  std::mutex mu_;
  const std::string token_, file_;
  WallClock now_;
  std::chrono::seconds period_;
  Credentials creds_;
  bool have_ = false;   // file_token_ was read at least once
  bool force_ = false;  // re-read at the next Get
  SystemTime read_at_{};
  std::string file_token_;
};

std::string ExecInfo(const ClientConfig& c) {
  nlohmann::json spec = {{"interactive", false}};
  if (c.exec->provide_cluster_info) {
    nlohmann::json cluster = {{"server", c.server}, {"insecure-skip-tls-verify", c.insecure_skip_tls_verify}};
    if (!c.tls_server_name.empty()) cluster["tls-server-name"] = c.tls_server_name;
    if (!c.ca_pem.empty()) cluster["certificate-authority-data"] = EncodeBase64(c.ca_pem);
    spec["cluster"] = std::move(cluster);
  }
  return nlohmann::json{{"apiVersion", c.exec->api_version}, {"kind", "ExecCredential"}, {"spec", spec}}.dump();
}

class ExecSource final : public CredentialSource {
 public:
  ExecSource(const ClientConfig& c, std::shared_ptr<ExecRunner> runner, WallClock now)
      : config_(*c.exec), info_(ExecInfo(c)), runner_(std::move(runner)), now_(std::move(now)) {}

  Result<Credentials> Get() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ && (!expiry_ || now_() < *expiry_)) return creds_;
    auto out = runner_->Run(config_, info_, std::chrono::seconds(60));
    if (!out) return Error{Describe() + ": " + out.error() + Hint()};
    auto cred = ParseExecCredential(out.value(), config_.api_version);
    if (!cred) return Error{Describe() + ": " + cred.error()};
    ExecCredential& c = cred.value();
    if (c.client_cert_pem != creds_.client_cert_pem) ++creds_.cert_generation;
    creds_.bearer_token = std::move(c.token);
    creds_.client_cert_pem = std::move(c.client_cert_pem);
    creds_.client_key_pem = std::move(c.client_key_pem);
    expiry_ = c.expiry;
    cached_ = true;
    return creds_;
  }

  bool Invalidate() override {
    std::lock_guard<std::mutex> lock(mu_);
    cached_ = false;
    return true;
  }

 private:
  std::string Describe() const { return "exec credential plugin " + config_.command; }
  std::string Hint() const { return config_.install_hint.empty() ? "" : " (" + config_.install_hint + ")"; }

  std::mutex mu_;
  const ExecConfig config_;
  const std::string info_;
  std::shared_ptr<ExecRunner> runner_;
  WallClock now_;
  bool cached_ = false;
  std::optional<SystemTime> expiry_;
  Credentials creds_;
};

}  // namespace

std::unique_ptr<CredentialSource> MakeCredentialSource(const ClientConfig& config,
                                                       std::shared_ptr<ExecRunner> runner,
                                                       WallClock now,
                                                       std::chrono::seconds token_file_period) {
  if (config.exec) return std::make_unique<ExecSource>(config, std::move(runner), std::move(now));
  return std::make_unique<StaticSource>(config, std::move(now), token_file_period);
}

}  // namespace rootgate::server::kube
