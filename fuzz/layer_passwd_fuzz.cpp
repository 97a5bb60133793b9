// Fuzzes the layer reader (server/registry/layer_passwd.h): PasswdLayerScanner over a tar stream
// fed in chunks, and FindPasswdEntry on what it finds. The first byte picks the mode: the input as
// a plain tar, the input as a gzip blob, the input gzip-compressed here (so the tar parser behind
// the inflater sees fuzzed tar data), the input as a zstd blob, or the input zstd-compressed
// here; the second byte picks the chunk size. The first byte's higher values also pick the path
// looked for (etc/passwd, or a link target's usr/lib/passwd) and an entry to stop at (a hard
// link's), so seeds with a small first byte read etc/passwd to the end as before.
// Invariants: Feed stops asking only at the tar's end (or the stop entry) or on an error (a
// later entry may still replace etc/passwd); Finish always settles; an error has a message; a
// hard link's target is a clean path and its entry is before the stop entry; a found uid of a
// name is what the line says or 0; CleanLayerPath never leaves the root and is idempotent.
#include <zlib.h>
#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "server/registry/layer_passwd.h"

namespace {

using rootgate::server::PasswdLayerScanner;
using State = PasswdLayerScanner::State;

std::string Gzip(std::string_view in) {
  z_stream z{};
  FUZZ_CHECK(deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  FUZZ_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Zstd(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 1);
  FUZZ_CHECK(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

using Compression = PasswdLayerScanner::Compression;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int mode = data[0] % 5;  // 0 tar, 1 gzip blob, 2 gzip here, 3 zstd blob, 4 zstd here
  const size_t chunk = 1 + data[1] % 64 * (data[1] >= 128 ? 97 : 1);
  std::string_view payload(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::string blob = mode == 2 ? Gzip(payload) : mode == 4 ? Zstd(payload) : std::string(payload);

  const std::string path = (data[0] / 5) % 2 == 0 ? "etc/passwd" : "usr/lib/passwd";
  const int stop_pick = (data[0] / 10) % 6;  // 0: to the end; else stop before entry stop_pick - 1
  const std::optional<uint64_t> stop =
      stop_pick == 0 ? std::nullopt : std::optional<uint64_t>(static_cast<uint64_t>(stop_pick - 1));
  PasswdLayerScanner scanner(mode == 0 ? Compression::kNone : mode <= 2 ? Compression::kGzip : Compression::kZstd,
                             1 << 20, path, stop);
  bool wants_more = true;
  for (size_t at = 0; at < blob.size() && wants_more; at += chunk) {
    wants_more = scanner.Feed(std::string_view(blob).substr(at, chunk));
    if (!wants_more) FUZZ_CHECK(scanner.state() == State::kScanning || scanner.state() == State::kError);
  }
  scanner.Finish();
  FUZZ_CHECK(scanner.state() != State::kScanning);
  if (scanner.state() == State::kError) FUZZ_CHECK(!scanner.error().empty());
  if (scanner.state() == State::kHardlink) {
    FUZZ_CHECK(rootgate::server::CleanLayerPath(scanner.link_target()) == scanner.link_target());
    if (stop) FUZZ_CHECK(scanner.link_entry() < *stop);
  }
  if (scanner.state() == State::kFound) {
    const std::string& passwd = scanner.passwd();
    (void)rootgate::server::FindPasswdEntry(passwd, "root");
    (void)rootgate::server::FindPasswdEntry(passwd, "app");
  }
  // The passwd reader on its own, the first line naming the user to look up.
  std::string_view name = payload.substr(0, payload.find('\n'));
  const std::string clean = rootgate::server::CleanLayerPath(name);
  FUZZ_CHECK(rootgate::server::CleanLayerPath(clean) == clean);
  FUZZ_CHECK(!clean.starts_with('/') && clean != ".." && !clean.starts_with("../") &&
             clean.find("/../") == std::string::npos && !clean.ends_with("/.."));
  name = name.substr(0, name.find(':'));
  const auto entry = rootgate::server::FindPasswdEntry(payload, name);
  using Kind = rootgate::server::PasswdEntry::Kind;
  if (entry.kind == Kind::kUnreadable) FUZZ_CHECK(!entry.error.empty());
  if (entry.kind != Kind::kFound) FUZZ_CHECK(entry.uid == 0);
  return 0;
}
