#include "server/registry/registry_client.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "policy/image_user.h"
#include "server/util/sha256.h"

namespace rootgate::server {

namespace {

using Kind = LookupError::Kind;

struct FetchedManifest {
  std::string digest;
  Manifest manifest;
};

std::string Mib(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

// GETs a manifest by tag or digest and checks it against every digest it is given.
Fetched<FetchedManifest> GetManifest(RegistrySession& session, const std::string& repository,
                                     const std::string& reference, size_t cap) {
  auto r = session.Get("/v2/" + repository + "/manifests/" + reference, std::string(kManifestAccept), cap);
  if (!r.ok()) {
    if (r.error().kind == Kind::kTooLarge) return LookupFailure(Kind::kTooLarge, "manifest larger than " + Mib(cap));
    return r.error();
  }
  FetchedManifest out;
  out.digest = Sha256::Of(r.value().body);
  if (reference.rfind("sha256:", 0) == 0 && reference != out.digest) {
    return LookupFailure(Kind::kInvalid, "manifest digest mismatch: asked for " + reference + ", got " + out.digest);
  }
  const std::string header = r.value().Header("docker-content-digest");
  if (IsSha256Digest(header) && header != out.digest) {
    return LookupFailure(Kind::kInvalid, "manifest digest mismatch: the registry says " + header +
                                             ", the content is " + out.digest);
  }
  auto parsed = ParseManifest(r.value().body, r.value().Header("content-type"));
  if (!parsed) return LookupFailure(Kind::kInvalid, parsed.error());
  out.manifest = std::move(parsed).value();
  return out;
}

Fetched<std::string> GetConfigUser(RegistrySession& session, const std::string& repository,
                                   const Descriptor& config, size_t cap) {
  if (config.size > static_cast<int64_t>(cap)) {
    return LookupFailure(Kind::kTooLarge, "image config is " + std::to_string(config.size) +
                                              " bytes, over the " + Mib(cap) + " cap");
  }
  auto r = session.Get("/v2/" + repository + "/blobs/" + config.digest, "", cap);
  if (!r.ok()) {
    if (r.error().kind == Kind::kTooLarge) return LookupFailure(Kind::kTooLarge, "image config larger than " + Mib(cap));
    return r.error();
  }
  const std::string& body = r.value().body;
  const std::string digest = Sha256::Of(body);
  if (digest != config.digest) {
    return LookupFailure(Kind::kInvalid, "image config digest mismatch: expected " + config.digest + ", got " + digest);
  }
  if (config.size >= 0 && static_cast<int64_t>(body.size()) != config.size) {
    return LookupFailure(Kind::kInvalid, "image config size mismatch");
  }
  auto parsed = ParseImageConfig(body);
  if (!parsed) return LookupFailure(Kind::kInvalid, parsed.error());
  return parsed.value().user;
}

// The index entries to look at: every entry whose platform is wanted (all when none is named),
// attestation entries (os "unknown") left out; an entry without a platform matches every node.
std::vector<Descriptor> PickPlatforms(const Manifest& index, const std::vector<Platform>& wanted) {
  std::vector<Descriptor> picks;
  for (const Descriptor& d : index.manifests) {
    if (!d.platform) {
      picks.push_back(d);
      continue;
    }
    if (d.platform->os == "unknown" || d.platform->os.empty()) continue;
    if (wanted.empty() || std::any_of(wanted.begin(), wanted.end(),
                                      [&](const Platform& w) { return w.Accepts(*d.platform); })) {
      picks.push_back(d);
    }
  }
  return picks;
}

std::string PlatformList(const std::vector<Platform>& platforms) {
  std::string s;
  for (const Platform& p : platforms) s += (s.empty() ? "" : ", ") + p.String();
  return s;
}

LookupError NoPlatform(const Manifest& index, const std::vector<Platform>& wanted) {
  std::vector<Platform> has;
  for (const Descriptor& d : index.manifests) {
    if (d.platform && d.platform->os != "unknown") has.push_back(*d.platform);
  }
  const std::string what = wanted.empty() ? "a platform" : PlatformList(wanted);
  return LookupFailure(Kind::kNotFound, "no manifest for " + what + " in the index (it has " +
                                            (has.empty() ? std::string("none") : PlatformList(has)) + ")");
}

// Where a named user's /etc/passwd is read from, for the cache of walks.
struct PasswdSource {
  PasswdCache* cache;
  std::string scope;  // scheme, host and repository
  SteadyTime deadline;
};

// A Windows account is not in an /etc/passwd (and Windows layers are large): not looked up.
bool WindowsPlatform(const std::string& platform) { return platform.rfind("windows/", 0) == 0; }

// The user of one image manifest (not an index), with its named user resolved if asked; or,
// with settings.user_name, that name looked up in its /etc/passwd (the config not read).
Fetched<PlatformUser> UserOf(RegistrySession& session, const std::string& repository,
                             const Manifest& manifest, std::string platform,
                             const LookupSettings& settings, const PasswdSource& passwd) {
  PlatformUser out;
  out.platform = std::move(platform);
  auto resolve = [&](const std::string& name) {
    ResolveNamedUser(session, repository, manifest.layers, name, settings.layer_byte_cap, &out,
                     passwd.cache, passwd.scope, passwd.deadline);
  };
  if (!settings.user_name.empty()) {
    out.user = settings.user_name;
    if (WindowsPlatform(out.platform)) {
      out.passwd_note = "a Windows image has no /etc/passwd";
    } else {
      resolve(settings.user_name);
    }
    return out;
  }
  auto user = GetConfigUser(session, repository, manifest.config, settings.max_document);
  if (!user.ok()) return user.error();
  out.user = user.value();
  const policy::ImageUser parsed = policy::ParseImageUser(out.user);
  if (settings.resolve_names && parsed.kind == policy::ImageUser::Kind::kName && parsed.name != "root" &&
      !WindowsPlatform(out.platform)) {
    resolve(parsed.name);
  }
  return out;
}

}  // namespace

namespace {

std::string Scope(const ImageLocation& loc) {
  return std::string(loc.insecure ? "http://" : "https://") + loc.host.String() + "/" + loc.repository;
}

}  // namespace

std::string ImageLocation::Key() const {
  return std::string(insecure ? "http://" : "https://") + host.String() + "/" + repository + "@" + reference;
}

RegistryClient::RegistryClient(RegistryTransport& transport, const HostResolver& resolver,
                               const RegistryCredentials* credentials,
                               std::function<SteadyTime()> now)
    : transport_(transport), resolver_(resolver), credentials_(credentials), now_(std::move(now)) {}

SessionDeps RegistryClient::Deps(const LookupSettings& settings) {
  SessionDeps deps{transport_, resolver_, *settings.limits, credentials_, tokens_, now_, nullptr, ""};
  if (settings.credential != nullptr) {
    deps.credentials = nullptr;
    deps.credential = settings.credential;
    deps.credential_id = settings.credential_id;
  }
  return deps;
}

Fetched<ImageUsers> RegistryClient::Fetch(const ImageLocation& loc, const LookupSettings& settings,
                                          SteadyTime deadline) {
  const SessionDeps deps = Deps(settings);
  RegistrySession session(deps, loc.host, loc.insecure, loc.repository, deadline);
  auto top = GetManifest(session, loc.repository, loc.reference, settings.max_document);
  if (!top.ok()) return top.error();
  ImageUsers out;
  out.digest = top.value().digest;
  const Manifest& manifest = top.value().manifest;
  if (!manifest.is_index) {
    auto user = UserOf(session, loc.repository, manifest, "", settings, {&passwds_, Scope(loc), deadline});
    if (!user.ok()) return user.error();
    out.users.push_back(std::move(user).value());
    return out;
  }
  out.index = true;
  const std::vector<Descriptor> picks = PickPlatforms(manifest, settings.platforms);
  if (picks.empty()) return NoPlatform(manifest, settings.platforms);
  std::vector<std::string> digests;  // distinct, in index order
  for (const Descriptor& d : picks) {
    if (std::find(digests.begin(), digests.end(), d.digest) == digests.end()) digests.push_back(d.digest);
  }
  if (digests.size() > kMaxIndexPlatforms) {
    return LookupFailure(Kind::kTooLarge, "the index has " + std::to_string(digests.size()) +
                                              " platform manifests, over the " +
                                              std::to_string(kMaxIndexPlatforms) + " rootgate reads");
  }
  // Every platform manifest at once (a few at a time), each in its own session, all by the same
  // deadline. A platform that cannot be read is reported as such; the others still count.
  std::vector<std::optional<Fetched<PlatformUser>>> results(digests.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < digests.size();) {
      results[i] = PlatformManifestUser(loc, settings, digests[i], deadline);
    }
  };
  std::vector<std::thread> helpers;
  for (size_t t = 1; t < std::min(digests.size(), kIndexFetchParallelism); ++t) helpers.emplace_back(work);
  work();
  for (std::thread& t : helpers) t.join();
  for (const Descriptor& pick : picks) {
    const size_t i = std::find(digests.begin(), digests.end(), pick.digest) - digests.begin();
    PlatformUser user;
    if (results[i]->ok()) {
      user = results[i]->value();
    } else {
      user.error = results[i]->error().message;
    }
    user.entry = pick.platform.value_or(Platform{});
    user.platform = pick.platform ? pick.platform->String() : "";
    out.users.push_back(std::move(user));
  }
  return out;
}

Fetched<PlatformUser> RegistryClient::PlatformManifestUser(const ImageLocation& loc, const LookupSettings& settings,
                                                           const std::string& digest, SteadyTime deadline) {
  ImageLocation by_digest = loc;  // the same manifest, whichever index or tag names it
  by_digest.reference = digest;
  // Read with a pull secret: kept for that credential only. A NUL cannot be in a reference or a
  // platform: the user name cannot run into them.
  const std::string key = by_digest.Key() + (settings.resolve_names ? "|names|" : "|") +
                          std::to_string(settings.layer_byte_cap) + "|" + settings.credential_id +
                          (settings.user_name.empty() ? "" : std::string(1, '\0') + settings.user_name);
  {
    std::lock_guard<std::mutex> lock(cache_mu_);
    if (auto hit = by_digest_.Get(key, std::chrono::steady_clock::now())) return *hit;
  }
  const SessionDeps deps = Deps(settings);
  RegistrySession session(deps, loc.host, loc.insecure, loc.repository, deadline);
  auto child = GetManifest(session, loc.repository, digest, settings.max_document);
  if (!child.ok()) return child.error();
  if (child.value().manifest.is_index) {
    return LookupFailure(Kind::kInvalid, "an index inside an index is not supported");
  }
  auto user = UserOf(session, loc.repository, child.value().manifest, "", settings,
                     {&passwds_, Scope(loc), deadline});
  if (!user.ok()) return user.error();
  // A named user whose /etc/passwd could not be read (a timeout, a cap) is asked again next time.
  if (user.value().passwd_note.empty() || user.value().name_uid) {
    std::lock_guard<std::mutex> lock(cache_mu_);
    by_digest_.Put(key, user.value(), std::nullopt);
  }
  return user;
}

void RegistryClient::ClearCache() {
  passwds_.Clear();
  std::lock_guard<std::mutex> lock(cache_mu_);
  by_digest_.Clear();
}

bool ImageUsers::partial() const {
  return std::any_of(users.begin(), users.end(), [](const PlatformUser& u) { return !u.error.empty(); });
}

}  // namespace rootgate::server
