// Exec credential plugins: running one, and reading its ExecCredential.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <nlohmann/json.hpp>

#include "server/kube/credentials.h"

extern char** environ;

namespace rootgate::server::kube {

namespace {

using nlohmann::json;

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

std::string StringAt(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

constexpr size_t kMaxOutput = size_t{1} << 20;

class ProcessRunner final : public ExecRunner {
 public:
  Result<std::string> Run(const ExecConfig& c, const std::string& exec_info,
                          std::chrono::milliseconds timeout) override {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + std::strerror(errno)};
    std::vector<std::string> env_strings = Environment(c, exec_info);
    std::vector<char*> envp, argv;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args{c.command};
    args.insert(args.end(), c.args.begin(), c.args.end());
    for (std::string& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, c.command.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      return Error{std::string("cannot run it: ") + std::strerror(rc)};
    }
    std::string out;
    const std::string error = ReadUntil(fds[0], timeout, &out);
    ::close(fds[0]);
    if (!error.empty()) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!error.empty()) return Error{error};
    if (WIFSIGNALED(status)) return Error{"killed by signal " + std::to_string(WTERMSIG(status))};
    if (WEXITSTATUS(status) != 0) return Error{"exit status " + std::to_string(WEXITSTATUS(status))};
    return out;
  }

 private:
  static std::vector<std::string> Environment(const ExecConfig& c, const std::string& exec_info) {
    std::vector<std::string> env;
    auto overridden = [&](std::string_view entry) {
      const std::string_view name = entry.substr(0, entry.find('='));
      if (name == "KUBERNETES_EXEC_INFO") return true;
      for (const auto& [n, v] : c.env) {
        if (n == name) return true;
      }
      return false;
    };
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      if (!overridden(*e)) env.emplace_back(*e);
    }
    for (const auto& [n, v] : c.env) env.push_back(n + "=" + v);
    env.push_back("KUBERNETES_EXEC_INFO=" + exec_info);
    return env;
  }

  // Reads `fd` to EOF; "" on success, else why it stopped.
  static std::string ReadUntil(int fd, std::chrono::milliseconds timeout, std::string* out) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[8192];
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "timed out after " + std::to_string(timeout.count() / 1000) + "s";
      pollfd p{fd, POLLIN, 0};
      const int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return "";
      out->append(buf, static_cast<size_t>(n));
      if (out->size() > kMaxOutput) return "output larger than 1 MiB";
    }
  }
};

}  // namespace

std::unique_ptr<ExecRunner> MakeProcessExecRunner() { return std::make_unique<ProcessRunner>(); }

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s) {
  std::tm tm{};
  int year, mon, day, h, m, sec;
  if (!Digits(s, 0, 4, &year) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mon) || s[7] != '-' ||
      !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &m) || s[16] != ':' || !Digits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || h > 23 || m > 59 || sec > 60) return std::nullopt;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    const size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == start) return std::nullopt;
  }
  long offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    offset = 0;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || !Digits(s, pos + 4, 2, &om)) return std::nullopt;
    offset = (oh * 3600L + om * 60L) * (s[pos] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  const time_t t = ::timegm(&tm);
  return std::chrono::system_clock::from_time_t(t - offset);
}

Result<ExecCredential> ParseExecCredential(std::string_view output, const std::string& api_version) {
  json doc;
  try {
    doc = json::parse(output);
  } catch (const json::exception&) {
    return Error{"its output is not an ExecCredential JSON object"};
  }
  if (!doc.is_object() || StringAt(doc, "kind") != "ExecCredential") {
    return Error{"its output is not an ExecCredential (kind: ExecCredential)"};
  }
  const std::string version = StringAt(doc, "apiVersion");
  if (version != api_version) {
    return Error{"plugin is configured to use API version " + api_version + ", plugin returned version " +
                 (version.empty() ? "(none)" : version)};
  }
  auto status = doc.find("status");
  if (status == doc.end() || !status->is_object()) return Error{"the ExecCredential has no status"};
  ExecCredential c;
  c.token = StringAt(*status, "token");
  c.client_cert_pem = StringAt(*status, "clientCertificateData");
  c.client_key_pem = StringAt(*status, "clientKeyData");
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    return Error{"the ExecCredential has only one of clientCertificateData and clientKeyData"};
  }
  if (c.token.empty() && c.client_cert_pem.empty()) {
    return Error{"the ExecCredential has neither a token nor clientCertificateData/clientKeyData"};
  }
  if (const std::string exp = StringAt(*status, "expirationTimestamp"); !exp.empty()) {
    c.expiry = ParseRfc3339(exp);
    if (!c.expiry) return Error{"status.expirationTimestamp \"" + exp + "\" is not an RFC 3339 time"};
  }
  return c;
}

}  // namespace rootgate::server::kube
