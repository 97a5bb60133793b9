// Finding the image's /etc/passwd in its layers (policy namedUsers: resolve), to turn a named
// USER into a uid, and reading it as the container runtimes do. Layers are tar streams, usually
// gzip- or zstd-compressed (decompressed by server/registry/layer_decompress.h), read top layer first. Within one layer the tar is read to its end and the
// LAST entry for etc/passwd wins, as extraction leaves it (containerd's and GNU tar's); names
// are read as Go's archive/tar reads them (ustar prefix only in POSIX headers, GNU long names
// over PAX `path`, PAX `size`, no data for header-only types) and cleaned as containerd cleans
// them (`./etc/passwd`, `/etc/passwd`, `etc/../etc/passwd` are etc/passwd). A layer's
// whiteouts (`etc/.wh.passwd`, `etc/.wh..wh..opq`, `.wh.etc`, `.wh..wh..opq`) and a non-
// directory `etc` hide what lower layers hold. The path may be another (a link's target: its
// directories' whiteouts count the same way); a link at the path is reported with its target
// for the caller to follow (a symlink or a hard link); a link in place of one of its
// directories is an error (not followed). Not thread-safe: one scanner per layer per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/registry/layer_decompress.h"

namespace rootgate::server {

class PasswdLayerScanner {
 public:
  using Compression = rootgate::server::Compression;
  enum class State {
    kScanning,  // more bytes needed
    kFound,     // this layer leaves the path as a regular file: passwd() is its content
    kHidden,    // this layer deletes or hides the lower layers' file and holds none
    kAbsent,    // this layer says nothing about the path: look at the next lower layer
    kSymlink,   // this layer leaves the path as a symbolic link: link_target() as written
    kHardlink,  // this layer leaves the path as a hard link to link_target() (cleaned), made
                // when entry link_entry() was extracted: the target's content at that point
    kError,     // corrupt, too large, an unsupported entry, the path not a regular file or a
                // link, or a directory on the way a link: error() says which
  };

  // `max_uncompressed`: the most tar bytes decompressed before giving up (a bound on gzip and
  // zstd bombs). `path`: the file looked for, cleaned ("etc/passwd"; a link's target when one
  // is followed). `stop_at_entry`: read only the entries before this one (0-based, counting
  // file entries, not PAX or long-name headers): what the layer left at the path when that
  // entry was extracted (a hard link's target).
  PasswdLayerScanner(Compression compression, uint64_t max_uncompressed,
                     std::string path = "etc/passwd", std::optional<uint64_t> stop_at_entry = std::nullopt);
  ~PasswdLayerScanner();
  PasswdLayerScanner(const PasswdLayerScanner&) = delete;
  PasswdLayerScanner& operator=(const PasswdLayerScanner&) = delete;

  // Feeds the next bytes of the blob. Returns true while more bytes are wanted; false once the
  // tar has ended (its end marker, or `stop_at_entry`) or the stream is unusable (kError). The
  // state stays kScanning until Finish, since a later entry may replace the path.
  bool Feed(std::string_view bytes);
  // The blob has ended: settles kScanning into kFound, kHidden, kAbsent, kSymlink or kHardlink
  // (or kError if truncated).
  void Finish();

  State state() const;
  const std::string& passwd() const;
  const std::string& error() const;
  const std::string& link_target() const;  // kSymlink: as written; kHardlink: cleaned
  uint64_t link_entry() const;             // kHardlink: the link's entry index

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Go's filepath.Clean relative to the root, ".." above the root staying at the root (as
// containerd's RootPath and securejoin resolve it): "./etc/passwd", "/etc//passwd",
// "../etc/passwd" are "etc/passwd"; "" is the root.
std::string CleanLayerPath(std::string_view path);

// The compression of a layer media type, or nullopt for one rootgate cannot read (encrypted, ...).
std::optional<PasswdLayerScanner::Compression> LayerCompression(std::string_view media_type);

// A user's entry in /etc/passwd text, read as containerd, CRI-O (moby/sys/user) and runc read
// it: lines split at '\n' (a trailing '\r' dropped), each trimmed of Unicode white space,
// blank lines skipped, fields split at ':'; the FIRST line whose name field equals `name`
// wins; its uid field, when missing or not a Go strconv.Atoi integer, is 0 (an out-of-range
// integer is clamped to the int64 limit, as Atoi returns it). A line of 64 KiB or more makes
// the whole file unreadable (Go's bufio.Scanner limit): the runtime then fails to start the
// container.
struct PasswdEntry {
  enum class Kind { kFound, kAbsent, kUnreadable };
  Kind kind = Kind::kAbsent;
  int64_t uid = 0;    // kFound: may be negative or above 2147483647 (the caller judges it)
  std::string error;  // kUnreadable: why
};
PasswdEntry FindPasswdEntry(std::string_view passwd, std::string_view name);

}  // namespace rootgate::server
