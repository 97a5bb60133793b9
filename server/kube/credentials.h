// Where the API client's credentials come from: a static token or client certificate, a token
// file re-read as it rotates (a projected service-account token), or an exec credential plugin
// (client.authentication.k8s.io v1 / v1beta1) whose ExecCredential is cached until its
// expirationTimestamp and fetched again after a 401. Credentials never appear in error
// messages. Thread-safe: Get and Invalidate may be called from many threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "policy/result.h"
#include "server/kube/kubeconfig.h"

namespace rootgate::server::kube {

struct Credentials {
  std::string bearer_token;                      // empty: none
  std::string client_cert_pem, client_key_pem;   // empty: none
  // Changes whenever the client certificate changes, so TLS connections made with an older
  // certificate are not reused.
  uint64_t cert_generation = 0;
};

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // The credentials to send now. Fails when a token file cannot be read and nothing else is
  // configured, or when the exec plugin fails (the message names the plugin, never its output).
  virtual Result<Credentials> Get() = 0;
  // The API server answered 401 to credentials from Get: the next Get re-reads the token
  // file or runs the plugin again. Returns true when doing so may give other credentials
  // (a retry is worth it).
  virtual bool Invalidate() = 0;
};

// Runs an exec plugin: `exec_info` is the KUBERNETES_EXEC_INFO value. Returns the plugin's
// stdout, or an error (exit status, not found, timed out). An interface so tests run in memory.
class ExecRunner {
 public:
  virtual ~ExecRunner() = default;
  virtual Result<std::string> Run(const ExecConfig& config, const std::string& exec_info,
                                  std::chrono::milliseconds timeout) = 0;
};

// posix_spawnp with the process environment plus the plugin's env, stdin /dev/null, stdout
// captured (at most 1 MiB), stderr passed through to ours (as kubectl does); killed at timeout.
std::unique_ptr<ExecRunner> MakeProcessExecRunner();

// A parsed ExecCredential.
struct ExecCredential {
  std::string token;
  std::string client_cert_pem, client_key_pem;
  std::optional<std::chrono::system_clock::time_point> expiry;
};

// Parses a plugin's output; `api_version` is the one the kubeconfig asked for and must match.
Result<ExecCredential> ParseExecCredential(std::string_view output, const std::string& api_version);

// RFC 3339 ("2026-12-03T12:00:00Z", fractional seconds and offsets allowed) to a time point.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

using WallClock = std::function<std::chrono::system_clock::time_point()>;

// The credential source for a resolved config. `runner` is used only with an exec plugin.
// The token file (if any) is re-read at most every `token_file_period` and after Invalidate.
std::unique_ptr<CredentialSource> MakeCredentialSource(
    const ClientConfig& config, std::shared_ptr<ExecRunner> runner, WallClock now,
    std::chrono::seconds token_file_period = std::chrono::seconds(60));

}  // namespace rootgate::server::kube
