// Credential sources: token files re-read as they rotate, exec plugins (ExecCredential parsing,
// caching until expirationTimestamp, re-running after a 401), and a real plugin process.
#include "server/kube/credentials.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "server/kube/kube_test_support.h"

namespace {

using namespace rootgate::server::kube;
using testing::TempDir;
using SystemTime = std::chrono::system_clock::time_point;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

SystemTime At(int64_t unix_seconds) { return std::chrono::system_clock::from_time_t(unix_seconds); }

class ScriptedRunner final : public ExecRunner {
 public:
  std::vector<std::string> outputs;
  size_t runs = 0;
  std::string last_info;
  rootgate::Result<std::string> Run(const ExecConfig&, const std::string& info, std::chrono::milliseconds) override {
    last_info = info;
    const std::string& out = outputs[std::min(runs, outputs.size() - 1)];
    ++runs;
    if (out == "FAIL") return rootgate::Error{"exit status 1"};
    return out;
  }
};

std::string Cred(const std::string& version, const std::string& token, const std::string& expiry = "") {
  std::string s = R"({"apiVersion":")" + version + R"(","kind":"ExecCredential","status":{"token":")" + token + "\"";
  if (!expiry.empty()) s += R"(,"expirationTimestamp":")" + expiry + "\"";
  return s + "}}";
}

constexpr const char* kV1 = "client.authentication.k8s.io/v1";
constexpr const char* kV1beta1 = "client.authentication.k8s.io/v1beta1";

TEST_CASE("ParseRfc3339") {
  CHECK(ParseRfc3339("2026-12-03T12:00:00Z") == At(1796299200));
  CHECK(ParseRfc3339("2026-12-03T12:00:00.123456Z") == At(1796299200));
  CHECK(ParseRfc3339("2026-12-03T13:30:00+01:30") == At(1796299200));
  CHECK(ParseRfc3339("2026-12-03T10:00:00-02:00") == At(1796299200));
  for (const char* bad : {"", "2026-12-03", "2026-12-03 12:00:00Z", "2026-13-03T12:00:00Z", "2026-12-03T12:00:00",
                          "2026-12-03T12:00:00Zx", "2026-12-03T12:00:00.Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseRfc3339(bad).has_value());
  }
}

TEST_CASE("ParseExecCredential") {
  auto ok = ParseExecCredential(Cred(kV1, "tok", "2026-12-03T12:00:00Z"), kV1);
  REQUIRE(ok.ok());
  CHECK(ok.value().token == "tok");
  CHECK(ok.value().expiry == At(1796299200));
  auto certs = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"clientCertificateData":"C","clientKeyData":"K"}})",
      kV1beta1);
  REQUIRE(certs.ok());
  CHECK(certs.value().client_cert_pem == "C");
  CHECK_FALSE(certs.value().expiry.has_value());  // no expiry: cached until a 401
  struct Case {
    std::string output, error;
  } cases[] = {
      {"not json", "not an ExecCredential JSON object"},
      {R"({"kind":"Other"})", "kind: ExecCredential"},
      {Cred(kV1beta1, "t"), "configured to use API version client.authentication.k8s.io/v1, plugin returned version client.authentication.k8s.io/v1beta1"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"})", "has no status"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{}})", "neither a token"},
      {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientKeyData":"K"}})", "only one of"},
      {Cred(kV1, "t", "tomorrow"), "expirationTimestamp \"tomorrow\""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.output);
    auto r = ParseExecCredential(c.output, kV1);
    REQUIRE_FALSE(r.ok());
    CHECK(Has(r.error(), c.error));
  }
}

TEST_CASE("exec source: cached until expirationTimestamp, re-run after it and after a 401") {
  SystemTime now = At(1796299000);
  auto runner = std::make_shared<ScriptedRunner>();
  runner->outputs = {Cred(kV1, "one", "2026-12-03T12:00:00Z"), Cred(kV1, "two"), Cred(kV1, "three")};
  ClientConfig config;
  config.server = "https://s:1";
  config.ca_pem = "CA";
  config.exec = ExecConfig{kV1, "plugin", {}, {}, "install it", true};
  auto source = MakeCredentialSource(config, runner, [&] { return now; });
  CHECK(source->Get().value().bearer_token == "one");
  CHECK(source->Get().value().bearer_token == "one");
  CHECK(runner->runs == 1);
  const auto info = nlohmann::json::parse(runner->last_info);
  CHECK(info["apiVersion"] == kV1);
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"]["server"] == "https://s:1");
  CHECK(info["spec"]["cluster"]["certificate-authority-data"] == "Q0E=");
  now = At(1796299200);  // the expiry itself: expired
  CHECK(source->Get().value().bearer_token == "two");
  CHECK(runner->runs == 2);
  now = At(1796399200);  // no expiry given: kept however late
  CHECK(source->Get().value().bearer_token == "two");
  CHECK(source->Invalidate());
  CHECK(source->Get().value().bearer_token == "three");
  CHECK(runner->runs == 3);

  runner->outputs = {"FAIL"};
  runner->runs = 0;
  source->Invalidate();
  auto failed = source->Get();
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error() == "exec credential plugin plugin: exit status 1 (install it)");
}

TEST_CASE("token file source: the file wins, re-read after the period and after a 401") {
  TempDir dir;
  const std::string file = dir.Write("token", "from-file\n");
  SystemTime now = At(1000);
  ClientConfig config;
  config.token = "static";
  config.token_file = file;
  auto source = MakeCredentialSource(config, nullptr, [&] { return now; }, std::chrono::seconds(60));
  CHECK(source->Get().value().bearer_token == "from-file");
  dir.Write("token", "rotated");
  CHECK(source->Get().value().bearer_token == "from-file");  // within the period
  now = At(1060);
  CHECK(source->Get().value().bearer_token == "rotated");
  dir.Write("token", "rotated-again");
  CHECK(source->Invalidate());
  CHECK(source->Get().value().bearer_token == "rotated-again");
  std::filesystem::remove(file);  // unreadable later: keep the last good token
  source->Invalidate();
  CHECK(source->Get().value().bearer_token == "rotated-again");

  ClientConfig only_file;
  only_file.token_file = dir.path + "/gone";
  auto missing = MakeCredentialSource(only_file, nullptr, [&] { return now; });
  REQUIRE_FALSE(missing->Get().ok());
  CHECK(Has(missing->Get().error(), "/gone: cannot read it"));

  ClientConfig static_token;
  static_token.token = "s";
  auto fixed = MakeCredentialSource(static_token, nullptr, [&] { return now; });
  CHECK(fixed->Get().value().bearer_token == "s");
  CHECK_FALSE(fixed->Invalidate());  // nothing else to try
}

TEST_CASE("process exec runner: args, env, KUBERNETES_EXEC_INFO, exit status, timeout") {
  TempDir dir;
  const std::string script = dir.Write("plugin.sh",
                                       "#!/bin/sh\n"
                                       "[ \"$1\" = get-token ] || exit 3\n"
                                       "case \"$KUBERNETES_EXEC_INFO\" in *'\"interactive\":false'*) ;; *) exit 4;; esac\n"
                                       "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",'\n"
                                       "printf '\"status\":{\"token\":\"%s\"}}' \"$PLUGIN_TOKEN\"\n");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  auto runner = MakeProcessExecRunner();
  ExecConfig c{kV1, script, {"get-token"}, {{"PLUGIN_TOKEN", "tok-42"}}, "", false};
  auto out = runner->Run(c, R"({"spec":{"interactive":false}})", std::chrono::seconds(10));
  REQUIRE(out.ok());
  CHECK(ParseExecCredential(out.value(), kV1).value().token == "tok-42");

  c.args = {"other"};
  auto bad = runner->Run(c, "{}", std::chrono::seconds(10));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error() == "exit status 3");

  c.command = dir.path + "/absent";
  auto absent = runner->Run(c, "{}", std::chrono::seconds(10));
  REQUIRE_FALSE(absent.ok());
  CHECK(Has(absent.error(), "cannot run it"));

  const std::string slow = dir.Write("slow.sh", "#!/bin/sh\nexec sleep 30\n");
  std::filesystem::permissions(slow, std::filesystem::perms::owner_all);
  c.command = slow;
  const auto start = std::chrono::steady_clock::now();
  auto timed_out = runner->Run(c, "{}", std::chrono::milliseconds(300));
  REQUIRE_FALSE(timed_out.ok());
  CHECK(Has(timed_out.error(), "timed out"));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

}  // namespace
