// `check --resolve-images` with cluster access (cli/ over registry/ with an in-memory keyring
// source and fetcher): each workload is judged with its own namespace's pull secrets, a manifest
// without a namespace uses the default one, and inputs without a pod use no secret.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "server/cli/check_resolve.h"

namespace {

using namespace rootgate::server;
using namespace std::chrono_literals;

// A registry where "private/*" needs password "right": anything else is a 401.
class AuthFetcher final : public ImageUserFetcher {
 public:
  std::atomic<int> calls{0};
  Fetched<ImageUsers> Fetch(const ImageLocation& loc, const LookupSettings& settings, SteadyTime) override {
    ++calls;
    const bool ok = loc.repository.rfind("private/", 0) != 0 ||
                    (settings.credential != nullptr && settings.credential->password == "right");
    if (!ok) return LookupFailure(LookupError::Kind::kUnauthorized, "authentication required (401)");
    return ImageUsers{"sha256:" + std::string(64, 'a'), {PlatformUser{"", "1000", std::nullopt, "", {}, ""}}};
  }
};

// Namespace → the password of its secret "regcred" for registry.example; others have none.
class FakeSecrets final : public PullKeyringSource {
 public:
  std::map<std::string, std::string> passwords;
  std::vector<std::string> asked;  // namespaces asked for
  PullKeyring For(const std::string& ns, const nlohmann::json& pod_spec) override {
    asked.push_back(ns);
    PullKeyring k;
    auto it = passwords.find(ns);
    if (it == passwords.end() || !pod_spec.contains("imagePullSecrets")) return k;
    const std::string json = R"({"auths":{"registry.example":{"username":"u","password":")" + it->second + R"("}}})";
    k.Add(RegistryCredentials::Parse(json).value(), "imagePullSecrets \"regcred\"");
    return k;
  }
};

std::string PodYaml(const std::string& name, const std::string& ns) {
  return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + (ns.empty() ? "" : ", namespace: " + ns) +
         "}\nspec:\n  imagePullSecrets: [{name: regcred}]\n  containers: [{name: app, image: registry.example/private/app:1}]\n";
}

TEST_CASE("check with cluster access: each pod's own namespace's secrets") {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "rootgate-check-pull-secrets";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "pods.yaml").string();
  std::ofstream(file) << PodYaml("a", "team-a") << "---\n" << PodYaml("b", "team-b") << "---\n" << PodYaml("c", "");

  SteadyClock clock;
  auto fetcher = std::make_unique<AuthFetcher>();
  AuthFetcher* f = fetcher.get();
  ImageResolver resolver(std::move(fetcher), clock, ResolverOptions{});
  FakeSecrets secrets;
  secrets.passwords = {{"team-a", "right"}, {"team-b", "wrong"}, {"ctx-ns", "right"}};
  rootgate::policy::Policy policy;
  CheckReport report;
  CheckInputsWithLookups(ExpandInputs({file}), InputOptions{}, policy, &resolver, clock, 5s, &report,
                         &secrets, "ctx-ns");
  std::map<std::string, bool> allowed;
  for (const CheckResult& r : report.results) allowed[r.name] = r.decision.allowed;
  CHECK(allowed["a"]);
  CHECK_FALSE(allowed["b"]);  // team-b's own (wrong) secret, not team-a's answer
  CHECK(allowed["c"]);        // no namespace: the context's
  CHECK(std::find(secrets.asked.begin(), secrets.asked.end(), "ctx-ns") != secrets.asked.end());
  CHECK(f->calls.load() == 2);  // team-a's and the context's credential are the same: one fetch; team-b's one more

  CheckReport offline;
  CheckInputsWithLookups(ExpandInputs({file}), InputOptions{}, policy, &resolver, clock, 5s, &offline);
  for (const CheckResult& r : offline.results) CHECK_FALSE(r.decision.allowed);  // no secrets at all
  std::filesystem::remove_all(dir);
}

}  // namespace
