// `rootgate serve` flags: defaults from the issue, each listen form, sizes and durations, and a
// clear error for each kind of mistake.
#include "server/webhook/serve_options.h"

#include <doctest/doctest.h>

using namespace rootgate::server;
using namespace std::chrono_literals;

TEST_CASE("serve flags: defaults") {
  auto o = ParseServeFlags({});
  REQUIRE(o.ok());
  CHECK(o.value().listen.host.empty());
  CHECK(o.value().listen.port == 8443);
  CHECK(o.value().max_body == 8u << 20);
  CHECK(o.value().grace_period == 25s);
  CHECK(o.value().reload_interval == 1s);
  CHECK(o.value().log_format == LogFormat::kJson);
  CHECK(o.value().log_level == spdlog::level::info);
  CHECK_FALSE(o.value().state_dir.empty());
  CHECK(o.value().threads == 32);
  CHECK(o.value().max_connections == 1024);
  CHECK(o.value().read_timeout == 10s);
  CHECK(o.value().idle_timeout == 5s);
}

TEST_CASE("serve flags: every flag, both spellings") {
  auto o = ParseServeFlags({"--listen", "127.0.0.1:9443", "--tls-cert=c.pem", "--tls-key", "k.pem",
                            "--client-ca", "ca.pem", "--policy", "p.yaml", "--log-level=warn",
                            "--log-format", "text", "--max-body", "1Mi", "--grace-period", "2.5s",
                            "--reload-interval=200ms", "--state-dir", "/tmp/s", "--threads", "4",
                            "--max-connections=2000", "--read-timeout", "1.5s", "--idle-timeout", "30s"});
  REQUIRE_MESSAGE(o.ok(), o.error());
  const ServeOptions& v = o.value();
  CHECK(v.listen.host == "127.0.0.1");
  CHECK(v.listen.port == 9443);
  CHECK(v.tls_cert == "c.pem");
  CHECK(v.tls_key == "k.pem");
  CHECK(v.client_ca == "ca.pem");
  CHECK(v.policy_file == "p.yaml");
  CHECK(v.log_level == spdlog::level::warn);
  CHECK(v.log_format == LogFormat::kText);
  CHECK(v.max_body == 1u << 20);
  CHECK(v.grace_period == 2500ms);
  CHECK(v.reload_interval == 200ms);
  CHECK(v.state_dir == "/tmp/s");
  CHECK(v.threads == 4);
  CHECK(v.max_connections == 2000);
  CHECK(v.read_timeout == 1500ms);
  CHECK(v.idle_timeout == 30s);
}

TEST_CASE("serve flags: connection limits") {
  CHECK(ParseServeFlags({"--max-connections", "1"}).value().max_connections == 1);
  CHECK(ParseServeFlags({"--max-connections", "65536"}).value().max_connections == 65536);
  // httplib counts keep-alive idleness in whole seconds: a fraction rounds up, never to 0.
  CHECK(ParseServeFlags({"--idle-timeout", "1500ms"}).value().idle_timeout == 2s);
  CHECK(ParseServeFlags({"--idle-timeout", "1s"}).value().idle_timeout == 1s);
  CHECK(ParseServeFlags({"--read-timeout", "250ms"}).value().read_timeout == 250ms);
}

TEST_CASE("serve flags: listen forms") {
  CHECK(ParseListen(":8443").value().host.empty());
  CHECK(ParseListen("[::1]:8443").value().host == "::1");
  CHECK(ParseListen("[::]:0").value().port == 0);
  CHECK(ParseListen("localhost:1").value().host == "localhost");
  CHECK(ParseListen("[::1]:8443").value().ToString() == "[::1]:8443");
  CHECK(ParseListen("0.0.0.0:80").value().ToString() == "0.0.0.0:80");
  for (const char* bad : {"8443", "::1:8443", "host:", "host:65536", "host:-1", "host:8x"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseListen(bad).ok());
  }
}

TEST_CASE("serve flags: sizes") {
  CHECK(ParseByteSize("8388608").value() == 8388608);
  CHECK(ParseByteSize("8Mi").value() == 8u << 20);
  CHECK(ParseByteSize("8MiB").value() == 8u << 20);
  CHECK(ParseByteSize("512Ki").value() == 512u << 10);
  CHECK(ParseByteSize("2M").value() == 2000000);
  CHECK_FALSE(ParseByteSize("8Xi").ok());
  CHECK_FALSE(ParseByteSize("Mi").ok());
}

TEST_CASE("serve flags: mistakes are named") {
  struct Case {
    std::vector<std::string> args;
    const char* part;
  };
  const std::vector<Case> cases = {
      {{"--tls-cert", "c.pem"}, "together"},
      {{"--policy", "p", "--preset", "default"}, "not both"},
      {{"--listen"}, "missing value"},
      {{"--bogus", "1"}, "unknown flag"},
      {{"extra"}, "unknown flag"},
      {{"--log-format", "xml"}, "json or text"},
      {{"--log-level", "loud"}, "debug"},
      {{"--grace-period", "25"}, "duration"},
      {{"--max-body", "0"}, "more than 0"},
      {{"--threads", "0"}, "1 to 1024"},
      {{"--max-connections", "0"}, "1 to 65536"},
      {{"--max-connections", "65537"}, "1 to 65536"},
      {{"--max-connections", "12k"}, "1 to 65536"},
      {{"--read-timeout", "0s"}, "positive duration"},
      {{"--read-timeout", "10"}, "positive duration"},
      {{"--idle-timeout", "500ms"}, "at least 1s"},
      {{"--tls-cert", ""}, "empty"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args[0]);
    auto o = ParseServeFlags(c.args);
    REQUIRE_FALSE(o.ok());
    CHECK(o.error().find(c.part) != std::string::npos);
  }
}

TEST_CASE("serve flags: the background audit") {
  auto off = ParseServeFlags({});
  REQUIRE(off.ok());
  CHECK(off.value().audit_interval == 0s);  // off by default
  CHECK(off.value().audit_qps == 5);        // client-go's QPS and Burst
  CHECK(off.value().audit_burst == 10);
  auto o = ParseServeFlags({"--audit-interval", "2m", "--write-reports", "--report-api=openreports.io/v1alpha1",
                            "--audit-qps", "2.5", "--audit-burst=3", "--audit-lease-namespace", "rg",
                            "--kubeconfig", "/k"});
  REQUIRE_MESSAGE(o.ok(), o.error());
  CHECK(o.value().audit_interval == 2min);
  CHECK(o.value().audit_write_reports);
  CHECK(o.value().audit_report_api == "openreports.io/v1alpha1");
  CHECK(o.value().audit_qps == 2.5);
  CHECK(o.value().audit_burst == 3);
  CHECK(o.value().audit_lease_namespace == "rg");
  CHECK(o.value().kubeconfig == "/k");
  const auto error = [](std::vector<std::string> args) {
    auto r = ParseServeFlags(args);
    return r.ok() ? std::string("(accepted)") : r.error();
  };
  CHECK(error({"--write-reports"}).find("need --audit-interval") != std::string::npos);
  CHECK(error({"--audit-qps", "3"}).find("need --audit-interval") != std::string::npos);
  CHECK(error({"--audit-interval", "500ms"}) == "--audit-interval: at least 1s");
  CHECK(error({"--audit-interval", "soon"}).rfind("--audit-interval soon: expected a positive duration", 0) == 0);
  CHECK(error({"--audit-interval", "1m", "--audit-qps", "0"}).rfind("--audit-qps 0: expected a number above 0", 0) == 0);
  CHECK(error({"--audit-interval", "1m", "--audit-burst", "0"}).rfind("--audit-burst 0: expected a number from 1", 0) == 0);
  CHECK(error({"--audit-interval", "1m", "--report-api", "v1"}).rfind("--report-api v1: expected wgpolicyk8s.io", 0) == 0);
}

TEST_CASE("serve flags: --kube-api and --kubeconfig") {
  CHECK_FALSE(ParseServeFlags({}).value().kube_api);
  auto in_cluster = ParseServeFlags({"--kube-api"});
  REQUIRE(in_cluster.ok());
  CHECK(in_cluster.value().kube_api);
  CHECK(in_cluster.value().kubeconfig.empty());
  auto outside = ParseServeFlags({"--kube-api", "--kubeconfig=/k/config"});
  REQUIRE(outside.ok());
  CHECK(outside.value().kubeconfig == "/k/config");
  CHECK(ParseServeFlags({"--kubeconfig", "/k/config"}).error() == "--kubeconfig needs --kube-api or --audit-interval");
  CHECK(ParseServeFlags({"--kube-api", "--offline"}).error() ==
        "--kube-api reads pull secrets for registry lookups, which --offline turns off");
  CHECK(ParseServeFlags({"--kube-api", "--kubeconfig"}).error() == "--kubeconfig: missing value");
}
