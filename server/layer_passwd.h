// Finding the image's /etc/passwd in its layers (policy namedUsers: resolve), to turn a named
// USER into a uid. Layers are tar streams, usually gzip- or zstd-compressed (decompressed by
// server/layer_decompress.h), read top layer first; a layer's whiteouts (`etc/.wh.passwd`,
// `etc/.wh..wh..opq`, `.wh.etc`) hide what lower layers hold. The scanner is fed the blob as it arrives and answers as soon as it can. Not
// thread-safe: one scanner per layer per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/layer_decompress.h"

namespace rootgate::server {

class PasswdLayerScanner {
 public:
  using Compression = rootgate::server::Compression;
  enum class State {
    kScanning,  // more bytes needed
    kFound,     // this layer holds etc/passwd: passwd() is its content
    kHidden,    // this layer deletes or hides the lower layers' /etc/passwd and holds none
    kAbsent,    // this layer says nothing about /etc/passwd: look at the next lower layer
    kError,     // corrupt, too large, or /etc/passwd is a link: error() says which
  };

  // `max_uncompressed`: the most tar bytes decompressed before giving up (a bound on gzip and
  // zstd bombs).
  PasswdLayerScanner(Compression compression, uint64_t max_uncompressed);
  ~PasswdLayerScanner();
  PasswdLayerScanner(const PasswdLayerScanner&) = delete;
  PasswdLayerScanner& operator=(const PasswdLayerScanner&) = delete;

  // Feeds the next bytes of the blob. Returns true while more bytes are wanted; false once the
  // answer is known (kFound) or the stream is unusable (kError).
  bool Feed(std::string_view bytes);
  // The blob has ended: settles kScanning into kHidden or kAbsent (or kError if truncated).
  void Finish();

  State state() const;
  const std::string& passwd() const;
  const std::string& error() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The compression of a layer media type, or nullopt for one rootgate cannot read (encrypted, ...).
std::optional<PasswdLayerScanner::Compression> LayerCompression(std::string_view media_type);

// The uid of `name` in /etc/passwd text (the first line naming it, as getpwnam does), or nullopt
// when no valid line names it.
std::optional<int64_t> PasswdUid(std::string_view passwd, std::string_view name);

}  // namespace rootgate::server
