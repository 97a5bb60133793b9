#include "server/webhook/serve_options.h"

#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>

#include "server/webhook/dev_certs.h"
#include "server/util/duration.h"

namespace rootgate::server {

const char* const kServeUsage =
    "usage: rootgate serve [flags]\n"
    "  --listen ADDR          HOST:PORT, :PORT or [V6]:PORT (default :8443)\n"
    "  --health-listen ADDR   also serve /healthz, /readyz and /metrics over plain HTTP here\n"
    "                         (for probes and scrapes without a client certificate)\n"
    "  --tls-cert FILE        serving certificate (PEM, chain after the leaf)\n"
    "  --tls-key FILE         its private key (PEM); without both, a local self-signed CA and\n"
    "                         certificate for localhost are made in --state-dir\n"
    "  --client-ca FILE       require client certificates signed by these CAs (mTLS)\n"
    "  --policy FILE          policy file, reloaded on change (default: the built-in policy)\n"
    "  --preset NAME          a built-in preset instead: default, pss-restricted, pss-baseline\n"
    "  --log-level LEVEL      debug, info, warn, error, off (default info)\n"
    "  --log-format FORMAT    json or text (default json)\n"
    "  --max-body SIZE        request body limit, e.g. 8Mi (default 8Mi)\n"
    "  --grace-period DUR     time to finish in-flight requests after SIGTERM (default 25s)\n"
    "  --reload-interval DUR  how often files are checked for changes (default 1s)\n"
    "  --state-dir DIR        where local certificates live (default $XDG_STATE_HOME/rootgate\n"
    "                         or ./.state)\n"
    "  --threads N            idle worker threads kept ready (default 32); each busy connection\n"
    "                         holds a thread, and more start as needed up to --max-connections\n"
    "  --max-connections N    open HTTPS connections at once (default 1024); a connection\n"
    "                         beyond that is closed at once\n"
    "  --read-timeout DUR     time a client has for the TLS handshake and a whole request, and\n"
    "                         after a response for the next request beyond --idle-timeout;\n"
    "                         a slower connection is closed (default 10s)\n"
    "  --idle-timeout DUR     keep-alive: an idle connection is closed after this, whole\n"
    "                         seconds (default 5s)\n"
    "  --http-parser NAME     rootgate (default): a POST /validate request that arrives whole is\n"
    "                         read and answered without cpp-httplib's parser, the same bytes as\n"
    "                         the library's; library: every request through cpp-httplib\n"
    "  --kube-api             read each pod's imagePullSecrets (and its service account's) from\n"
    "                         the API server and try them, as the kubelet does, before\n"
    "                         --registry-auth (RBAC: get on secrets and serviceaccounts)\n"
    "  --kubeconfig FILE      cluster access (for --kube-api and --audit-interval) from this\n"
    "                         kubeconfig's current context (default: the in-cluster config)\n"
    "background audit (off unless --audit-interval is given):\n"
    "  --audit-interval DUR   audit the cluster every DUR on the replica holding the Lease\n"
    "                         rootgate-audit (leader election); gauges on /metrics\n"
    "  --write-reports        keep PolicyReports (one per namespace, named rootgate) current\n"
    "  --report-api API       wgpolicyk8s.io/v1alpha2 (default) or openreports.io/v1alpha1\n"
    "  --audit-qps N          the audit's API requests a second (default 5)\n"
    "  --audit-burst N        and its burst (default 10)\n"
    "  --audit-lease-namespace NS  where the Lease lives (default: the pod's namespace from the\n"
    "                         service-account namespace file, else $POD_NAMESPACE)\n";

std::string ListenAddress::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<ListenAddress> ParseListen(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return Error{"expected HOST:PORT, :PORT or [V6]:PORT"};
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Error{"an IPv6 address needs brackets: [" + std::string(host) + "]:PORT"};
  }
  int port = -1;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) {
    return Error{"bad port \"" + std::string(port_text) + "\" (0-65535)"};
  }
  return ListenAddress{std::string(host), port};
}

namespace {

using Setter = std::function<std::string(ServeOptions&, const std::string&)>;

// A whole decimal number in [min, max]; nullopt otherwise.
std::optional<size_t> ParseCount(const std::string& v, size_t min, size_t max) {
  size_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max) return std::nullopt;
  return n;
}

Setter Text(std::string ServeOptions::*field) {
  return [field](ServeOptions& o, const std::string& v) {
    o.*field = v;
    return v.empty() ? std::string("must not be empty") : std::string();
  };
}

Setter Duration(std::chrono::nanoseconds ServeOptions::*field) {
  return [field](ServeOptions& o, const std::string& v) {
    auto d = ParseGoDuration(v);
    if (!d || d->count() <= 0) return std::string("expected a positive duration such as 25s or 500ms");
    o.*field = *d;
    return std::string();
  };
}

const std::map<std::string, Setter>& Setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"--listen", [](ServeOptions& o, const std::string& v) {
         auto l = ParseListen(v);
         if (l) o.listen = l.value();
         return l ? std::string() : l.error();
       }},
      {"--health-listen", [](ServeOptions& o, const std::string& v) {
         auto l = ParseListen(v);
         if (l) o.health_listen = l.value();
         return l ? std::string() : l.error();
       }},
      {"--tls-cert", Text(&ServeOptions::tls_cert)},
      {"--tls-key", Text(&ServeOptions::tls_key)},
      {"--client-ca", Text(&ServeOptions::client_ca)},
      {"--policy", Text(&ServeOptions::policy_file)},
      {"--preset", Text(&ServeOptions::preset)},
      {"--state-dir", Text(&ServeOptions::state_dir)},
      {"--kubeconfig", Text(&ServeOptions::kubeconfig)},
      {"--log-level", [](ServeOptions& o, const std::string& v) {
         auto l = LogLevelFromName(v);
         if (l) o.log_level = *l;
         return l ? std::string() : std::string("expected debug, info, warn, error or off");
       }},
      {"--log-format", [](ServeOptions& o, const std::string& v) {
         auto f = LogFormatFromName(v);
         if (f) o.log_format = *f;
         return f ? std::string() : std::string("expected json or text");
       }},
      {"--max-body", [](ServeOptions& o, const std::string& v) {
         auto n = ParseByteSize(v);
         if (n && n.value() == 0) return std::string("must be more than 0");
         if (n) o.max_body = n.value();
         return n ? std::string() : n.error();
       }},
      {"--grace-period", Duration(&ServeOptions::grace_period)},
      {"--reload-interval", Duration(&ServeOptions::reload_interval)},
      {"--threads", [](ServeOptions& o, const std::string& v) {
         auto n = ParseCount(v, 1, 1024);
         if (n) o.threads = static_cast<int>(*n);
         return n ? std::string() : std::string("expected a number from 1 to 1024");
       }},
      {"--max-connections", [](ServeOptions& o, const std::string& v) {
         auto n = ParseCount(v, 1, kMaxConnectionsLimit);
         if (n) o.max_connections = *n;
         return n ? std::string() : "expected a number from 1 to " + std::to_string(kMaxConnectionsLimit);
       }},
      {"--read-timeout", Duration(&ServeOptions::read_timeout)},
      {"--audit-interval", Duration(&ServeOptions::audit_interval)},
      {"--report-api", [](ServeOptions& o, const std::string& v) {
         o.audit_report_api = v;
         return v == "wgpolicyk8s.io/v1alpha2" || v == "openreports.io/v1alpha1"
                    ? std::string()
                    : std::string("expected wgpolicyk8s.io/v1alpha2 or openreports.io/v1alpha1");
       }},
      {"--audit-qps", [](ServeOptions& o, const std::string& v) {
         char* end = nullptr;
         const double q = std::strtod(v.c_str(), &end);
         if (v.empty() || *end != '\0' || !(q > 0) || q > 10000) return std::string("expected a number above 0, at most 10000");
         o.audit_qps = q;
         return std::string();
       }},
      {"--audit-burst", [](ServeOptions& o, const std::string& v) {
         auto n = ParseCount(v, 1, 10000);
         if (n) o.audit_burst = static_cast<int>(*n);
         return n ? std::string() : std::string("expected a number from 1 to 10000");
       }},
      {"--audit-lease-namespace", Text(&ServeOptions::audit_lease_namespace)},
      {"--http-parser", [](ServeOptions& o, const std::string& v) {
         if (v != "rootgate" && v != "library") return std::string("expected rootgate or library");
         o.http_fast_path = v == "rootgate";
         return std::string();
       }},
      {"--idle-timeout", [](ServeOptions& o, const std::string& v) {
         auto d = ParseGoDuration(v);
         if (!d || *d < std::chrono::seconds(1)) return std::string("expected a duration of at least 1s");
         o.idle_timeout = std::chrono::ceil<std::chrono::seconds>(*d);
         return std::string();
       }},
  };
  return kSetters;
}

}  // namespace

Result<ServeOptions> ParseServeFlags(const std::vector<std::string>& args) {
  ServeOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      o.help = true;
      continue;
    }
    if (args[i] == "--write-reports") {
      o.audit_write_reports = true;
      continue;
    }
    if (args[i] == "--kube-api") {
      o.kube_api = true;
      continue;
    }
    auto registry_flag = ConsumeRegistryFlag(args, &i, &o.registry);
    if (!registry_flag) return Error{registry_flag.error()};
    if (registry_flag.value()) continue;
    std::string name = args[i], value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    auto it = Setters().find(name);
    if (it == Setters().end()) return Error{"unknown flag or argument: " + args[i]};
    if (!inline_value) {
      if (i + 1 >= args.size()) return Error{name + ": missing value"};
      value = args[++i];
    }
    if (std::string problem = it->second(o, value); !problem.empty()) {
      return Error{name + " " + value + ": " + problem};
    }
  }
  if (o.tls_cert.empty() != o.tls_key.empty()) return Error{"give --tls-cert and --tls-key together"};
  if (!o.policy_file.empty() && !o.preset.empty()) return Error{"give --policy or --preset, not both"};
  if (o.audit_interval.count() == 0) {
    const bool audit_flag = o.audit_write_reports || o.audit_report_api != "wgpolicyk8s.io/v1alpha2" ||
                            o.audit_qps != 5 || o.audit_burst != 10 || !o.audit_lease_namespace.empty();
    if (audit_flag) return Error{"--write-reports, --report-api, --audit-qps, --audit-burst and --audit-lease-namespace need --audit-interval"};
  } else if (o.audit_interval < std::chrono::seconds(1)) {
    return Error{"--audit-interval: at least 1s"};
  }
  if (!o.kubeconfig.empty() && !o.kube_api && o.audit_interval.count() == 0) {
    return Error{"--kubeconfig needs --kube-api or --audit-interval"};
  }
  if (o.kube_api && o.registry.offline) {
    return Error{"--kube-api reads pull secrets for registry lookups, which --offline turns off"};
  }
  if (o.state_dir.empty()) o.state_dir = DefaultStateDir();
  return o;
}

}  // namespace rootgate::server
