#include "server/registry/image_resolver.h"

#include <algorithm>
#include <set>

#include "policy/image_ref.h"
#include "policy/image_user.h"
#include "server/util/duration.h"
#include "server/util/logging.h"

namespace rootgate::server {

struct ImageResolver::Cached {
  bool ok = false;
  ImageUsers users;
  LookupError error;
  std::string origin;  // a chain's answer: the credential that worked (never cached itself)
};

namespace {

using Kind = LookupError::Kind;

// How long a lookup waited, to 10 ms: "2s", "250ms", "2.5s".
std::string Took(std::chrono::nanoseconds d) {
  return FormatDuration(std::chrono::round<std::chrono::duration<int64_t, std::centi>>(d));
}

// Where to fetch an image: its API host or its mirror, over HTTPS or (insecure) plain HTTP.
Result<ImageLocation> Locate(const policy::ImageRef& ref, const RegistryLimits& limits) {
  ImageLocation loc;
  loc.registry = ref.registry;
  loc.repository = ref.repository;
  loc.reference = ref.digest.empty() ? ref.tag : ref.digest;
  std::string host = ref.ApiHost();
  if (const policy::RegistryMirror* m = limits.MirrorFor(ref.registry)) {
    const size_t slash = m->mirror.find('/');
    host = m->mirror.substr(0, slash);
    if (slash != std::string::npos) loc.repository = m->mirror.substr(slash + 1) + "/" + ref.repository;
  }
  auto hp = SplitHostPort(host, 443);
  if (!hp) return Error{hp.error()};
  loc.insecure = limits.Insecure(hp.value());
  if (loc.insecure && !hp.value().explicit_port) hp.value().port = 80;
  loc.host = hp.value();
  return loc;
}

std::string Label(const ImageLocation& loc) {
  HostPort api = loc.host;
  const std::string via = api.String();
  const bool mirrored = via != loc.registry && !(loc.registry == "docker.io" && via == "registry-1.docker.io");
  return loc.registry + (mirrored ? " via " + via : "");
}

std::string PasswdPart(const PlatformUser& u) {
  if (u.name_uid) return "; uid " + std::to_string(*u.name_uid) + " in its /etc/passwd";
  return "";  // why it is not known travels in ImageFact::name_note
}

// One log line per registry fetch (not per cache hit): debug when it worked, warn when not.
// Messages hold no credentials (see registry_error.h).
void LogFetch(const ImageLocation& loc, const ImageResolver::Cached& outcome, std::chrono::nanoseconds took) {
  const double ms = std::chrono::duration<double, std::milli>(took).count();
  const std::string where = loc.host.String() + "/" + loc.repository + (loc.by_digest() ? "@" : ":") + loc.reference;
  if (outcome.ok) {
    Log(spdlog::level::debug, "registry lookup", {{"image", where}, {"duration_ms", ms}});
  } else {
    Log(spdlog::level::warn, "registry lookup failed",
        {{"image", where}, {"result", LookupErrorLabel(outcome.error.kind)},
         {"error", outcome.error.message}, {"duration_ms", ms}});
  }
}

policy::ImageFact Unknown(std::string reason) {
  return policy::ImageFact{false, "", "", std::move(reason)};
}

}  // namespace

policy::ImageFact FactFromUsers(const ImageUsers& users, const std::string& label) {
  if (users.users.empty()) return Unknown("registry " + label + ": no image manifest");
  const std::string source = "registry " + label;
  auto fact_of = [&source](const PlatformUser& u) {
    if (!u.error.empty()) return Unknown(source + ": " + u.error);
    policy::ImageFact f{true, u.user, source + PasswdPart(u), "", u.name_uid};
    f.name_note = u.passwd_note;
    return f;
  };
  if (!users.index) return fact_of(users.users.front());
  // A multi-platform image: judged per pod (policy/platform_fact.h). Read without a pod, the
  // top level says it is unknown.
  policy::ImageFact fact{false, "", source, source + ": a multi-platform image, judged per platform"};
  for (const PlatformUser& u : users.users) fact.platforms.push_back({u.entry, fact_of(u)});
  return fact;
}

ImageResolver::ImageResolver(std::unique_ptr<ImageUserFetcher> fetcher, const Clock& clock,
                             ResolverOptions options)
    : fetcher_(std::move(fetcher)), clock_(clock), options_(std::move(options)),
      cache_(options_.cache_entries) {
  for (size_t i = 0; i < std::max<size_t>(1, options_.workers); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

ImageResolver::~ImageResolver() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  // Fetches in flight (possibly stalled on a registry that never answers) are aborted, and
  // queued ones fail at once, so shutdown does not wait out their deadlines.
  cancelled_.store(true);
  fetcher_->Cancel();
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ImageResolver::WorkerLoop() {
  while (true) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job();
  }
}

size_t ImageResolver::cache_size() {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

void ImageResolver::ClearCache(bool platform_manifests) {
  if (platform_manifests) fetcher_->ClearCache();
  std::lock_guard<std::mutex> lock(mu_);
  cache_.Clear();
  metrics_.cache_entries.store(0, std::memory_order_relaxed);
}

ImageResolver::Outcome ImageResolver::FromCache(const std::string& key, Clock::TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  std::optional<Outcome> hit = cache_.Get(key, now);
  metrics_.cache_entries.store(static_cast<int64_t>(cache_.size()), std::memory_order_relaxed);
  return hit ? *hit : nullptr;
}

void ImageResolver::Store(const std::string& key, const Outcome& outcome, bool by_digest, bool end_flight) {
  const auto now = clock_.Now();
  std::optional<Clock::TimePoint> expires;  // nullopt: until evicted
  bool keep = true;
  if (!outcome->ok || outcome->users.partial()) {  // a platform that failed is asked again soon
    expires = now + options_.failure_ttl;
    keep = options_.failure_ttl.count() > 0;
  } else if (!by_digest) {
    expires = now + options_.tag_ttl;
    keep = options_.tag_ttl.count() > 0;
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (keep) cache_.Put(key, outcome, expires);
  if (end_flight) flights_.erase(key);
  metrics_.cache_entries.store(static_cast<int64_t>(cache_.size()), std::memory_order_relaxed);
}

ImageResolver::Outcome ImageResolver::RunFetch(const ImageLocation& location, LookupSettings settings,
                                               const RegistryLimits& limits, Clock::TimePoint deadline) {
  auto cached = std::make_shared<Cached>();
  const auto t0 = clock_.Now();
  if (t0 >= deadline) {
    cached->error = LookupFailure(Kind::kTimeout, "timed out waiting for a free lookup worker");
    return cached;
  }
  if (cancelled_.load()) {
    cached->error = LookupFailure(Kind::kNetwork, "rootgate is shutting down");
    return cached;
  }
  settings.limits = &limits;
  metrics_.fetches_in_flight.fetch_add(1, std::memory_order_relaxed);
  Fetched<ImageUsers> r = fetcher_->Fetch(location, settings, deadline);
  const auto took = clock_.Now() - t0;
  metrics_.fetches_in_flight.fetch_sub(1, std::memory_order_relaxed);
  metrics_.RecordFetch(took);
  cached->ok = r.ok();
  if (r.ok()) {
    cached->users = std::move(r).value();
  } else {
    cached->error = r.error();
    if (cached->error.kind == Kind::kTimeout) cached->error.message = "timed out after " + Took(took);
  }
  if (options_.log_fetches) LogFetch(location, *cached, took);
  return cached;
}

std::shared_future<ImageResolver::Outcome> ImageResolver::Join(const std::string& key,
                                                               std::function<Outcome()> work) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = flights_.find(key); it != flights_.end()) {
    metrics_.coalesced.fetch_add(1, std::memory_order_relaxed);
    return it->second;
  }
  if (queue_.size() >= options_.max_pending) return {};
  auto promise = std::make_shared<std::promise<Outcome>>();
  std::shared_future<Outcome> future = promise->get_future().share();
  flights_.emplace(key, future);
  queue_.push_back([this, key, work = std::move(work), promise] {
    Outcome outcome = work();
    {
      std::lock_guard<std::mutex> done(mu_);
      flights_.erase(key);
    }
    promise->set_value(std::move(outcome));
  });
  wake_.notify_one();
  return future;
}

void ImageResolver::Answer(ResolvedImages* out, const std::string& image, const std::string& name,
                           policy::ImageFact fact, LookupResult result) {
  if (name.empty()) {
    out->facts.Set(image, std::move(fact));
  } else {
    out->facts.SetUserName(image, name, std::move(fact));
  }
  metrics_.Count(result);
}

std::optional<ImageResolver::Waiting> ImageResolver::Start(const std::string& image, const std::string& name,
                                                          const Call& call, ResolvedImages* out) {
  auto ref = policy::ParseImageRef(image);
  if (!ref) return std::nullopt;  // the evaluator reports an invalid reference itself
  const std::string& registry = ref.value().registry;
  if (const std::string refusal = call.limits->RegistryRefusal(registry); !refusal.empty()) {
    Answer(out, image, name, Unknown("registry " + registry + ": not looked up, " + refusal), LookupResult::kRefused);
    return std::nullopt;
  }
  if (!ref.value().digest.empty() && ref.value().digest.rfind("sha256:", 0) != 0) {
    // What is fetched is verified against the reference's digest; rootgate checks sha256.
    Answer(out, image, name, Unknown("registry " + registry + ": not looked up, only sha256 digest references can be verified"),
           LookupResult::kRefused);
    return std::nullopt;
  }
  auto location = Locate(ref.value(), *call.limits);
  if (!location) {
    Answer(out, image, name, Unknown("registry " + registry + ": " + location.error()), LookupResult::kRefused);
    return std::nullopt;
  }
  // A NUL cannot be in a reference or a platform: the name cannot run into them.
  const std::string key = location.value().Key() + call.fingerprint + (name.empty() ? "" : std::string(1, '\0') + name);
  const std::string label = Label(location.value());
  if (call.keyring != nullptr && name.empty()) {
    std::vector<PullCredential> creds = call.keyring->Lookup(registry + "/" + ref.value().repository);
    if (!creds.empty()) {
      const bool node = fetcher_->HasCredentialsFor(location.value().host);
      return StartChain(image, Chain{location.value(), key, std::move(creds), node}, label, call, out);
    }
  }
  if (Outcome hit = FromCache(key, call.start)) {
    Answer(out, image, name, hit->ok ? FactFromUsers(hit->users, label)
                                     : Failed(call, label, hit->error.message + " (cached)"),
           LookupResult::kCacheHit);
    return std::nullopt;
  }
  LookupSettings settings = call.settings;
  settings.user_name = name;
  auto work = [this, key, loc = location.value(), settings, limits = call.limits,
               deadline = call.fetch_deadline] {
    Outcome outcome = RunFetch(loc, settings, *limits, deadline);
    Store(key, outcome, loc.by_digest(), /*end_flight=*/false);
    return outcome;
  };
  auto future = Join(key, std::move(work));
  if (!future.valid()) {
    Answer(out, image, name, Failed(call, label, "too many registry lookups in flight"),
           LookupResult::kOverloaded);
    return std::nullopt;
  }
  return Waiting{image, name, label, std::move(future)};
}

void ImageResolver::Collect(const Waiting& w, const Call& call, Clock::TimePoint deadline,
                            ResolvedImages* out) {
  if (w.future.wait_until(deadline) != std::future_status::ready) {
    Answer(out, w.image, w.name, Failed(call, w.label, "timed out after " + Took(clock_.Now() - call.start)),
           LookupResult::kTimeout);
    if (w.name.empty()) out->timed_out.push_back(w.image);
    return;
  }
  const Outcome& o = w.future.get();
  const std::string label = w.label + (o->origin.empty() ? "" : " with " + o->origin);
  if (o->ok) {
    Answer(out, w.image, w.name, FactFromUsers(o->users, label), LookupResult::kFetched);
    return;
  }
  Answer(out, w.image, w.name, Failed(call, w.label, o->error.message), ResultOf(o->error.kind));
  if (o->error.kind == Kind::kTimeout && w.name.empty()) out->timed_out.push_back(w.image);
}

ResolvedImages ImageResolver::Resolve(const std::vector<std::string>& images,
                                      const policy::Policy& policy, Clock::TimePoint deadline,
                                      const PullKeyring* keyring) {
  return Resolve(images, {}, policy, deadline, keyring);
}

ResolvedImages ImageResolver::Resolve(const std::vector<std::string>& images,
                                      const std::vector<UserNameQuery>& names,
                                      const policy::Policy& policy, Clock::TimePoint deadline,
                                      const PullKeyring* keyring) {
  Call call;
  call.start = clock_.Now();
  call.keyring = keyring;
  if (keyring != nullptr) call.problems = keyring->ProblemText();
  call.limits = std::make_shared<const RegistryLimits>(policy.registries, options_.allow_flags,
                                                       options_.insecure_flags);
  // The platforms the nodes have: --platform, else the policy's nodePlatforms, else any.
  call.settings = LookupSettings{call.limits.get(),
                                 options_.platforms.empty() ? policy.node_platforms : options_.platforms,
                                 policy.named_users == policy::NamedUsers::kResolve,
                                 options_.layer_byte_cap, options_.max_document, /*user_name=*/"",
                                 /*credential=*/nullptr, /*credential_id=*/""};
  call.fingerprint = call.settings.resolve_names ? "|names" : "|";
  for (const Platform& p : call.settings.platforms) call.fingerprint += "|" + p.String();
  call.fetch_deadline = std::max(deadline, call.start + options_.background_budget);
  ResolvedImages out;
  std::vector<Waiting> waiting;
  std::set<std::string> seen;
  for (const std::string& image : images) {
    if (!seen.insert(image).second) continue;
    if (auto w = Start(image, "", call, &out)) waiting.push_back(std::move(*w));
  }
  std::set<std::pair<std::string, std::string>> seen_names;
  for (const UserNameQuery& q : names) {
    if (q.name.empty() || !seen_names.emplace(q.image, q.name).second) continue;
    if (auto w = Start(q.image, q.name, call, &out)) waiting.push_back(std::move(*w));
  }
  for (const Waiting& w : waiting) Collect(w, call, deadline, &out);
  return out;
}

policy::ImageFact ImageResolver::Failed(const Call& call, const std::string& label, const std::string& message) {
  return Unknown("registry " + label + ": " + message + (call.problems.empty() ? "" : "; " + call.problems));
}

ImageResolver::Outcome ImageResolver::RunChain(const Chain& chain, const LookupSettings& settings,
                                               const RegistryLimits& limits, Clock::TimePoint deadline,
                                               bool fetch) {
  auto answer = std::make_shared<Cached>();
  std::string refused;  // the 401/403s gone through, each naming its secret
  // One step: the outcome under `key`, from the cache or (when `fetch`) the registry.
  auto step = [&](const std::string& key, const PullCredential* cred) -> Outcome {
    if (Outcome hit = FromCache(key, clock_.Now())) return hit;
    if (!fetch) return nullptr;
    LookupSettings s = settings;
    if (cred != nullptr) {
      s.credential = &cred->credential;
      s.credential_id = cred->id;
    }
    Outcome o = RunFetch(chain.location, s, limits, deadline);
    Store(key, o, chain.location.by_digest(), /*end_flight=*/false);
    return o;
  };
  // True when `o` ends the chain (an answer, or an error a next credential would not change).
  auto settle = [&](const Outcome& o, const std::string& origin) {
    if (o->ok) {
      answer->ok = true;
      answer->users = o->users;
      answer->origin = origin;
      return true;
    }
    refused += (refused.empty() ? "" : "; ") + origin + ": " + o->error.message;
    if (o->error.kind == LookupError::Kind::kUnauthorized) return false;
    answer->error = LookupFailure(o->error.kind, refused);
    return true;
  };
  for (const PullCredential& c : chain.creds) {
    Outcome o = step(chain.key + "|secret:" + c.id, &c);
    if (!o) return nullptr;
    if (settle(o, c.origin)) return answer;
  }
  if (chain.node) {
    Outcome o = step(chain.key, nullptr);
    if (!o) return nullptr;
    if (settle(o, "--registry-auth")) return answer;
  }
  answer->error = LookupFailure(LookupError::Kind::kUnauthorized, refused);
  return answer;
}

std::optional<ImageResolver::Waiting> ImageResolver::StartChain(const std::string& image, Chain chain,
                                                               const std::string& label, const Call& call,
                                                               ResolvedImages* out) {
  if (Outcome cached = RunChain(chain, call.settings, *call.limits, call.fetch_deadline, /*fetch=*/false)) {
    Answer(out, image, "", cached->ok ? FactFromUsers(cached->users, label + " with " + cached->origin)
                                  : Failed(call, label, cached->error.message + " (cached)"),
           LookupResult::kCacheHit);
    return std::nullopt;
  }
  // One flight per image and credential list: a burst of pods with the same secrets fetches once.
  // The secrets' names are part of it, so an answer never names another namespace's secret.
  std::string flight = chain.key + "|chain";
  for (const PullCredential& c : chain.creds) flight += ":" + c.id + "@" + c.origin;
  if (chain.node) flight += ":node";
  auto work = [this, chain = std::move(chain), settings = call.settings, limits = call.limits,
               deadline = call.fetch_deadline] {
    return RunChain(chain, settings, *limits, deadline, /*fetch=*/true);
  };
  auto future = Join(flight, std::move(work));
  if (!future.valid()) {
    Answer(out, image, "", Failed(call, label, "too many registry lookups in flight"), LookupResult::kOverloaded);
    return std::nullopt;
  }
  return Waiting{image, "", label, std::move(future)};
}

}  // namespace rootgate::server
