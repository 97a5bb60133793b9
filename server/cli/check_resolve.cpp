#include "server/cli/check_resolve.h"

#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "server/inputs/pod_facts.h"

namespace rootgate::server {

namespace {

// Answers nothing, remembers every image asked about.
class RecordingFacts final : public policy::ImageFacts {
 public:
  std::optional<policy::ImageFact> Find(std::string_view image) const override {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.emplace(image);
    return std::nullopt;
  }
  std::optional<policy::ImageFact> FindUserName(std::string_view image, std::string_view name) const override {
    std::lock_guard<std::mutex> lock(mu_);
    names_.emplace(image, name);
    return std::nullopt;
  }
  std::vector<std::string> Images() const {
    std::lock_guard<std::mutex> lock(mu_);
    return {seen_.begin(), seen_.end()};
  }
  std::vector<UserNameQuery> Names() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<UserNameQuery> out;
    for (const auto& [image, name] : names_) out.push_back({image, name});
    return out;
  }

 private:
  mutable std::mutex mu_;
  mutable std::set<std::string> seen_;
  mutable std::set<std::pair<std::string, std::string>> names_;
};

// Every image unknown, saying that lookups are off.
class OfflineFacts final : public policy::ImageFacts {
 public:
  std::optional<policy::ImageFact> Find(std::string_view) const override {
    return policy::ImageFact{false, "", "", "registry lookups are off (--offline)"};
  }
  std::optional<policy::ImageFact> FindUserName(std::string_view image, std::string_view) const override {
    return Find(image);
  }
};

// Facts per pod keyring: while recording, each group remembers the images its pods ask for;
// after Resolve, each answers from its own lookups.
class SecretScopedFacts final : public PodScopedFacts {
 public:
  SecretScopedFacts(PullKeyringSource& secrets, std::string default_namespace)
      : secrets_(secrets), default_namespace_(std::move(default_namespace)) {
    GroupFor("", PullKeyring());  // inputs without a pod: no secrets
  }
  std::optional<policy::ImageFact> Find(std::string_view image) const override {
    return GroupFor("", PullKeyring()).Find(image);
  }
  const policy::ImageFacts& ForPod(const std::string& ns, const policy::WorkloadView& view) const override {
    const std::string n = ns.empty() ? default_namespace_ : ns;
    PullKeyring keyring = view.pod_spec != nullptr ? secrets_.For(n, *view.pod_spec) : PullKeyring();
    return GroupFor(n + "\n" + keyring.Fingerprint(), std::move(keyring));
  }
  void Resolve(ImageResolver& resolver, const policy::Policy& policy, Clock::TimePoint deadline) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [key, g] : groups_) {
      g->resolved = resolver.Resolve({g->images.begin(), g->images.end()}, policy, deadline, &g->keyring).facts;
      g->done = true;
    }
  }

 private:
  struct Group final : policy::ImageFacts {
    PullKeyring keyring;
    mutable std::mutex mu;
    mutable std::set<std::string> images;
    policy::ImageFactMap resolved;
    bool done = false;
    std::optional<policy::ImageFact> Find(std::string_view image) const override {
      if (done) return resolved.Find(image);
      std::lock_guard<std::mutex> lock(mu);
      images.emplace(image);
      return std::nullopt;
    }
  };
  Group& GroupFor(const std::string& key, PullKeyring keyring) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, added] = groups_.try_emplace(key);
    if (added) {
      it->second = std::make_unique<Group>();
      it->second->keyring = std::move(keyring);
    }
    return *it->second;
  }

  PullKeyringSource& secrets_;
  const std::string default_namespace_;
  mutable std::mutex mu_;
  mutable std::map<std::string, std::unique_ptr<Group>> groups_;
};

struct Input {
  std::string source;
  std::string text;
  std::string error;
};

std::vector<Input> ReadAll(const std::vector<InputPath>& inputs) {
  std::vector<Input> out;
  for (const InputPath& in : inputs) {
    Input read{in.path, "", in.error};
    if (read.error.empty()) {
      auto text = ReadInput(in.path);
      if (text) {
        read.text = std::move(text).value();
      } else {
        read.error = text.error();
      }
    }
    out.push_back(std::move(read));
  }
  return out;
}

void CheckAll(const std::vector<Input>& inputs, const InputOptions& options,
              const policy::Policy& policy, const policy::ImageFacts& facts, CheckReport* report) {
  for (const Input& in : inputs) {
    if (!in.error.empty()) {
      report->errors.push_back({in.source, 0, 0, in.error, true});
      continue;
    }
    CheckInput(in.source, in.text, options, policy, facts, report);
  }
  CheckComposeFlagFiles(options, policy, facts, report);
}

}  // namespace

void CheckInputsWithLookups(const std::vector<InputPath>& paths, const InputOptions& options,
                            const policy::Policy& policy, ImageResolver* resolver,
                            const Clock& clock, std::chrono::nanoseconds timeout,
                            CheckReport* report, PullKeyringSource* secrets,
                            const std::string& default_namespace) {
  const std::vector<Input> inputs = ReadAll(paths);
  if (resolver == nullptr) {
    CheckAll(inputs, options, policy, OfflineFacts(), report);
    return;
  }
  if (secrets != nullptr) {
    SecretScopedFacts scoped(*secrets, default_namespace);
    CheckReport scratch;
    CheckAll(inputs, options, policy, scoped, &scratch);
    scoped.Resolve(*resolver, policy, clock.Now() + timeout);
    CheckAll(inputs, options, policy, scoped, report);
    return;
  }
  RecordingFacts recorder;
  CheckReport scratch;
  CheckAll(inputs, options, policy, recorder, &scratch);
  const ResolvedImages resolved =
      resolver->Resolve(recorder.Images(), recorder.Names(), policy, clock.Now() + timeout);
  CheckAll(inputs, options, policy, resolved.facts, report);
}

}  // namespace rootgate::server
