// Named users (policy namedUsers: resolve): the uid of `USER app` from the image's /etc/passwd.
// Layers are read top first, because the top-most layer that holds (or hides) /etc/passwd is
// the one the container sees; each layer is streamed through PasswdLayerScanner and hashed,
// and only a layer whose digest matches is believed. The byte cap counts compressed bytes over
// all layers read; past it the name stays unresolved, which the policy takes as an unknown user
// (fail closed), as it does every other reason the uid is not found (the note says which).
// An /etc/passwd that is a link is followed as extraction and the runtime would: a symlink
// inside the root, a hard link to its target as it stood; a bounded number of hops.
#include <algorithm>
#include <future>
#include <memory>
#include <optional>
#include <utility>

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

// What one layer leaves at the path looked for.
struct LayerScan {
  enum class Kind { kFound, kHidden, kAbsent, kSymlink, kHardlink, kGiveUp };
  Kind kind = Kind::kAbsent;
  std::string text;    // kFound: the file; kSymlink, kHardlink: the link's target
  uint64_t entry = 0;  // kHardlink: the link's entry in the layer
  std::string note;    // kGiveUp: why
};

// Streams one layer, looking for `path` (in the entries before `stop_at_entry` when given).
LayerScan ScanLayer(RegistrySession& session, const std::string& repository, const Descriptor& layer,
                    const std::string& path, std::optional<uint64_t> stop_at_entry, uint64_t budget,
                    uint64_t cap, uint64_t* used) {
  LayerScan out;
  out.kind = LayerScan::Kind::kGiveUp;
  const auto compression = LayerCompression(layer.media_type);
  if (!compression) {
    out.note = "its /etc/passwd was not read: layer type " + CutUtf8(layer.media_type, 80) + " is not supported";
    return out;
  }
  if (!IsSha256Digest(layer.digest)) {
    out.note = "its /etc/passwd was not read: a layer digest is not sha256";
    return out;
  }
  if (layer.size > static_cast<int64_t>(budget)) {
    out.note = CapNote(cap);
    return out;
  }
  // The scanner may answer early, but the whole layer is read so its digest can be checked.
  // Inflated bytes are bounded too (gzip bombs): 16 times the cap, at least 16 MiB.
  PasswdLayerScanner scanner(*compression, std::max<uint64_t>(cap * 16, uint64_t{16} << 20), path, stop_at_entry);
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
    out.note = r.error().kind == LookupError::Kind::kTooLarge
                   ? CapNote(cap)
                   : "its /etc/passwd was not read: " + r.error().message;
    return out;
  }
  if (hash.Digest() != layer.digest) {
    out.note = "its /etc/passwd was not read: a layer does not match its digest";
    return out;
  }
  scanner.Finish();
  switch (scanner.state()) {
    case PasswdLayerScanner::State::kFound:
      return {LayerScan::Kind::kFound, scanner.passwd(), 0, ""};
    case PasswdLayerScanner::State::kHidden:
      return {LayerScan::Kind::kHidden, "", 0, ""};
    case PasswdLayerScanner::State::kAbsent:
      return {LayerScan::Kind::kAbsent, "", 0, ""};
    case PasswdLayerScanner::State::kSymlink:
      return {LayerScan::Kind::kSymlink, scanner.link_target(), 0, ""};
    case PasswdLayerScanner::State::kHardlink:
      return {LayerScan::Kind::kHardlink, scanner.link_target(), scanner.link_entry(), ""};
    default:
      out.note = "its /etc/passwd was not read: " + scanner.error();
      return out;
  }
}

// Links followed from /etc/passwd before giving up (a loop, or a chain made to cost bytes).
constexpr int kMaxLinkHops = 8;

// Where a symlink at `path` leads, inside the root (never above it: ".." stops at the root,
// an absolute target starts from it), as containerd's securejoin resolves it.
std::string SymlinkTarget(const std::string& path, const std::string& target) {
  if (target.starts_with('/')) return CleanLayerPath(target);
  const size_t slash = path.rfind('/');
  return CleanLayerPath((slash == std::string::npos ? "" : path.substr(0, slash + 1)) + target);
}

PasswdRead GiveUp(std::string note) { return PasswdRead{PasswdRead::Kind::kGiveUp, "", std::move(note)}; }

// Walks the layers top first to the /etc/passwd extraction would leave, following links at
// the path: a symlink's target from the top again (the runtime opens the merged view's file),
// a hard link's target as the link's own layer left it before the link (that layer, then the
// lower ones). At most kMaxLinkHops links, within one byte cap over every layer read.
PasswdRead WalkLayers(RegistrySession& session, const std::string& repository,
                      const std::vector<Descriptor>& layers, uint64_t byte_cap) {
  uint64_t used = 0;
  std::string path = "etc/passwd";
  std::optional<uint64_t> stop;  // for the next layer scanned: a hard link's entry in it
  int hops = 0;
  bool via_hard_link = false;  // `path` is a hard link's target
  for (size_t i = layers.size(); i > 0;) {
    --i;
    const uint64_t budget = byte_cap > used ? byte_cap - used : 0;
    LayerScan scan = ScanLayer(session, repository, layers[i], path, std::exchange(stop, std::nullopt),
                               budget, byte_cap, &used);
    switch (scan.kind) {
      case LayerScan::Kind::kFound:
        return PasswdRead{PasswdRead::Kind::kFound, std::move(scan.text), ""};
      case LayerScan::Kind::kAbsent:
        continue;
      case LayerScan::Kind::kGiveUp:
        return GiveUp(std::move(scan.note));
      case LayerScan::Kind::kHidden:
        i = 0;  // nothing below counts
        continue;
      case LayerScan::Kind::kSymlink:
      case LayerScan::Kind::kHardlink:
        break;
    }
    if (++hops > kMaxLinkHops) {
      return GiveUp("its /etc/passwd was not read: more than " + std::to_string(kMaxLinkHops) +
                    " links to follow from it");
    }
    if (scan.kind == LayerScan::Kind::kSymlink && via_hard_link) {
      // GNU tar links the symlink itself (resolved from /etc), containerd the file it leads to.
      return GiveUp("its /etc/passwd was not read: it is a hard link to a symlink (/" + CutUtf8(path, 200) +
                    "), which extraction tools resolve differently");
    }
    via_hard_link = scan.kind == LayerScan::Kind::kHardlink;
    if (scan.kind == LayerScan::Kind::kSymlink) {
      path = SymlinkTarget(path, scan.text);
      i = layers.size();  // the merged view: from the top again
    } else {
      // The same inode as the target when the link was extracted (a hard link to a hard link
      // the same way, in the layer that made it).
      path = std::move(scan.text);
      stop = scan.entry;
      ++i;  // this layer again, up to the link
    }
  }
  if (path == "etc/passwd") return PasswdRead{};
  return GiveUp("its /etc/passwd is a link to /" + CutUtf8(path, 200) +
                ", which the image does not have; the container would not start");
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
