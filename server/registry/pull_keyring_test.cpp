// The kubelet's keyring order (pkg/credentialprovider keyring.go: Add, Lookup, URLsMatch) and
// the resolver's use of it: a 401/403 moves to the next credential, other errors stop; answers
// got with a pull secret reach only lookups presenting the same credential.
#include "server/registry/pull_keyring.h"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "server/registry/image_resolver.h"
#include "server/util/sha256.h"

namespace {

using namespace rootgate::server;
using namespace std::chrono_literals;

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

RegistryCredentials Config(const std::string& json) {
  auto c = RegistryCredentials::Parse(json);
  REQUIRE(c.ok());
  return c.value();
}

std::string Auth(const std::string& key, const std::string& user, const std::string& password) {
  return "\"" + key + "\":{\"auth\":\"" + EncodeBase64(user + ":" + password) + "\"}";
}

std::vector<std::string> Users(const std::vector<PullCredential>& creds) {
  std::vector<std::string> out;
  for (const PullCredential& c : creds) out.push_back(c.credential.username);
  return out;
}

TEST_CASE("keyring keys lose the scheme and a leading /v1/ or /v2/, as the kubelet's Add does") {
  CHECK(KeyringKey("https://index.docker.io/v1/") == "index.docker.io");
  CHECK(KeyringKey("http://registry.example/v2/team") == "registry.example/team");
  CHECK(KeyringKey("quay.io/coreos") == "quay.io/coreos");
  CHECK(KeyringKey("localhost:5000") == "localhost:5000");
  CHECK(KeyringKey("https://localhost:5000/") == "localhost:5000");
}

TEST_CASE("keyring keys match images like the kubelet's URLsMatch") {
  // Globs match one host label each; the label count and the port must agree; the key's path is
  // a string prefix of the image's path.
  CHECK(KeyringKeyMatches("*.kubernetes.io", "prefix.kubernetes.io/app"));
  CHECK(KeyringKeyMatches("prefix.*.io", "prefix.kubernetes.io/app"));
  CHECK(KeyringKeyMatches("*-good.kubernetes.io", "prefix-good.kubernetes.io/app"));
  CHECK_FALSE(KeyringKeyMatches("*.kubernetes.io", "kubernetes.io/app"));
  CHECK_FALSE(KeyringKeyMatches("*.*.kubernetes.io", "prefix.kubernetes.io/app"));
  CHECK_FALSE(KeyringKeyMatches("localhost:5000", "localhost:5001/app"));
  CHECK_FALSE(KeyringKeyMatches("localhost", "localhost:5000/app"));
  CHECK(KeyringKeyMatches("localhost:5000", "localhost:5000/app"));
  CHECK(KeyringKeyMatches("quay.io/coreos", "quay.io/coreos/etcd"));
  CHECK_FALSE(KeyringKeyMatches("quay.io/coreos", "quay.io/other/etcd"));
  CHECK_FALSE(KeyringKeyMatches("gcr.io", "quay.io/coreos/etcd"));
}

TEST_CASE("keyring lookup: the most specific key first, then secrets in the order added") {
  PullKeyring k;
  k.Add(Config("{\"auths\":{" + Auth("quay.io", "a-host", "p") + "," + Auth("other.io", "a-other", "p") + "}}"),
        "imagePullSecrets \"a\"");
  k.Add(Config("{\"auths\":{" + Auth("https://quay.io/v2/team", "b-team", "p") + "," + Auth("quay.io", "b-host", "p") + "}}"),
        "imagePullSecrets \"b\"");
  CHECK(Users(k.Lookup("quay.io/team/app")) == std::vector<std::string>{"b-team", "a-host", "b-host"});
  CHECK(Users(k.Lookup("quay.io/solo/app")) == std::vector<std::string>{"a-host", "b-host"});
  CHECK(k.Lookup("ghcr.io/x/y").empty());
  const auto creds = k.Lookup("quay.io/team/app");
  CHECK(creds[0].origin == "imagePullSecrets \"b\"");
}

TEST_CASE("keyring lookup: Docker Hub images use index.docker.io entries when nothing else matches") {
  PullKeyring k;
  k.Add(Config("{\"auths\":{" + Auth("https://index.docker.io/v1/", "hub", "p") + "}}"), "s");
  CHECK(Users(k.Lookup("docker.io/library/nginx")) == std::vector<std::string>{"hub"});
  CHECK(k.Lookup("quay.io/library/nginx").empty());
}

TEST_CASE("credential ids: a keyed hash, equal for equal credentials, never the password") {
  const RegistryCredential a{"alice", "s3cret-password", ""}, a2{"alice", "s3cret-password", ""};
  const RegistryCredential b{"alice", "other", ""}, c{"alices3cret-password", "", ""};
  CHECK(CredentialId(a) == CredentialId(a2));
  CHECK(CredentialId(a) != CredentialId(b));
  CHECK(CredentialId(a) != CredentialId(c));  // fields are length-prefixed
  CHECK(CredentialId(a).size() == 64);
  CHECK_FALSE(Has(CredentialId(a), "s3cret"));
  // Not the plain SHA-256 of what it hashes: the key is random per process.
  CHECK_FALSE(Has(Sha256::Of("alice:s3cret-password"), CredentialId(a)));
}

// A registry where "private/*" needs user "team" with password "right": anything else is a 401.
class AuthFetcher final : public ImageUserFetcher {
 public:
  std::atomic<int> calls{0};
  bool node_credentials = false;  // --registry-auth holds "team"/"right" for the host
  std::mutex mu;
  std::vector<std::string> presented;  // the password of each fetch ("" anonymous, "node")

  Fetched<ImageUsers> Fetch(const ImageLocation& loc, const LookupSettings& settings, SteadyTime) override {
    ++calls;
    std::string password = settings.credential ? settings.credential->password : (node_credentials ? "node" : "");
    {
      std::lock_guard<std::mutex> l(mu);
      presented.push_back(password);
    }
    if (loc.repository.rfind("missing/", 0) == 0) return LookupFailure(LookupError::Kind::kNotFound, "manifest unknown (404)");
    const bool ok = loc.repository.rfind("private/", 0) != 0 || password == "right" || password == "node";
    if (!ok) return LookupFailure(LookupError::Kind::kUnauthorized, "authentication required (401)");
    return ImageUsers{"sha256:" + std::string(64, 'a'), {PlatformUser{"", "1000", std::nullopt, "", {}, ""}}};
  }
  bool HasCredentialsFor(const HostPort&) const override { return node_credentials; }
};

struct ChainRig {
  SteadyClock clock;
  AuthFetcher* fetcher;
  std::unique_ptr<ImageResolver> resolver;
  rootgate::policy::Policy policy;
  ChainRig() {
    auto f = std::make_unique<AuthFetcher>();
    fetcher = f.get();
    resolver = std::make_unique<ImageResolver>(std::move(f), clock, ResolverOptions{});
  }
  rootgate::policy::ImageFact Resolve(const std::string& image, const PullKeyring* keyring) {
    ResolvedImages r = resolver->Resolve({image}, policy, clock.Now() + 5s, keyring);
    auto fact = r.facts.Find(image);
    REQUIRE(fact.has_value());
    return *fact;
  }
};

PullKeyring Keyring(const std::vector<std::pair<std::string, std::string>>& secrets) {  // name → password
  PullKeyring k;
  for (const auto& [name, password] : secrets) {
    k.Add(Config("{\"auths\":{" + Auth("registry.example", "team", password) + "}}"),
          "imagePullSecrets \"" + name + "\"");
  }
  return k;
}

TEST_CASE("resolver: a 401 from one pull secret moves to the next; the answer names the one that worked") {
  ChainRig rig;
  const PullKeyring k = Keyring({{"stale", "wrong"}, {"regcred", "right"}});
  const auto fact = rig.Resolve("registry.example/private/app:1", &k);
  CHECK(fact.known);
  CHECK(fact.user == "1000");
  CHECK(Has(fact.source, "with imagePullSecrets \"regcred\""));
  CHECK(rig.fetcher->presented == std::vector<std::string>{"wrong", "right"});
}

TEST_CASE("resolver: every secret refused — unknown, each secret and the keyring's problems in the reason") {
  ChainRig rig;
  PullKeyring k = Keyring({{"stale", "wrong"}});
  k.AddProblem("imagePullSecrets \"regcred\" in namespace \"team-a\" not found");
  const auto fact = rig.Resolve("registry.example/private/app:1", &k);
  CHECK_FALSE(fact.known);
  CHECK(Has(fact.reason, "imagePullSecrets \"stale\": authentication required (401)"));
  CHECK(Has(fact.reason, "imagePullSecrets \"regcred\" in namespace \"team-a\" not found"));
  CHECK_FALSE(Has(fact.reason, "wrong"));
  // No anonymous attempt after the secrets: the kubelet tries anonymous only when none matches.
  CHECK(rig.fetcher->presented == std::vector<std::string>{"wrong"});
}

TEST_CASE("resolver: an error other than 401/403 ends the chain") {
  ChainRig rig;
  const PullKeyring k = Keyring({{"a", "right"}, {"b", "right2"}});
  const auto fact = rig.Resolve("registry.example/missing/app:1", &k);
  CHECK_FALSE(fact.known);
  CHECK(Has(fact.reason, "manifest unknown (404)"));
  CHECK(rig.fetcher->calls.load() == 1);
}

TEST_CASE("resolver: --registry-auth is tried after the pod's secrets") {
  ChainRig rig;
  rig.fetcher->node_credentials = true;
  const PullKeyring k = Keyring({{"stale", "wrong"}});
  const auto fact = rig.Resolve("registry.example/private/app:1", &k);
  CHECK(fact.known);
  CHECK(Has(fact.source, "with --registry-auth"));
  CHECK(rig.fetcher->presented == std::vector<std::string>{"wrong", "node"});
}

TEST_CASE("resolver: an answer got with a pull secret is not served to a lookup without that credential") {
  ChainRig rig;
  const PullKeyring team_a = Keyring({{"regcred", "right"}});
  REQUIRE(rig.Resolve("registry.example/private/app:1", &team_a).known);
  CHECK(rig.fetcher->calls.load() == 1);

  // Another namespace, no secret: goes to the registry (anonymous) and is refused.
  const PullKeyring team_b;
  const auto none = rig.Resolve("registry.example/private/app:1", &team_b);
  CHECK_FALSE(none.known);
  CHECK(rig.fetcher->calls.load() == 2);
  CHECK(rig.Resolve("registry.example/private/app:1", nullptr).known == false);

  // Another namespace with a different (wrong) credential for the host: refused too.
  const PullKeyring team_c = Keyring({{"regcred", "guess"}});
  CHECK_FALSE(rig.Resolve("registry.example/private/app:1", &team_c).known);

  // The same credential in another namespace's secret (another name): served from the cache.
  const int before = rig.fetcher->calls.load();
  const PullKeyring team_d = Keyring({{"copy", "right"}});
  const auto same = rig.Resolve("registry.example/private/app:1", &team_d);
  CHECK(same.known);
  CHECK(Has(same.source, "imagePullSecrets \"copy\""));
  CHECK(rig.fetcher->calls.load() == before);
}

TEST_CASE("resolver: anonymous answers stay shared between pods with and without secrets") {
  ChainRig rig;
  REQUIRE(rig.Resolve("registry.example/public/app:1", nullptr).known);
  const PullKeyring none;
  CHECK(rig.Resolve("registry.example/public/app:1", &none).known);
  CHECK(rig.fetcher->calls.load() == 1);
}

TEST_CASE("resolver: concurrent pods with the same secrets make one registry fetch per credential") {
  ChainRig rig;
  const PullKeyring k = Keyring({{"stale", "wrong"}, {"regcred", "right"}});
  std::vector<std::thread> threads;
  std::atomic<int> known{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      ResolvedImages r = rig.resolver->Resolve({"registry.example/private/app:1"}, rig.policy, rig.clock.Now() + 5s, &k);
      if (r.facts.Find("registry.example/private/app:1")->known) ++known;
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(known.load() == 16);
  CHECK(rig.fetcher->calls.load() == 2);
}

}  // namespace
