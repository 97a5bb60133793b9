// Reads an image's config `User` from its registry (Distribution API v2): the manifest the
// reference names; for an OCI index or Docker manifest list, the manifests of every platform in
// it (or of the wanted platforms, when named), fetched in parallel within the same deadline and
// cached by digest; then their config blobs. Everything fetched is checked against its digest (the
// reference's, Docker-Content-Digest, the descriptor's) and capped in size. With named users
// resolved, the image's /etc/passwd is read from its layers, top layer first, within a byte cap.
// Thread-safe: each lookup runs in its own RegistrySession; tokens are shared.
#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/registry/docker_config.h"
#include "server/registry/image_manifest.h"
#include "server/util/lru_cache.h"
#include "server/registry/registry_error.h"
#include "server/registry/registry_limits.h"
#include "server/registry/registry_session.h"
#include "server/registry/registry_transport.h"

namespace rootgate::server {

// Where to look an image up.
struct ImageLocation {
  std::string registry;    // as in the reference ("docker.io"): for messages and policy
  HostPort host;           // where to connect: registry-1.docker.io, or a mirror
  bool insecure = false;   // plain HTTP
  std::string repository;  // below the host, a mirror's path prefix included
  std::string reference;   // a tag, or a "sha256:..." digest

  bool by_digest() const { return reference.rfind("sha256:", 0) == 0; }
  // Identifies what is fetched: scheme, host, repository and reference.
  std::string Key() const;
};

struct PlatformUser {
  std::string platform;  // "linux/amd64"; "" for an image that is not an index, or an entry without one
  std::string user;      // config.User
  std::optional<int64_t> name_uid;  // a named user's uid from the image's /etc/passwd
  std::string passwd_note;          // why a named user's uid was not found, when it was looked for
  Platform entry;                   // the index entry's platform, parsed (os "" when none)
  std::string error;                // non-empty: this platform's manifest or config could not be read
};

struct ImageUsers {
  std::string digest;               // of the manifest the reference names
  std::vector<PlatformUser> users;  // one per platform looked at, in index order
  bool index = false;               // an OCI index or Docker manifest list

  // True when some platform could not be read (the answer is then kept only briefly).
  bool partial() const;
};

// At most this many platforms of one index are read; an index with more (after --platform or
// nodePlatforms) is refused.
inline constexpr size_t kMaxIndexPlatforms = 32;
// Platform manifests read at once for one index.
inline constexpr size_t kIndexFetchParallelism = 4;

struct LookupSettings {
  const RegistryLimits* limits = nullptr;  // required
  std::vector<Platform> platforms;  // of an index, these only; empty: every platform in it
  bool resolve_names = false;
  uint64_t layer_byte_cap = uint64_t{64} << 20;  // per platform image, compressed bytes
  size_t max_document = size_t{4} << 20;        // manifests and configs
  // Non-empty: look this user name up in each platform image's /etc/passwd instead of reading
  // the config's User (PlatformUser::user is then this name; the config is not fetched). For a
  // Dockerfile's USER that its base image must define. Done whatever `resolve_names` says.
  std::string user_name;
  // A pull secret's credential to use instead of the node-level ones (and its CredentialId);
  // nullptr: --registry-auth, else anonymous. Must outlive the Fetch.
  const RegistryCredential* credential = nullptr;
  std::string credential_id;
};

// The seam between the cache and the network, so the resolver is tested without either.
class ImageUserFetcher {
 public:
  virtual ~ImageUserFetcher() = default;
  // Looks up one image; must return by `deadline` (give or take a blocking DNS lookup).
  // Thread-safe.
  virtual Fetched<ImageUsers> Fetch(const ImageLocation& location, const LookupSettings& settings,
                                    SteadyTime deadline) = 0;
  // For shutdown: makes fetches in flight, and every later one, fail at once.
  virtual void Cancel() {}
  // Forgets what the fetcher keeps between lookups (platform manifests by digest).
  virtual void ClearCache() {}
  // Whether node-level credentials (--registry-auth) hold an entry for `host`: the kubelet
  // tries them after the pod's pull secrets.
  virtual bool HasCredentialsFor(const HostPort&) const { return false; }
};

// What the layer walk of one image found at /etc/passwd, kept by PasswdCache.
struct PasswdRead {
  enum class Kind { kFound, kNone, kGiveUp };
  Kind kind = Kind::kNone;
  std::string text;  // kFound: the file
  std::string note;  // kGiveUp: why it was not read ("... layer byte cap", a network error)
};

// The /etc/passwd of images already walked, so the names of several lookups (the config's
// User, Dockerfile USERs) cost one layer walk per image: keyed by registry, repository, the
// layer digests and the byte cap (content-addressed: kept until evicted). Only definite answers
// are kept (found, none); a file over 64 KiB is not kept (it is read again), so the cache holds
// at most 256 x 64 KiB. Concurrent walks of the same key share one (the others wait, up to
// their own deadline). Thread-safe.
class PasswdCache {
 public:
  // The cached read for `key`, or the one `walk` returns (run by one caller at a time per key;
  // a caller that waits past `deadline` gets a kGiveUp "timed out" note).
  PasswdRead Get(const std::string& key, SteadyTime deadline, const std::function<PasswdRead()>& walk);
  void Clear();
  // Layer walks done (for tests).
  int walks() const;

 private:
  mutable std::mutex mu_;
  LruCache<std::shared_ptr<const PasswdRead>> cache_{256};
  std::map<std::string, std::shared_future<std::shared_ptr<const PasswdRead>>> flights_;
  int walks_ = 0;
};

class RegistryClient final : public ImageUserFetcher {
 public:
  // All references must outlive the client. `credentials` may be null (anonymous).
  RegistryClient(RegistryTransport& transport, const HostResolver& resolver,
                 const RegistryCredentials* credentials, std::function<SteadyTime()> now);

  Fetched<ImageUsers> Fetch(const ImageLocation& location, const LookupSettings& settings,
                            SteadyTime deadline) override;
  void Cancel() override { transport_.CancelAll(); }
  void ClearCache() override;
  const PasswdCache& passwd_cache() const { return passwds_; }
  bool HasCredentialsFor(const HostPort& host) const override {
    return credentials_ != nullptr && credentials_->For(host.String()).has_value();
  }

 private:
  SessionDeps Deps(const LookupSettings& settings);
  // The user of one platform manifest of an index, from the digest cache or the registry.
  Fetched<PlatformUser> PlatformManifestUser(const ImageLocation& loc, const LookupSettings& settings,
                                             const std::string& digest, SteadyTime deadline);

  RegistryTransport& transport_;
  const HostResolver& resolver_;
  const RegistryCredentials* credentials_;
  std::function<SteadyTime()> now_;
  TokenCache tokens_;
  // Platform manifests by digest (content-addressed, so kept until evicted): the user each gives.
  std::mutex cache_mu_;
  LruCache<PlatformUser> by_digest_{4096};
  PasswdCache passwds_;
};

// Named users: looks for `name` in the /etc/passwd of an image with these layers (base first).
// Sets `out->name_uid` or `out->passwd_note`. Reads layers top first, at most `byte_cap` bytes
// in all, each verified against its digest; with a `cache`, the file read for the same layers
// before (`cache_scope`: registry and repository) answers without a walk.
void ResolveNamedUser(RegistrySession& session, const std::string& repository,
                      const std::vector<Descriptor>& layers, const std::string& name,
                      uint64_t byte_cap, PlatformUser* out, PasswdCache* cache = nullptr,
                      const std::string& cache_scope = "", SteadyTime deadline = {});

}  // namespace rootgate::server
