#include "server/webhook/metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace rootgate::server {

namespace {

size_t IndexOf(std::string_view value, const auto& names) {
  for (size_t i = 0; i + 1 < names.size(); ++i) {
    if (names[i] == value) return i;
  }
  return names.size() - 1;  // "other"
}

void Header(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  out->append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ");
  out->append(name).append(" ").append(type).append("\n");
}

void AppendNumber(std::string* out, double v) {
  char buf[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);  // counters stay exact integers
  } else {
    std::snprintf(buf, sizeof buf, "%.10g", v);
  }
  out->append(buf);
}

// name{labels} value — labels already formatted ("" for none).
void Sample(std::string* out, std::string_view name, std::string_view labels, double value) {
  out->append(name);
  if (!labels.empty()) out->append("{").append(labels).append("}");
  out->append(" ");
  AppendNumber(out, value);
  out->append("\n");
}

std::string Label(std::string_view key, std::string_view value) {
  return std::string(key) + "=\"" + std::string(value) + "\"";
}

}  // namespace

Metrics::Metrics(std::string version) : version_(std::move(version)) {}

void Metrics::RecordDecision(const AdmissionOutcome& outcome, std::chrono::nanoseconds duration) {
  const size_t kind = IndexOf(outcome.kind, kMetricKinds);
  const size_t op = IndexOf(outcome.operation, kMetricOperations);
  const size_t cell = (static_cast<size_t>(outcome.verdict) * kMetricKinds.size() + kind) *
                          kMetricOperations.size() + op;
  requests_[cell].fetch_add(1, kRelaxed);
  for (policy::RuleId rule : outcome.denied_rules) {
    violations_[static_cast<size_t>(rule)].fetch_add(1, kRelaxed);
  }
  if (outcome.deadline_exceeded) deadline_exceeded_.fetch_add(1, kRelaxed);
  const double seconds = std::chrono::duration<double>(duration).count();
  size_t bucket = 0;
  while (bucket < kDurationBuckets.size() && seconds > kDurationBuckets[bucket]) ++bucket;
  duration_buckets_[bucket].fetch_add(1, kRelaxed);
  duration_sum_ns_.fetch_add(static_cast<uint64_t>(duration.count() > 0 ? duration.count() : 0),
                             kRelaxed);
}

void Metrics::RecordHttpStatus(int code) {
  if (code < 100 || code >= static_cast<int>(http_status_.size())) code = 500;
  http_status_[static_cast<size_t>(code)].fetch_add(1, kRelaxed);
}

void Metrics::RenderAdmission(std::string* out) const {
  Header(out, "rootgate_admission_requests_total", "counter",
         "Admission decisions answered with HTTP 200, by decision, kind and operation.");
  for (size_t cell = 0; cell < requests_.size(); ++cell) {
    const uint64_t n = requests_[cell].load(kRelaxed);
    if (n == 0) continue;
    const size_t op = cell % kMetricOperations.size();
    const size_t kind = cell / kMetricOperations.size() % kMetricKinds.size();
    const auto verdict = static_cast<Verdict>(cell / kMetricOperations.size() / kMetricKinds.size());
    Sample(out, "rootgate_admission_requests_total",
           Label("decision", VerdictName(verdict)) + "," + Label("kind", kMetricKinds[kind]) + "," +
               Label("operation", kMetricOperations[op]),
           static_cast<double>(n));
  }
  Header(out, "rootgate_admission_violations_total", "counter",
         "Denied admission requests by rule (a request denied by two rules counts once for each).");
  for (size_t r = 0; r < violations_.size(); ++r) {
    Sample(out, "rootgate_admission_violations_total", Label("rule", policy::kRuleNames[r]),
           static_cast<double>(violations_[r].load(kRelaxed)));
  }
  Header(out, "rootgate_admission_deadline_exceeded_total", "counter",
         "Admission requests answered per the policy's onTimeout because the deadline was near.");
  Sample(out, "rootgate_admission_deadline_exceeded_total", "",
         static_cast<double>(deadline_exceeded_.load(kRelaxed)));
  Header(out, "rootgate_admission_decision_duration_seconds", "histogram",
         "Time from a complete request body to a reply ready to send.");
  uint64_t cumulative = 0;
  for (size_t b = 0; b <= kDurationBuckets.size(); ++b) {
    cumulative += duration_buckets_[b].load(kRelaxed);
    std::string le = "+Inf";
    if (b < kDurationBuckets.size()) {
      le.clear();
      AppendNumber(&le, kDurationBuckets[b]);
    }
    Sample(out, "rootgate_admission_decision_duration_seconds_bucket", Label("le", le),
           static_cast<double>(cumulative));
  }
  Sample(out, "rootgate_admission_decision_duration_seconds_sum", "",
         static_cast<double>(duration_sum_ns_.load(kRelaxed)) / 1e9);
  Sample(out, "rootgate_admission_decision_duration_seconds_count", "",
         static_cast<double>(cumulative));
}

void Metrics::RenderHttp(std::string* out) const {
  Header(out, "rootgate_http_fast_path_requests_total", "counter",
         "POST /validate requests read and answered without the HTTP library's parser.");
  Sample(out, "rootgate_http_fast_path_requests_total", "",
         static_cast<double>(fast_path_requests_.load(kRelaxed)));
  Header(out, "rootgate_http_requests_total", "counter", "HTTP responses by status code, any path.");
  for (size_t code = 100; code < http_status_.size(); ++code) {
    const uint64_t n = http_status_[code].load(kRelaxed);
    if (n != 0) Sample(out, "rootgate_http_requests_total", Label("code", std::to_string(code)), static_cast<double>(n));
  }
  Header(out, "rootgate_inflight_requests", "gauge", "Admission requests being handled now.");
  Sample(out, "rootgate_inflight_requests", "", static_cast<double>(inflight_.load(kRelaxed)));
}

void Metrics::RenderReloads(std::string* out) const {
  Header(out, "rootgate_policy_reloads_total", "counter",
         "Policy file reloads after a change, by result (error: the last good policy is kept).");
  Sample(out, "rootgate_policy_reloads_total", Label("result", "success"), static_cast<double>(policy_reloads_[0].load(kRelaxed)));
  Sample(out, "rootgate_policy_reloads_total", Label("result", "error"), static_cast<double>(policy_reloads_[1].load(kRelaxed)));
  Header(out, "rootgate_certificate_reloads_total", "counter",
         "Certificate, key and client CA reloads after a change, by result (error: the last good one is kept).");
  Sample(out, "rootgate_certificate_reloads_total", Label("result", "success"), static_cast<double>(cert_reloads_[0].load(kRelaxed)));
  Sample(out, "rootgate_certificate_reloads_total", Label("result", "error"), static_cast<double>(cert_reloads_[1].load(kRelaxed)));
  Header(out, "rootgate_certificate_expiry_timestamp_seconds", "gauge",
         "When the serving certificate in use expires (notAfter), in Unix seconds.");
  Sample(out, "rootgate_certificate_expiry_timestamp_seconds", "", static_cast<double>(cert_not_after_.load(kRelaxed)));
}

void Metrics::RenderConnections(std::string* out) const {
  const ConnectionCounters& c = connections_;
  Header(out, "rootgate_open_connections", "gauge", "HTTPS connections open now (accepted and not yet closed).");
  Sample(out, "rootgate_open_connections", "", static_cast<double>(c.open.load(kRelaxed)));
  Header(out, "rootgate_connections_accepted_total", "counter",
         "HTTPS connections accepted for serving (refused ones not included).");
  Sample(out, "rootgate_connections_accepted_total", "", static_cast<double>(c.accepted.load(kRelaxed)));
  Header(out, "rootgate_connections_refused_total", "counter",
         "HTTPS connections closed at once because --max-connections were open.");
  Sample(out, "rootgate_connections_refused_total", "", static_cast<double>(c.refused.load(kRelaxed)));
  Header(out, "rootgate_connections_timed_out_total", "counter",
         "HTTPS connections closed because a request (TLS handshake, headers, body) took longer than --read-timeout.");
  Sample(out, "rootgate_connections_timed_out_total", "", static_cast<double>(c.timed_out.load(kRelaxed)));
  Header(out, "rootgate_worker_threads", "gauge", "Threads serving HTTPS connections, busy or idle.");
  Sample(out, "rootgate_worker_threads", "", static_cast<double>(c.threads.load(kRelaxed)));
}

std::string Metrics::Render() const {
  std::string out;
  out.reserve(8192);
  RenderAdmission(&out);
  RenderHttp(&out);
  RenderReloads(&out);
  RenderConnections(&out);
  for (const auto& render : extra_) render(&out);
  Header(&out, "rootgate_build_info", "gauge", "Always 1; the version of the running binary.");
  Sample(&out, "rootgate_build_info", Label("version", version_), 1);
  RenderProcessMetrics(&out);
  return out;
}

namespace {

// Seconds since the epoch at boot, from /proc/stat; 0 when unknown.
double BootTime() {
  std::ifstream in("/proc/stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double t = 0;
      in >> t;
      return t;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

int CountOpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n - 1;  // not the descriptor of this listing
}

// CPU, memory and start time from /proc/self/stat (proc(5)). Throws on a line that does not parse.
void RenderProcStat(std::string* out) {
  std::ifstream stat("/proc/self/stat");
  std::string line;
  if (!std::getline(stat, line) || line.rfind(')') == std::string::npos) return;
  // Fields after "pid (comm)", which may itself hold spaces; f[i] is field i + 3 of proc(5).
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string f[22];
  for (auto& s : f) fields >> s;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  Header(out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  Sample(out, "process_cpu_seconds_total", "", (std::stod(f[14 - 3]) + std::stod(f[15 - 3])) / ticks);
  Header(out, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  Sample(out, "process_resident_memory_bytes", "", std::stod(f[24 - 3]) * page);
  Header(out, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
  Sample(out, "process_virtual_memory_bytes", "", std::stod(f[23 - 3]));
  Header(out, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
  Sample(out, "process_start_time_seconds", "", BootTime() + std::stod(f[22 - 3]) / ticks);
}

}  // namespace

void RenderProcessMetrics(std::string* out) {
  try {
    RenderProcStat(out);
  } catch (const std::exception&) {
    // A /proc/self/stat that does not parse: leave those metrics out rather than fail a scrape.
  }
  if (const int fds = CountOpenFds(); fds >= 0) {
    Header(out, "process_open_fds", "gauge", "Number of open file descriptors.");
    Sample(out, "process_open_fds", "", fds);
  }
  if (rlimit lim{}; getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    Header(out, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    Sample(out, "process_max_fds", "", static_cast<double>(lim.rlim_cur));
  }
}

}  // namespace rootgate::server
