// Named users (policy namedUsers: resolve): the uid of `USER app` from the image's /etc/passwd.
// Layers are read top first, because the top-most layer that holds (or hides) /etc/passwd is
// the one the container sees; each layer is streamed through PasswdLayerScanner and hashed,
// and only a layer whose digest matches is believed. The byte cap counts compressed bytes over
// all layers read; past it the name stays unresolved, which the policy takes as an unknown user
// (fail closed), as it does every other reason the uid is not found (the note says which).
#include <algorithm>
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

}  // namespace

void ResolveNamedUser(RegistrySession& session, const std::string& repository,
                      const std::vector<Descriptor>& layers, const std::string& name,
                      uint64_t byte_cap, PlatformUser* out) {
  uint64_t used = 0;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
    std::string passwd, note;
    const uint64_t budget = byte_cap > used ? byte_cap - used : 0;
    switch (ScanLayer(session, repository, *it, budget, byte_cap, &passwd, &note, &used)) {
      case LayerVerdict::kFound:
        FromPasswd(passwd, name, out);
        return;
      case LayerVerdict::kHidden:
        out->passwd_note = NoPasswdNote();
        return;
      case LayerVerdict::kGiveUp:
        out->passwd_note = note;
        return;
      case LayerVerdict::kAbsent:
        break;
    }
  }
  out->passwd_note = NoPasswdNote();
}

}  // namespace rootgate::server
