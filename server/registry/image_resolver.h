// Image facts from registries, for `rootgate serve` and `rootgate check --resolve-images`:
// - a bounded LRU cache: digest references kept until evicted, tag references for a TTL
//   (default 5 minutes), failures for a short TTL (default 30 s);
// - concurrent lookups of the same image share one registry fetch (singleflight);
// - the images of one request are fetched in parallel on a small worker pool;
// - every wait is bounded by the caller's deadline: an image not answered in time is unknown
//   with "registry R: timed out after 2.5s"; its fetch may finish later and fill the cache;
// - with a pod's keyring (pull_keyring.h), its credentials are tried in the kubelet's order, a
//   401/403 moving on to the next, then --registry-auth's entry; anonymous access only when no
//   credential matches. An answer got with a pull secret's credential is cached under the
//   credential's keyed hash and given only to a lookup that presents the same credential;
//   anonymous and --registry-auth answers are shared (SECURITY.md, "Pull secrets").
// Thread-safe. The destructor stops the workers after the fetches they run have returned (each
// is bounded by its own deadline).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/util/clock.h"
#include "server/util/lru_cache.h"
#include "server/registry/pull_keyring.h"
#include "server/registry/registry_client.h"
#include "server/registry/registry_metrics.h"

namespace rootgate::server {

struct ResolverOptions {
  size_t cache_entries = 10000;
  std::chrono::nanoseconds tag_ttl = std::chrono::minutes(5);
  std::chrono::nanoseconds failure_ttl = std::chrono::seconds(30);
  size_t workers = 8;        // registry fetches at once
  size_t max_pending = 256;  // fetches queued beyond that; more are refused at once
  // A fetch may outlive the deadline of the request that started it by this much, to fill the
  // cache for the next request (the API server retries). 0 for the CLI.
  std::chrono::nanoseconds background_budget = std::chrono::seconds(0);
  // The platforms the cluster's nodes have (--platform); empty: the policy's nodePlatforms, or
  // every platform of an index when it names none either.
  std::vector<Platform> platforms;
  uint64_t layer_byte_cap = uint64_t{64} << 20;
  size_t max_document = size_t{4} << 20;
  std::vector<std::string> allow_flags;     // --allow-registry
  std::vector<std::string> insecure_flags;  // --insecure-registry
  bool log_fetches = false;  // a log line per registry fetch (serve; not the CLI, whose stdout is output)
};

struct ResolvedImages {
  // Every image asked for that parses, known or not; every user-name query under
  // ImageFactMap::FindUserName.
  policy::ImageFactMap facts;
  std::vector<std::string> timed_out;  // images (as written) not answered by the deadline
};

// "The uid of user `name` in image `image`'s /etc/passwd": for a Dockerfile USER that names a
// user the Dockerfile does not create (its base image must have it).
struct UserNameQuery {
  std::string image;  // as written
  std::string name;
};

class ImageResolver {
 public:
  ImageResolver(std::unique_ptr<ImageUserFetcher> fetcher, const Clock& clock,
                ResolverOptions options);
  ~ImageResolver();
  ImageResolver(const ImageResolver&) = delete;
  ImageResolver& operator=(const ImageResolver&) = delete;

  struct Cached;  // a fetch's outcome

  // Looks up the images (as written in the pod spec) under the policy's registry settings and
  // returns by `deadline`. Invalid references are left out (the evaluator reports them).
  // `keyring`: the pod's pull secrets (nullptr: none); its problems end the reason of an image
  // that could not be read.
  ResolvedImages Resolve(const std::vector<std::string>& images, const policy::Policy& policy,
                         Clock::TimePoint deadline, const PullKeyring* keyring = nullptr);
  // The same, also answering user-name queries (in parallel with the images, cached per image
  // and name; one layer walk per image serves every name, see PasswdCache). A query's answer is
  // a fact whose user is the name (FactFromUsers), unknown with the reason when it failed. Name
  // queries are made without the keyring (they come from Dockerfiles, which have no pod).
  ResolvedImages Resolve(const std::vector<std::string>& images, const std::vector<UserNameQuery>& names,
                         const policy::Policy& policy, Clock::TimePoint deadline,
                         const PullKeyring* keyring = nullptr);

  const RegistryMetrics& metrics() const { return metrics_; }
  size_t cache_size();
  // Forgets every answer; with `platform_manifests`, also the fetcher's platform manifests kept
  // by digest.
  void ClearCache(bool platform_manifests = true);

 private:
  using Outcome = std::shared_ptr<const Cached>;

  // What one Resolve call shares between its images.
  struct Call {
    Clock::TimePoint start, fetch_deadline;
    std::shared_ptr<const RegistryLimits> limits;
    LookupSettings settings;
    std::string fingerprint;  // settings that change the answer, part of the cache key
    const PullKeyring* keyring = nullptr;
    std::string problems;  // keyring->ProblemText()
  };
  struct Waiting {
    std::string image, name, label;  // name: a user-name query's
    std::shared_future<Outcome> future;
  };

  // Answers an image (or, with a `name`, a user-name query) from the limits or the cache, or
  // starts (or joins) its fetch.
  std::optional<Waiting> Start(const std::string& image, const std::string& name, const Call& call,
                               ResolvedImages* out);
  // Waits for a fetch until `deadline` and answers its image.
  void Collect(const Waiting& w, const Call& call, Clock::TimePoint deadline, ResolvedImages* out);
  void Answer(ResolvedImages* out, const std::string& image, const std::string& name,
              policy::ImageFact fact, LookupResult result);
  Outcome FromCache(const std::string& key, Clock::TimePoint now);
  // The work in flight for `key`, or `work` queued; an invalid future when the queue is full.
  std::shared_future<Outcome> Join(const std::string& key, std::function<Outcome()> work);
  Outcome RunFetch(const ImageLocation& location, LookupSettings settings,
                   const RegistryLimits& limits, Clock::TimePoint deadline);
  // Caches `outcome` under `key` (for its TTL); with `end_flight`, the flight for `key` is done.
  void Store(const std::string& key, const Outcome& outcome, bool by_digest, bool end_flight = true);

  // A lookup through a pod's credentials.
  struct Chain {
    ImageLocation location;
    std::string key;                   // the shared cache key (location and settings)
    std::vector<PullCredential> creds;  // in the kubelet's order
    bool node = false;                  // --registry-auth has an entry for the host: tried last
  };
  // Walks the chain through the cache, fetching what is not cached when `fetch`; nullptr when
  // a step is not cached and !fetch. The outcome's `origin` names the credential that worked.
  Outcome RunChain(const Chain& chain, const LookupSettings& settings, const RegistryLimits& limits,
                   Clock::TimePoint deadline, bool fetch);
  std::optional<Waiting> StartChain(const std::string& image, Chain chain, const std::string& label,
                                    const Call& call, ResolvedImages* out);
  // The unknown fact for a failure, the keyring's problems appended.
  static policy::ImageFact Failed(const Call& call, const std::string& label, const std::string& message);
  void WorkerLoop();

  std::unique_ptr<ImageUserFetcher> fetcher_;
  const Clock& clock_;
  const ResolverOptions options_;
  RegistryMetrics metrics_;

  std::mutex mu_;  // guards cache_, flights_, queue_, stopping_
  LruCache<Outcome> cache_;
  std::map<std::string, std::shared_future<Outcome>> flights_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::atomic<bool> cancelled_{false};
  std::condition_variable wake_;
  std::vector<std::thread> workers_;
};

// The fact for a fetched image: its user, with `source` saying where it came from; for an index,
// one fact per platform (ImageFact::platforms, judged per pod by the evaluator), a platform that
// could not be read unknown with the reason.
policy::ImageFact FactFromUsers(const ImageUsers& users, const std::string& registry_label);

}  // namespace rootgate::server
