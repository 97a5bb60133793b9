// Kubeconfig loading with kubectl's rules (clientcmd): fields, merging several files, which
// files are read, contexts, the combinations clientcmd refuses, and in-cluster config.
#include "server/kube/kubeconfig.h"

#include <doctest/doctest.h>

#include "server/registry/docker_config.h"
#include "server/kube/kube_test_support.h"

namespace {

using namespace rootgate::server::kube;
using rootgate::server::EncodeBase64;
using testing::TempDir;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

std::string Config(const std::string& cluster, const std::string& server, const std::string& user,
                   const std::string& user_body, const std::string& current) {
  return "apiVersion: v1\nkind: Config\nclusters:\n- name: " + cluster + "\n  cluster:\n    server: " + server +
         "\nusers:\n- name: " + user + "\n  user:\n" + user_body + "contexts:\n- name: " + cluster +
         "\n  context:\n    cluster: " + cluster + "\n    user: " + user + "\n    namespace: ns-" + cluster +
         "\ncurrent-context: " + current + "\n";
}

TEST_CASE("kubeconfig: fields, base64 data and paths relative to the file") {
  const std::string text =
      "clusters:\n- name: c\n  cluster:\n    server: https://10.0.0.1:6443/\n"
      "    certificate-authority-data: " + EncodeBase64("CA PEM") + "\n    tls-server-name: api.internal\n"
      "users:\n- name: u\n  user:\n    client-certificate: certs/u.crt\n    client-key: /abs/u.key\n"
      "    tokenFile: tok\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n"
      "      command: ./bin/plugin\n      args: [get-token, --x]\n      env: [{name: A, value: b}]\n"
      "      provideClusterInfo: true\n"
      "- name: path-exec\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: aws}\n"
      "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
  auto parsed = ParseKubeconfig(text, "kubeconfig k", "/home/me/.kube");
  REQUIRE(parsed.ok());
  const Kubeconfig& k = parsed.value();
  CHECK(k.clusters.at("c").server == "https://10.0.0.1:6443/");
  CHECK(k.clusters.at("c").certificate_authority_data == "CA PEM");
  CHECK(k.clusters.at("c").tls_server_name == "api.internal");
  const KubeUser& u = k.users.at("u");
  CHECK(u.client_certificate == "/home/me/.kube/certs/u.crt");
  CHECK(u.client_key == "/abs/u.key");
  CHECK(u.token_file == "/home/me/.kube/tok");
  REQUIRE(u.exec.has_value());
  CHECK(u.exec->command == "/home/me/.kube/./bin/plugin");  // holds a '/': resolved
  CHECK(u.exec->args == std::vector<std::string>{"get-token", "--x"});
  CHECK(u.exec->env.size() == 1);
  CHECK(u.exec->provide_cluster_info);
  CHECK(k.users.at("path-exec").exec->command == "aws");  // a PATH lookup: left alone
  CHECK(k.current_context == "x");
}

TEST_CASE("kubeconfig: bad fields are named") {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {"clusters:\n- name: c\n  cluster: {server: 'https://x', insecure-skip-tls-verify: 1}\n", "clusters[0].cluster.insecure-skip-tls-verify"},
      {"clusters:\n- name: c\n  cluster: {certificate-authority-data: '%%%'}\n", "certificate-authority-data: not valid base64"},
      {"users:\n- user: {token: t}\n", "users[0].name: missing"},
      {"users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}}\n",
       "is not client.authentication.k8s.io/v1 or v1beta1"},
      {"users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1}}\n", "users[0].user.exec.command: missing"},
      {"contexts: {a: b}\n", "contexts: expected a list"},
      {"[1, 2]\n", "expected a mapping"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    auto parsed = ParseKubeconfig(c.text, "kubeconfig f", "/d");
    REQUIRE_FALSE(parsed.ok());
    CHECK(Has(parsed.error(), c.error));
    CHECK(Has(parsed.error(), "kubeconfig f"));
  }
  CHECK(ParseKubeconfig("", "f", "/d").ok());  // an empty file is an empty config
}

TEST_CASE("kubeconfig: KUBECONFIG files merge, the first to set a key or current-context wins") {
  TempDir dir;
  // File 1 sets user "red" with a token only; file 2 sets "red" with a token file too (its
  // non-conflicting field must be dropped: the whole entry of the first file wins).
  const std::string f1 = dir.Write("one", Config("a", "https://one:1", "red", "    token: first\n", "a"));
  const std::string f2 = dir.Write("two", Config("b", "https://two:2", "red",
                                                 "    token: second\n    tokenFile: /nonexistent\n", "b") +
                                              "");
  LoadOptions o;
  o.kubeconfig_env = f1 + "::" + dir.path + "/missing:" + f2;  // empty and missing entries skipped
  auto c = LoadClientConfig(o);
  REQUIRE(c.ok());
  CHECK(c.value().server == "https://one:1");
  CHECK(c.value().token == "first");
  CHECK(c.value().token_file.empty());
  CHECK(c.value().namespace_name == "ns-a");
  CHECK(Has(c.value().source, f1));

  o.context = "b";  // --context: the second file's context, still with the first file's "red"
  c = LoadClientConfig(o);
  REQUIRE(c.ok());
  CHECK(c.value().server == "https://two:2");
  CHECK(c.value().token == "first");

  o.kubeconfig_env = f2 + ":" + f1;  // order decides
  o.context = "";
  c = LoadClientConfig(o);
  REQUIRE_FALSE(c.ok());  // f2's red names a token file that does not exist
  CHECK(Has(c.error(), "tokenFile /nonexistent does not exist"));
}

TEST_CASE("kubeconfig: which files are read") {
  TempDir dir;
  const std::string home_cfg = dir.Write("home/.kube/config", Config("h", "https://home:1", "u", "    token: t\n", "h"));
  const std::string explicit_cfg = dir.Write("explicit", Config("e", "https://explicit:1", "u", "    token: t\n", "e"));
  LoadOptions o;
  o.home = dir.path + "/home";
  auto c = LoadClientConfig(o);
  REQUIRE(c.ok());
  CHECK(c.value().server == "https://home:1");

  o.kubeconfig_env = explicit_cfg;  // KUBECONFIG replaces ~/.kube/config
  CHECK(LoadClientConfig(o).value().server == "https://explicit:1");

  o.kubeconfig_env = "";  // set but empty: as if unset
  CHECK(LoadClientConfig(o).value().server == "https://home:1");

  o.explicit_path = dir.path + "/nope";  // --kubeconfig must exist
  c = LoadClientConfig(o);
  REQUIRE_FALSE(c.ok());
  CHECK(Has(c.error(), "nope: no such file"));

  o.explicit_path = home_cfg;
  o.context = "other";
  c = LoadClientConfig(o);
  REQUIRE_FALSE(c.ok());
  CHECK(c.error() == "context \"other\" does not exist");

  LoadOptions none;
  none.home = dir.path + "/nohome";
  c = LoadClientConfig(none);
  REQUIRE_FALSE(c.ok());
  CHECK(Has(c.error(), "no kubeconfig"));
}

TEST_CASE("kubeconfig: combinations clientcmd refuses") {
  TempDir dir;
  const std::string ca = dir.Write("ca.crt", "PEM");
  struct Case {
    std::string cluster, user, error;
  } cases[] = {
      {"    certificate-authority: " + ca + "\n    certificate-authority-data: " + EncodeBase64("x") + "\n", "    token: t\n",
       "certificate-authority-data and certificate-authority are both specified for cluster \"c\""},
      {"    certificate-authority: " + ca + "\n    insecure-skip-tls-verify: true\n", "    token: t\n",
       "insecure flag is not allowed"},
      {"", "    client-certificate-data: " + EncodeBase64("c") + "\n", "needs both the certificate and the key"},
      {"", "    client-key: " + dir.path + "/missing.key\n    client-certificate-data: " + EncodeBase64("c") + "\n",
       "missing.key: cannot read the file"},
      {"", "    username: a\n    password: b\n", "basic authentication"},
      {"", "    auth-provider: {name: gcp}\n", "auth-provider \"gcp\" is not supported"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.error);
    const std::string text = "clusters:\n- name: c\n  cluster:\n    server: https://s:1\n" + c.cluster +
                             "users:\n- name: u\n  user:\n" + c.user +
                             "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
    auto parsed = ParseKubeconfig(text, "f", dir.path);
    REQUIRE(parsed.ok());
    auto resolved = ResolveContext(parsed.value(), "");
    REQUIRE_FALSE(resolved.ok());
    CHECK(Has(resolved.error(), c.error));
  }
}

TEST_CASE("kubeconfig: insecure-skip-tls-verify warns; exec stands aside for a token") {
  const std::string text =
      "clusters:\n- name: c\n  cluster: {server: 'https://s:1', insecure-skip-tls-verify: true}\n"
      "users:\n- name: u\n  user:\n    token: t\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: p}\n"
      "- name: e\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1, command: p}\n"
      "contexts:\n- {name: x, context: {cluster: c, user: u}}\n- {name: with-exec, context: {cluster: c, user: e}}\n";
  auto parsed = ParseKubeconfig(text, "f", "/");
  REQUIRE_MESSAGE(parsed.ok(), parsed.error());
  auto x = ResolveContext(parsed.value(), "x");
  REQUIRE(x.ok());
  CHECK(x.value().insecure_skip_tls_verify);
  REQUIRE(x.value().warnings.size() == 1);
  CHECK(Has(x.value().warnings[0], "insecure-skip-tls-verify"));
  CHECK_FALSE(x.value().exec.has_value());
  CHECK(x.value().namespace_name == "default");
  auto y = ResolveContext(parsed.value(), "with-exec");
  REQUIRE(y.ok());
  CHECK(y.value().exec.has_value());
}

TEST_CASE("in-cluster config") {
  TempDir dir;
  InClusterEnv env;
  env.dir = dir.path;
  CHECK_FALSE(InClusterConfig(env).ok());  // no variables
  env.host = "fd00::1";
  env.port = "443";
  auto c = InClusterConfig(env);
  REQUIRE_FALSE(c.ok());
  CHECK(Has(c.error(), "token"));
  dir.Write("token", "sa-token\n");
  dir.Write("ca.crt", "CA");
  dir.Write("namespace", "team-a\n");
  c = InClusterConfig(env);
  REQUIRE(c.ok());
  CHECK(c.value().server == "https://[fd00::1]:443");
  CHECK(c.value().token_file == dir.path + "/token");
  CHECK(c.value().ca_pem == "CA");
  CHECK(c.value().namespace_name == "team-a");

  LoadOptions o;  // no kubeconfig anywhere: the pod's own config
  o.home = dir.path + "/nohome";
  o.in_cluster = env;
  auto loaded = LoadClientConfig(o);
  REQUIRE(loaded.ok());
  CHECK(loaded.value().source == "in-cluster config");
}

}  // namespace
