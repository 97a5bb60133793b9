#include "server/webhook/serve.h"

#include <malloc.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <thread>

#include "policy/policy_parse.h"
#include "server/webhook/background_audit.h"
#include "server/webhook/dev_certs.h"
#include "server/webhook/https_server.h"
#include "server/admission/image_lookup.h"
#include "server/kube/kube_client.h"
#include "server/kube/kubeconfig.h"
#include "server/kube/pull_secrets.h"
#include "server/util/logging.h"
#include "server/inputs/policy_source.h"
#include "server/webhook/reloader.h"
#include "server/webhook/serve_options.h"
#include "server/webhook/signals.h"

namespace rootgate::server {

namespace {

using std::chrono::steady_clock;

// glibc gives a thread that allocates while the other arenas are locked an arena of its own, up
// to 8 per core, and each keeps the 100-130 KiB of heap its thread's requests touched: with a
// thread per busy connection that was about a tenth of serve's RSS. Two arenas share it (the
// per-thread tcache still serves most small allocations without a lock); measured with
// tests/bench_serve.sh (README, Performance). MALLOC_ARENA_MAX in the environment still decides.
void LimitMallocArenas() {
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
}

// Cluster access for serve: --kubeconfig (that file only, its current context), else the
// in-cluster config.
Result<kube::ClientConfig> ServeClientConfig(const ServeOptions& o) {
  if (o.kubeconfig.empty()) {
    auto c = kube::InClusterConfig(kube::InClusterFromEnvironment());
    if (!c) return Error{"no --kubeconfig and no in-cluster config: " + c.error()};
    return c;
  }
  kube::LoadOptions load;
  load.explicit_path = o.kubeconfig;
  return kube::LoadClientConfig(load);
}

// --kube-api: the API client, from the pod's service account unless --kubeconfig names a file.
// Each call may take 3 s, retries included: a pull secret is read inside an admission request.
Result<std::unique_ptr<kube::KubeClient>> BuildKubeClient(const ServeOptions& o) {
  auto config = ServeClientConfig(o);
  if (!config) return Error{"--kube-api: " + config.error()};
  kube::KubeClientOptions options;
  options.timeout = std::chrono::seconds(3);
  options.max_retries = 2;
  auto client = kube::KubeClient::Create(config.value(), options);
  if (!client) return Error{"--kube-api: " + client.error()};
  Log(spdlog::level::info, "pull secrets from the Kubernetes API",
      {{"config", config.value().source}, {"server", config.value().server}});
  return client;
}

struct TlsFiles {
  std::vector<std::string> paths;  // cert, key, and the client CA when given
  std::optional<DevCertificates> dev;
};

void ApplyPolicy(WebhookState& state, const std::string& path, const Result<std::vector<std::string>>& read) {
  Result<policy::Policy> parsed = read ? policy::ParsePolicy(read.value()[0]) : Error{read.error()};
  state.metrics.RecordPolicyReload(parsed.ok());
  if (!parsed) {
    // Read errors already start with the path.
    const std::string error = "policy " + (read ? path + ": " : "") + parsed.error();
    Log(spdlog::level::err, "policy reload failed; keeping the last good policy",
        {{"file", path}, {"error", error}});
    return;
  }
  const policy::Policy& p = parsed.value();
  LogNow(spdlog::level::info, "policy reloaded",
      {{"file", path}, {"preset", policy::PresetName(p.preset)}, {"mode", policy::ModeName(p.mode)}});
  state.policy.Set(std::make_shared<const policy::Policy>(std::move(parsed).value()));
}

void ApplyTls(WebhookState& state, const TlsFiles& files, const Result<std::vector<std::string>>& read) {
  auto loaded = read ? LoadTlsMaterial(read.value()[0], read.value()[1],
                                       read.value().size() > 2 ? read.value()[2] : "")
                     : Result<std::shared_ptr<const TlsMaterial>>(Error{read.error()});
  state.metrics.RecordCertificateReload(loaded.ok());
  if (!loaded) {
    Log(spdlog::level::err, "certificate reload failed; keeping the current certificate",
        {{"cert", files.paths[0]}, {"key", files.paths[1]}, {"error", loaded.error()}});
    return;
  }
  const TlsMaterial& m = *loaded.value();
  LogNow(spdlog::level::info, "certificate reloaded",
      {{"subject", m.subject()}, {"serial", m.serial()}, {"sha256", m.fingerprint()}, {"not_after", m.not_after()}});
  state.metrics.SetCertificateNotAfter(m.not_after());
  state.tls.Set(loaded.value());
}

// The initial policy, and a watch on its file. False (after a message on err) when unusable.
bool LoadPolicy(const ServeOptions& o, WebhookState& state, Reloader& reloader, std::ostream& err) {
  if (o.policy_file.empty()) {
    auto p = SelectPolicy("", o.preset);
    if (!p) {
      err << "rootgate serve: " << p.error() << "\n";
      return false;
    }
    state.policy.Set(std::make_shared<const policy::Policy>(std::move(p).value()));
    return true;
  }
  const std::string path = o.policy_file;
  auto first = reloader.Watch({path}, [&state, path](const auto& read) { ApplyPolicy(state, path, read); });
  Result<policy::Policy> p = first ? policy::ParsePolicy(first.value()[0]) : Error{first.error()};
  if (!p) {
    err << "rootgate serve: policy " << (first ? path + ": " : "") << p.error() << "\n";
    return false;
  }
  state.policy.Set(std::make_shared<const policy::Policy>(std::move(p).value()));
  return true;
}

// The certificate files to serve: the flags', or local ones made in the state directory.
bool FindTlsFiles(const ServeOptions& o, TlsFiles* files, std::ostream& err) {
  if (!o.tls_cert.empty()) {
    files->paths = {o.tls_cert, o.tls_key};
  } else {
    auto dev = EnsureDevCertificates(o.state_dir);
    if (!dev) {
      err << "rootgate serve: local certificates in " << o.state_dir << ": " << dev.error() << "\n";
      return false;
    }
    files->dev = dev.value();
    files->paths = {dev.value().cert, dev.value().key};
  }
  if (!o.client_ca.empty()) files->paths.push_back(o.client_ca);
  return true;
}

bool LoadTls(const TlsFiles& files, WebhookState& state, Reloader& reloader, std::ostream& err) {
  auto first = reloader.Watch(files.paths, [&state, files](const auto& read) { ApplyTls(state, files, read); });
  auto m = first ? LoadTlsMaterial(first.value()[0], first.value()[1],
                                   first.value().size() > 2 ? first.value()[2] : "")
                 : Result<std::shared_ptr<const TlsMaterial>>(Error{first.error()});
  if (!m) {
    err << "rootgate serve: " << m.error() << "\n";
    return false;
  }
  state.metrics.SetCertificateNotAfter(m.value()->not_after());
  state.tls.Set(m.value());
  return true;
}

std::string CurlHost(const ListenAddress& bound) {
  if (bound.host == "127.0.0.1") return "127.0.0.1";
  if (bound.host == "::1") return "[::1]";
  return "localhost";
}

void PrintLocalRunHelp(std::ostream& out, const DevCertificates& dev, const ListenAddress& bound) {
  const std::string url = "https://" + CurlHost(bound) + ":" + std::to_string(bound.port);
  constexpr const char* kSample = "examples/admission/pod-create-root.json";
  const bool have_sample = std::filesystem::exists(kSample);
  out << "rootgate serve: no --tls-cert/--tls-key, so serving a local certificate for localhost,\n"
      << "127.0.0.1 and ::1, signed by a local CA (" << (dev.created_ca ? "made now" : "reused") << "):\n"
      << "  CA certificate:      " << dev.ca_cert << "\n"
      << "  serving certificate: " << dev.cert << "\n\n"
      << "Send it a Pod that would run as root (it is denied):\n"
      << "  curl --cacert " << dev.ca_cert << " -H 'Content-Type: application/json' \\\n"
      << "    --data @" << (have_sample ? kSample : "<an AdmissionReview JSON file>") << " '" << url
      << "/validate?timeout=10s'\n"
      << "Health and metrics: curl --cacert " << dev.ca_cert << " " << url << "/metrics\n"
      << "Stop with Ctrl-C.\n"
      << std::flush;
}

void LogListening(const ServeOptions& o, const WebhookState& state, const ListenAddress& bound,
                  const std::string& health_address, double ready_ms) {
  const auto policy = state.policy.Get();
  LogNow(spdlog::level::info, "listening",
      {{"address", bound.ToString()},
       {"health_address", health_address},
       {"mtls", !o.client_ca.empty()},
       {"policy", o.policy_file.empty() ? "built-in" : o.policy_file},
       {"preset", policy::PresetName(policy->preset)},
       {"mode", policy::ModeName(policy->mode)},
       {"certificate_sha256", state.tls.Get()->fingerprint()},
       {"version", ROOTGATE_VERSION},
       {"startup_ms", ready_ms}});
}

// The optional plain-HTTP listener for probes and scrapes: the GET endpoints only.
class HealthServer {
 public:
  explicit HealthServer(const WebhookState& state) : loop_(server_) {
    RouteHealthAndMetrics(server_, state);
    server_.new_task_queue = [] { return new httplib::ThreadPool(2); };
    server_.set_tcp_nodelay(true);
  }
  ~HealthServer() { Stop(); }
  Result<ListenAddress> Start(const ListenAddress& address) {
    auto bound = BindServer(server_, address);
    if (bound) thread_ = std::thread([this] { loop_.Run(); });
    return bound;
  }
  void Stop() {
    loop_.Stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  httplib::Server server_;
  ServeLoop loop_;
  std::thread thread_;
};

// The background audit's options from the flags; an error when the Lease's namespace is unknown.
Result<BackgroundAuditOptions> AuditOptionsOf(const ServeOptions& o) {
  BackgroundAuditOptions a;
  a.interval = o.audit_interval;
  a.write_reports = o.audit_write_reports;
  a.report_api = o.audit_report_api == "openreports.io/v1alpha1" ? audit::ReportApi::kOpenReports
                                                                 : audit::ReportApi::kPolicyReport;
  a.qps = o.audit_qps;
  a.burst = o.audit_burst;
  a.lease.namespace_name = o.audit_lease_namespace.empty()
                               ? kube::DefaultLeaseNamespace(kube::InClusterFromEnvironment().dir)
                               : o.audit_lease_namespace;
  if (a.lease.namespace_name.empty()) {
    return Error{"--audit-interval: the Lease's namespace is unknown (not in a pod, no $POD_NAMESPACE); "
                 "give --audit-lease-namespace"};
  }
  a.lease.identity = kube::DefaultLeaderIdentity();
  a.pull_secrets = o.kube_api;
  return a;
}

}  // namespace

int RunServe(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  const auto started = steady_clock::now();
  auto parsed = ParseServeFlags(args);
  if (!parsed) {
    err << "rootgate serve: " << parsed.error() << "\n" << kServeUsage << kRegistryFlagsHelp;
    return 2;
  }
  const ServeOptions& o = parsed.value();
  if (o.help) {
    out << kServeUsage << "registry lookups of image users (on unless --offline):\n"
        << kRegistryFlagsHelp;
    return 0;
  }
  LimitMallocArenas();  // before any thread exists
  SetupLogging(o.log_format, o.log_level);
  BlockShutdownSignals();  // before any thread exists
  StartLogFlusher();

  WebhookState state;
  Reloader reloader(std::chrono::duration_cast<std::chrono::milliseconds>(o.reload_interval));
  TlsFiles tls_files;
  if (!LoadPolicy(o, state, reloader, err) || !FindTlsFiles(o, &tls_files, err) ||
      !LoadTls(tls_files, state, reloader, err)) {
    return 2;
  }
  const SteadyClock clock;
  // Registry lookups (server/admission/image_lookup.h): a fetch may outlive its request by up to
  // 10s to fill the cache for the API server's retry.
  std::unique_ptr<ImageResolver> resolver;
  if (!o.registry.offline) {
    auto built = BuildImageResolver(o.registry, clock, std::chrono::seconds(10), /*log_fetches=*/true);
    if (!built) {
      err << "rootgate serve: " << built.error() << "\n";
      return 2;
    }
    resolver = std::move(built).value();
    state.metrics.AddExtraMetrics([r = resolver.get()](std::string* out) { RenderRegistryMetrics(r->metrics(), out); });
  }
  std::unique_ptr<ImageResolver> audit_resolver;  // declared before `background`, which uses it
  std::optional<BackgroundAudit> background;
  std::optional<kube::ClientConfig> cluster;
  if (o.audit_interval.count() > 0) {
    auto audit_options = AuditOptionsOf(o);
    auto config = audit_options ? ServeClientConfig(o) : Result<kube::ClientConfig>(Error{audit_options.error()});
    if (!config) {
      err << "rootgate serve: " << config.error() << "\n";
      return 2;
    }
    for (const std::string& w : config.value().warnings) Log(spdlog::level::warn, "kubeconfig", {{"warning", w}});
    cluster = std::move(config).value();
    // The audit's image lookups get a resolver of their own (cache, workers): a scan's thousands
    // of images must not queue ahead of an admission request's lookup.
    if (!o.registry.offline) {
      auto built = BuildImageResolver(o.registry, clock, std::chrono::seconds(0));
      if (!built) {
        err << "rootgate serve: " << built.error() << "\n";
        return 2;
      }
      audit_resolver = std::move(built).value();
    }
    background.emplace(std::move(audit_options).value(), state.policy, audit_resolver.get());
    state.metrics.AddExtraMetrics([b = &*background](std::string* out) { b->gauges().Render(out); });
  }
  std::unique_ptr<kube::KubeClient> kube_client;
  std::unique_ptr<kube::PullSecretStore> pull_secrets;
  if (o.kube_api) {
    auto built = BuildKubeClient(o);
    if (!built) {
      err << "rootgate serve: " << built.error() << "\n";
      return 2;
    }
    kube_client = std::move(built).value();
    pull_secrets = std::make_unique<kube::PullSecretStore>(*kube_client, clock);
  }
  const policy::NoImageFacts no_facts;
  std::optional<RegistryFacts> registry_facts;
  if (resolver) registry_facts.emplace(*resolver, pull_secrets.get());
  const policy::ImageFacts& facts = registry_facts ? static_cast<const policy::ImageFacts&>(*registry_facts) : no_facts;
  HttpsServer server(state, facts, clock,
                     {!o.client_ca.empty(), o.max_body, o.threads, o.max_connections, o.read_timeout,
                      o.idle_timeout, o.http_fast_path});
  auto bound = server.Bind(o.listen);
  HealthServer health(state);
  auto health_bound = o.health_listen ? health.Start(*o.health_listen) : Result<ListenAddress>(ListenAddress{});
  if (!bound || !health_bound) {
    Log(spdlog::level::err, "cannot start", {{"error", bound ? health_bound.error() : bound.error()}});
    return 1;
  }
  const auto ready_ms = std::chrono::duration<double, std::milli>(steady_clock::now() - started).count();
  if (tls_files.dev) PrintLocalRunHelp(out, *tls_files.dev, bound.value());
  LogListening(o, state, bound.value(), o.health_listen ? health_bound.value().ToString() : "",
               ready_ms);
  reloader.Start();
  if (background) {
    auto started_audit = background->Start(*cluster);
    if (!started_audit) {
      Log(spdlog::level::err, "cannot start the background audit", {{"error", started_audit.error()}});
      server.Stop();
      return 2;
    }
  }
  ShutdownSignals signals(
      o.grace_period,
      [&](int) {
        state.shutting_down.store(true);
        if (background) background->RequestStop();
        server.Stop();
      },
      [&] { return state.metrics.Inflight(); });
  server.Run();
  if (background) background->Stop();  // cancels a running scan, releases the Lease
  health.Stop();
  signals.Finished();
  reloader.Stop();
  if (!signals.Signalled()) {
    Log(spdlog::level::err, "the server stopped accepting connections unexpectedly");
    return 1;
  }
  LogNow(spdlog::level::info, "shut down cleanly");
  spdlog::default_logger_raw()->flush();
  return 0;
}

}  // namespace rootgate::server
