// The flags of `rootgate serve` and their parsing. Pure (no I/O beyond reading the
// XDG_STATE_HOME environment variable for the default state directory); thread-compatible.
#pragma once

#include <spdlog/common.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"
#include "server/util/byte_size.h"
#include "server/util/logging.h"
#include "server/registry/registry_options.h"

namespace rootgate::server {

struct ListenAddress {
  std::string host;  // "" = every address (IPv6 and IPv4)
  int port = 8443;   // 0 = any free port

  // "host:port", "[v6]:port", or ":port".
  std::string ToString() const;
};

// "HOST:PORT", ":PORT" or "[V6ADDR]:PORT"; PORT 0..65535.
Result<ListenAddress> ParseListen(std::string_view text);

// The largest --max-connections (each busy connection holds a thread).
inline constexpr size_t kMaxConnectionsLimit = 65536;

struct ServeOptions {
  ListenAddress listen;
  std::optional<ListenAddress> health_listen;  // plain HTTP: /healthz, /readyz, /metrics only
  std::string tls_cert, tls_key;  // both or neither; neither = local self-signed certificates
  std::string client_ca;          // non-empty: mTLS required
  std::string policy_file;        // watched and reloaded
  std::string preset;             // a built-in preset instead of a file
  spdlog::level::level_enum log_level = spdlog::level::info;
  LogFormat log_format = LogFormat::kJson;
  size_t max_body = size_t{8} << 20;
  std::chrono::nanoseconds grace_period = std::chrono::seconds(25);
  std::chrono::nanoseconds reload_interval = std::chrono::seconds(1);
  std::string state_dir;  // default: DefaultStateDir()
  int threads = 32;       // idle worker threads kept ready (each busy connection holds one)
  size_t max_connections = 1024;  // open HTTPS connections at once; more are closed at once
  std::chrono::nanoseconds read_timeout = std::chrono::seconds(10);  // handshake + one request
  std::chrono::seconds idle_timeout{5};  // keep-alive: idle time before the server closes
  bool http_fast_path = true;  // --http-parser rootgate (true) or library (server/webhook/fast_request.h)
  // Cluster access (--kubeconfig; empty: the in-cluster config), used by --kube-api and the
  // background audit.
  std::string kubeconfig;
  // The background audit (server/webhook/background_audit.h); off while audit_interval is 0.
  std::chrono::nanoseconds audit_interval{0};
  bool audit_write_reports = false;
  std::string audit_report_api = "wgpolicyk8s.io/v1alpha2";  // or openreports.io/v1alpha1
  double audit_qps = 5;
  int audit_burst = 10;
  std::string audit_lease_namespace;  // default: the pod's namespace (file, else $POD_NAMESPACE)
  bool help = false;      // --help given
  RegistryOptions registry;  // registry lookups: --allow-registry, --offline, ... (kRegistryFlagsHelp)
  bool kube_api = false;     // --kube-api: read pods' pull secrets from the API server
};

// Flags as `--name value` or `--name=value`. An error names the flag and what is wrong.
Result<ServeOptions> ParseServeFlags(const std::vector<std::string>& args);

extern const char* const kServeUsage;

}  // namespace rootgate::server
