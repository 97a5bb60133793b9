// Named users (policy namedUsers: resolve): the uid of `USER app` from the image's /etc/passwd.
// Layers are read top first, because the top-most layer that holds (or hides) /etc/passwd is
// the one the container sees; each layer is streamed through PasswdLayerScanner and hashed,
// and only a layer whose digest matches is believed. The byte cap counts compressed bytes over
// all layers read; past it the name stays unresolved, which the policy takes as an unknown user
// (fail closed), as it does every other reason the uid is not found (the note says which).
#include <algorithm>
#include <future>
#include <memory>

#include "policy/utf8.h"
#include "server/registry/layer_passwd.h"
#include "server/registry/registry_client.h"
#include "server/util/sha256.h"

namespace rootgate::server {

namespace {

std::string CapNote(uint64_t cap) {
  return "its /etc/passwd was not reached within the " + std::to_string(cap >> 20) +
         " MiB layer byte cap (--named-user-max-bytes)";
}

std::string NoPasswdNote() { return "the image has no /etc/passwd; the container would not start"; }

// Sets out->name_uid or out->passwd_note from the passwd text, as the runtime would read it.
void FromPasswd(std::string_view passwd, const std::string& name, PlatformUser* out) {
  const PasswdEntry entry = FindPasswdEntry(passwd, name);
  switch (entry.kind) {
    case PasswdEntry::Kind::kFound:
      out->name_uid = entry.uid;
      return;
    case PasswdEntry::Kind::kAbsent:
      out->passwd_note = "USER " + CutUtf8(name, 80) + " is not in the image's /etc/passwd; the container would not start";
      return;
    case PasswdEntry::Kind::kUnreadable:
      out->passwd_note = entry.error + "; the container would not start";
      return;
  }
}

enum class LayerVerdict { kFound, kHidden, kAbsent, kGiveUp };

// Streams one layer. On kFound `passwd` holds the file; on kGiveUp `note` says why.
LayerVerdict ScanLayer(RegistrySession& session, const std::string& repository, const Descriptor& layer,
                       uint64_t budget, uint64_t cap, std::string* passwd, std::string* note,
                       uint64_t* used) {
  const auto compression = LayerCompression(layer.media_type);
  if (!compression) {
    *note = "its /etc/passwd was not read: layer type " + CutUtf8(layer.media_type, 80) + " is not supported";
    return LayerVerdict::kGiveUp;
  }
  if (!IsSha256Digest(layer.digest)) {
    *note = "its /etc/passwd was not read: a layer digest is not sha256";
    return LayerVerdict::kGiveUp;
  }
  if (layer.size > static_cast<int64_t>(budget)) {
    *note = CapNote(cap);
    return LayerVerdict::kGiveUp;
  }
  // The scanner may answer early, but the whole layer is read so its digest can be checked.
  // Inflated bytes are bounded too (gzip bombs): 16 times the cap, at least 16 MiB.
  PasswdLayerScanner scanner(*compression, std::max<uint64_t>(cap * 16, uint64_t{16} << 20));
  Sha256 hash;
  uint64_t bytes = 0;
  auto on_body = [&](std::string_view chunk) {
    bytes += chunk.size();
    hash.Update(chunk);
    if (scanner.state() == PasswdLayerScanner::State::kScanning) scanner.Feed(chunk);
    return true;
  };
  auto r = session.Get("/v2/" + repository + "/blobs/" + layer.digest, "", budget, on_body);
  *used += bytes;
  if (!r.ok()) {
    *note = r.error().kind == LookupError::Kind::kTooLarge
                ? CapNote(cap)
                : "its /etc/passwd was not read: " + r.error().message;
    return LayerVerdict::kGiveUp;
  }
  if (hash.Digest() != layer.digest) {
    *note = "its /etc/passwd was not read: a layer does not match its digest";
    return LayerVerdict::kGiveUp;
  }
  scanner.Finish();
  switch (scanner.state()) {
    case PasswdLayerScanner::State::kFound:
      *passwd = scanner.passwd();
      return LayerVerdict::kFound;
    case PasswdLayerScanner::State::kHidden:
      return LayerVerdict::kHidden;
    case PasswdLayerScanner::State::kAbsent:
      return LayerVerdict::kAbsent;
    default:
      *note = "its /etc/passwd was not read: " + scanner.error();
      return LayerVerdict::kGiveUp;
  }
}

// Walks the layers top first to the /etc/passwd extraction would leave.
PasswdRead WalkLayers(RegistrySession& session, const std::string& repository,
                      const std::vector<Descriptor>& layers, uint64_t byte_cap) {
  uint64_t used = 0;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    PasswdRead read;
    const uint64_t budget = byte_cap > used ? byte_cap - used : 0;
    switch (ScanLayer(session, repository, *it, budget, byte_cap, &read.text, &read.note, &used)) {
      case LayerVerdict::kFound:
        read.kind = PasswdRead::Kind::kFound;
        return read;
      case LayerVerdict::kHidden:
        return PasswdRead{};
      case LayerVerdict::kGiveUp:
        read.kind = PasswdRead::Kind::kGiveUp;
        return read;
      case LayerVerdict::kAbsent:
        break;
    }
  }
  return PasswdRead{};
}

// The cache key of one image's walk: where it is, which layers, which cap.
std::string WalkKey(const std::string& scope, const std::vector<Descriptor>& layers, uint64_t cap) {
  std::string key = scope + "|" + std::to_string(cap);
  for (const Descriptor& l : layers) key += "|" + l.digest;
  return key;
}

constexpr size_t kMaxCachedPasswd = size_t{64} << 10;

}  // namespace

PasswdRead PasswdCache::Get(const std::string& key, SteadyTime deadline,
                            const std::function<PasswdRead()>& walk) {
  using Shared = std::shared_ptr<const PasswdRead>;
  std::shared_future<Shared> joined;
  std::promise<Shared> mine;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::optional<Shared> hit = cache_.Get(key, std::chrono::steady_clock::now())) return **hit;
    if (auto it = flights_.find(key); it != flights_.end()) {
      joined = it->second;
    } else {
      flights_.emplace(key, mine.get_future().share());
      ++walks_;
    }
  }
  if (joined.valid()) {
    if (joined.wait_until(deadline) != std::future_status::ready) {
      return PasswdRead{PasswdRead::Kind::kGiveUp, "", "its /etc/passwd was not read: timed out"};
    }
    return *joined.get();
  }
  // The walk itself reports its failures as kGiveUp; anything thrown still releases the waiters.
  Shared read;
  try {
    read = std::make_shared<const PasswdRead>(walk());
  } catch (const std::exception& e) {
    read = std::make_shared<const PasswdRead>(
        PasswdRead{PasswdRead::Kind::kGiveUp, "", std::string("its /etc/passwd was not read: ") + e.what()});
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    const bool definite = read->kind != PasswdRead::Kind::kGiveUp && read->text.size() <= kMaxCachedPasswd;
    if (definite) cache_.Put(key, read, std::nullopt);
    flights_.erase(key);
  }
  mine.set_value(read);
  return *read;
}

void PasswdCache::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  cache_.Clear();
}

int PasswdCache::walks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return walks_;
}

void ResolveNamedUser(RegistrySession& session, const std::string& repository,
                      const std::vector<Descriptor>& layers, const std::string& name,
                      uint64_t byte_cap, PlatformUser* out, PasswdCache* cache,
                      const std::string& cache_scope, SteadyTime deadline) {
  auto walk = [&] { return WalkLayers(session, repository, layers, byte_cap); };
  const PasswdRead read = cache != nullptr ? cache->Get(WalkKey(cache_scope, layers, byte_cap), deadline, walk)
                                           : walk();
  switch (read.kind) {
    case PasswdRead::Kind::kFound:
      FromPasswd(read.text, name, out);
      return;
    case PasswdRead::Kind::kNone:
      out->passwd_note = NoPasswdNote();
      return;
    case PasswdRead::Kind::kGiveUp:
      out->passwd_note = read.note;
      return;
  }
}

}  // namespace rootgate::server
