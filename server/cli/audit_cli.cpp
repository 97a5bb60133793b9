// Argument handling of `rootgate audit`.
#include "server/cli/audit_cli.h"

#include <unistd.h>

#include <ctime>
#include <optional>
#include <ostream>

#include "server/audit/audit.h"
#include "server/audit/audit_output.h"
#include "server/util/duration.h"
#include "server/kube/kubeconfig.h"
#include "server/kube/pull_secrets.h"
#include "server/inputs/policy_source.h"
#include "server/registry/registry_options.h"

namespace rootgate::server::audit {

namespace {

constexpr const char* kAuditUsage =
    "usage: rootgate audit [--kubeconfig FILE] [--context NAME] [-n NS | -A]\n"
    "                      [--policy FILE | --preset NAME] [--resolve-images [registry flags]]\n"
    "                      [-o text|json|junit|sarif|policyreport] [--report-api API] [--write-reports]\n"
    "  --kubeconfig FILE                the kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster)\n"
    "  --context NAME                   the context to use (default: current-context)\n"
    "  -n, --namespace NS               only this namespace (default: all namespaces)\n"
    "  -A, --all-namespaces             all namespaces (the default)\n"
    "  -o policyreport                  one report per namespace (YAML documents)\n"
    "  --report-api API                 wgpolicyk8s.io/v1alpha2 (PolicyReport, the default) or\n"
    "                                   openreports.io/v1alpha1 (Report)\n"
    "  --write-reports                  apply the reports to the cluster (server-side apply, field\n"
    "                                   manager rootgate) and delete rootgate's stale ones\n"
    "  --page-size N                    objects per LIST page (default 250)\n"
    "  --request-timeout DUR            time for each API call, retries included (default 60s)\n"
    "  --resolve-images                 read image users from registries (--registry-timeout DUR\n"
    "                                   per page of objects, default 30s), with each pod's\n"
    "                                   imagePullSecrets (or its service account's) tried first,\n"
    "                                   as the kubelet does (needs get on secrets, serviceaccounts)\n";

enum class Format { kText, kJson, kJunit, kSarif, kPolicyReport };

struct AuditArgs {
  std::string kubeconfig, context, namespace_name;
  std::string policy_file, preset;
  Format format = Format::kText;
  kube::KubeClientOptions client;
  ReportApi report_api = ReportApi::kPolicyReport;
  bool write_reports = false;
  size_t page_size = 250;
  bool resolve_images = false, registry_flags = false;
  RegistryOptions registry;
  std::chrono::nanoseconds registry_timeout = std::chrono::seconds(30);
};

std::optional<Format> FormatFromName(const std::string& name) {
  if (name == "text") return Format::kText;
  if (name == "json") return Format::kJson;
  if (name == "junit") return Format::kJunit;
  if (name == "sarif") return Format::kSarif;
  if (name == "policyreport") return Format::kPolicyReport;
  return std::nullopt;
}

// The flags that take a value. Returns an error message, or "".
std::string ApplyValueFlag(const std::string& flag, const std::string& v, AuditArgs* a) {
  if (flag == "--kubeconfig") a->kubeconfig = v;
  if (flag == "--context") a->context = v;
  if (flag == "-n" || flag == "--namespace") a->namespace_name = v;
  if (flag == "--policy") a->policy_file = v;
  if (flag == "--preset") a->preset = v;
  if (flag == "-o" || flag == "--output") {
    auto f = FormatFromName(v);
    if (!f) return "-o: unknown format \"" + v + "\" (known: text, json, junit, sarif, policyreport)";
    a->format = *f;
  }
  if (flag == "--report-api") {
    if (v == "wgpolicyk8s.io/v1alpha2") {
      a->report_api = ReportApi::kPolicyReport;
    } else if (v == "openreports.io/v1alpha1") {
      a->report_api = ReportApi::kOpenReports;
    } else {
      return "--report-api: unknown API \"" + v + "\" (known: wgpolicyk8s.io/v1alpha2, openreports.io/v1alpha1)";
    }
  }
  if (flag == "--page-size") {
    char* end = nullptr;
    const long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 1 || n > 10000) return "--page-size: expected 1 to 10000, got \"" + v + "\"";
    a->page_size = static_cast<size_t>(n);
  }
  if (flag == "--request-timeout" || flag == "--registry-timeout") {
    auto d = ParseGoDuration(v);
    if (!d || d->count() <= 0) return flag + ": expected a duration such as 30s";
    if (flag == "--request-timeout") a->client.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
    if (flag == "--registry-timeout") {
      a->registry_timeout = *d;
      a->registry_flags = true;
    }
  }
  return "";
}

bool TakesValue(const std::string& f) {
  for (const char* v : {"--kubeconfig", "--context", "-n", "--namespace", "--policy", "--preset", "-o", "--output",
                        "--report-api", "--page-size", "--request-timeout", "--registry-timeout"}) {
    if (f == v) return true;
  }
  return false;
}

Result<AuditArgs> ParseAuditArgs(const std::vector<std::string>& args) {
  AuditArgs a;
  bool all = false;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i], value;
    bool has_value = false;
    if (const size_t eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos && TakesValue(arg.substr(0, eq))) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (TakesValue(arg)) {
      if (!has_value) {
        if (i + 1 >= args.size()) return Error{arg + " needs a value"};
        value = args[++i];
      }
      if (std::string e = ApplyValueFlag(arg, value, &a); !e.empty()) return Error{e};
    } else if (arg == "-A" || arg == "--all-namespaces") {
      all = true;
    } else if (arg == "--write-reports") {
      a.write_reports = true;
    } else if (arg == "--resolve-images") {
      a.resolve_images = true;
    } else if (auto registry = ConsumeRegistryFlag(args, &i, &a.registry); !registry) {
      return Error{registry.error()};
    } else if (registry.value()) {
      a.registry_flags = true;
    } else {
      return Error{"unexpected argument " + arg + " (audit reads the cluster, not files)"};
    }
  }
  if (all && !a.namespace_name.empty()) return Error{"-n and -A exclude each other"};
  if (a.registry_flags && !a.resolve_images) return Error{"registry flags need --resolve-images"};
  if (!a.policy_file.empty() && !a.preset.empty()) return Error{"--policy and --preset exclude each other"};
  return a;
}

// Progress on stderr when it is a terminal.
class ProgressSink final : public AuditSink {
 public:
  ProgressSink(AuditSink& inner, std::ostream& err, bool on) : inner_(inner), err_(err), on_(on) {}
  void OnResult(const AuditResult& r) override { inner_.OnResult(r); }
  void OnResourceDone(const kube::ApiResource& res, const kube::ListAllResult& list) override {
    inner_.OnResourceDone(res, list);
    if (!on_) return;
    err_ << "rootgate audit: " << res.Name() << ": " << list.items << " listed in " << list.pages << " pages"
         << (list.error ? " (FAILED)" : "") << "\n";
  }

 private:
  AuditSink& inner_;
  std::ostream& err_;
  bool on_;
};

// Fans results out to the printer and the report builder.
class TeeSink final : public AuditSink {
 public:
  TeeSink(AuditSink* a, AuditSink* b) : a_(a), b_(b) {}
  void OnResult(const AuditResult& r) override {
    if (a_ != nullptr) a_->OnResult(r);
    if (b_ != nullptr) b_->OnResult(r);
  }

 private:
  AuditSink* a_;
  AuditSink* b_;
};

void PrintReportsYaml(const std::map<std::string, nlohmann::json>& reports, std::ostream& out) {
  // JSON is YAML: one document per report, so `kubectl apply -f -` takes the stream.
  for (const auto& [ns, report] : reports) {
    out << "---\n" << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
}

int ExitCodeOf(const AuditSummary& s, bool write_failed) {
  if (!s.complete() || !s.object_errors.empty() || write_failed) return 2;
  return s.denied > 0 ? 1 : 0;
}

}  // namespace

int RunAudit(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  for (const std::string& arg : args) {
    if (arg == "--help" || arg == "-h") {
      out << kAuditUsage << kRegistryFlagsHelp;
      return 0;
    }
  }
  auto parsed = ParseAuditArgs(args);
  if (!parsed) {
    err << "rootgate audit: " << parsed.error() << "\n" << kAuditUsage << kRegistryFlagsHelp;
    return 2;
  }
  AuditArgs& a = parsed.value();
  auto policy = SelectPolicy(a.policy_file, a.preset);
  if (!policy) {
    err << "rootgate audit: " << policy.error() << "\n";
    return 2;
  }
  auto config = kube::LoadClientConfig(kube::LoadOptionsFromEnvironment(a.kubeconfig, a.context));
  if (!config) {
    err << "rootgate audit: " << config.error() << "\n";
    return 2;
  }
  for (const std::string& w : config.value().warnings) err << "rootgate audit: warning: " << w << "\n";
  auto client = kube::KubeClient::Create(config.value(), a.client);
  if (!client) {
    err << "rootgate audit: " << client.error() << "\n";
    return 2;
  }
  const SteadyClock clock;
  std::unique_ptr<ImageResolver> resolver;
  if (a.resolve_images && !a.registry.offline) {
    auto built = BuildImageResolver(a.registry, clock, std::chrono::seconds(0));
    if (!built) {
      err << "rootgate audit: " << built.error() << "\n";
      return 2;
    }
    resolver = std::move(built).value();
  }
  // The pods' own pull secrets, read with the audit's credentials (get on secrets and
  // serviceaccounts; a refusal is named in the verdicts of the images it leaves unread).
  std::unique_ptr<kube::PullSecretStore> pull_secrets;
  if (resolver) {
    kube::PullSecretOptions secret_options;
    secret_options.log = false;
    pull_secrets = std::make_unique<kube::PullSecretStore>(*client.value(), clock, secret_options);
  }
  AuditOptions options;
  options.namespace_name = a.namespace_name;
  options.page_size = a.page_size;
  options.resolver = resolver.get();
  options.pull_secrets = pull_secrets.get();
  options.clock = &clock;
  options.lookup_timeout = a.registry_timeout;

  std::unique_ptr<PrintingSink> printer;
  if (a.format == Format::kText) printer = MakeTextSink(out, isatty(STDOUT_FILENO) == 1);
  if (a.format == Format::kJson) printer = MakeJsonSink(out);
  if (a.format == Format::kJunit) printer = MakeDocumentSink(out, OutputFormat::kJunit);
  if (a.format == Format::kSarif) printer = MakeDocumentSink(out, OutputFormat::kSarif);
  std::optional<ReportBuilder> reports;
  if (a.format == Format::kPolicyReport || a.write_reports) {
    reports.emplace(policy.value(), a.report_api, static_cast<int64_t>(std::time(nullptr)));
  }
  TeeSink tee(printer.get(), reports ? &*reports : nullptr);
  ProgressSink progress(tee, err, isatty(STDERR_FILENO) == 1);
  const AuditSummary summary = RunAudit(*client.value(), policy.value(), options, progress);

  if (printer) printer->Finish(summary);
  if (a.format == Format::kPolicyReport) PrintReportsYaml(reports->Reports(), out);
  for (const std::string& n : summary.notes) err << "rootgate audit: note: " << n << "\n";
  for (const KindError& e : summary.errors) {
    err << "rootgate audit: " << e.error.message << "; nothing is claimed about " << e.resource << "\n";
  }
  for (const CheckError& e : summary.object_errors) err << "rootgate audit: " << e.message << "\n";
  bool write_failed = false;
  if (a.write_reports) {
    if (!summary.complete()) {
      err << "rootgate audit: reports not written: the audit is incomplete\n";
      write_failed = true;
    } else {
      std::vector<std::string> done;
      for (const std::string& e : WriteReports(*client.value(), a.report_api, reports->Reports(), a.namespace_name, &done)) {
        err << "rootgate audit: " << e << "\n";
        write_failed = true;
      }
      for (const std::string& d : done) err << "rootgate audit: " << d << "\n";
    }
  }
  return ExitCodeOf(summary, write_failed);
}

}  // namespace rootgate::server::audit
