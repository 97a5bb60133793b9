// PasswdLayerScanner and FindPasswdEntry: tar streams built here byte by byte (ustar, GNU long
// names, PAX paths and sizes), gzip (single and multi-member), whiteouts, links, truncation,
// bombs, feeding one byte at a time, and the last entry of a path winning as extraction leaves
// it. Expected uids follow moby/sys/user's ParsePasswdFilter (SEMANTICS.md "The image's user").
#include "server/registry/layer_passwd.h"

#include <doctest/doctest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

using rootgate::server::LayerCompression;
using rootgate::server::PasswdLayerScanner;
using rootgate::server::FindPasswdEntry;
using rootgate::server::PasswdEntry;
using State = PasswdLayerScanner::State;
using Compression = PasswdLayerScanner::Compression;

struct Entry {
  Entry(std::string p, std::string d, char t = '0', std::string l = "")
      : path(std::move(p)), data(std::move(d)), type(t), link(std::move(l)) {}
  std::string path;
  std::string data;
  char type = '0';
  std::string link;  // a link's target (types '1' and '2')
};

std::string Octal(uint64_t v, size_t width) {
  std::string s(width - 1, '0');
  for (size_t i = width - 1; i-- > 0 && v;) {
    s[i] = static_cast<char>('0' + (v & 7));
    v >>= 3;
  }
  return s + '\0';
}

std::string Header(const std::string& name, uint64_t size, char type, const std::string& link = "") {
  std::string h(512, '\0');
  std::memcpy(&h[0], name.data(), std::min<size_t>(name.size(), 100));
  std::memcpy(&h[157], link.data(), std::min<size_t>(link.size(), 100));
  std::memcpy(&h[100], Octal(0644, 8).data(), 8);
  std::memcpy(&h[124], Octal(size, 12).data(), 12);
  h[156] = type;
  std::memcpy(&h[257], "ustar\0" "00", 8);
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::memcpy(&h[148], Octal(sum, 7).data(), 7);
  return h;
}

std::string Padded(const std::string& data) {
  return data + std::string((512 - data.size() % 512) % 512, '\0');
}

std::string Tar(const std::vector<Entry>& entries, bool end_marker = true) {
  std::string out;
  for (const Entry& e : entries) {
    if (e.path.size() > 100) {  // GNU long name entry first
      out += Header("././@LongLink", e.path.size() + 1, 'L') + Padded(e.path + '\0');
    }
    if (e.link.size() > 100) {  // GNU long link name entry first
      out += Header("././@LongLink", e.link.size() + 1, 'K') + Padded(e.link + '\0');
    }
    out += Header(e.path, e.data.size(), e.type, e.link) + Padded(e.data);
  }
  if (end_marker) out += std::string(1024, '\0');
  return out;
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(&out[0]);
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Zstd(const std::string& data, int level = 3) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress(&out[0], out.size(), data.data(), data.size(), level);
  REQUIRE_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

const std::string kPasswd = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";

State Scan(const std::string& blob, Compression c, std::string* passwd = nullptr,
           size_t chunk = 4096, uint64_t max = 64 << 20) {
  PasswdLayerScanner s(c, max);
  for (size_t i = 0; i < blob.size(); i += chunk) {
    if (!s.Feed(std::string_view(blob).substr(i, chunk))) break;
  }
  s.Finish();
  if (passwd) *passwd = s.passwd();
  return s.state();
}

TEST_CASE("PasswdLayerScanner: finds etc/passwd, plain and gzip, any chunking") {
  const std::string tar = Tar({{"bin/", "", '5'}, {"bin/sh", std::string(3000, 'x')},
                               {"./etc/", "", '5'}, {"./etc/passwd", kPasswd}, {"usr/x", "y"}});
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{512}, size_t{100000}}) {
    INFO("chunk " << chunk);
    std::string got;
    CHECK(Scan(tar, Compression::kNone, &got, chunk) == State::kFound);
    CHECK(got == kPasswd);
    CHECK(Scan(Gzip(tar), Compression::kGzip, &got, chunk) == State::kFound);
    CHECK(got == kPasswd);
  }
  // Multi-member gzip (concatenated streams, as some tools write).
  const std::string first = Tar({{"a", "1"}}, false);
  const std::string second = Tar({{"/etc/passwd", kPasswd}});
  std::string got;
  CHECK(Scan(Gzip(first) + Gzip(second), Compression::kGzip, &got, 50) == State::kFound);
  CHECK(got == kPasswd);
}

TEST_CASE("PasswdLayerScanner: long names and PAX paths") {
  const std::string deep = std::string(120, 'd') + "/file";
  CHECK(Scan(Tar({{deep, "z"}, {"etc/passwd", kPasswd}}), Compression::kNone) == State::kFound);
  const std::string pax_data = "19 path=etc/passwd\n";  // the length counts itself
  const std::string pax = Tar({{"PaxHeaders/x", pax_data, 'x'}, {"etc/renamed", kPasswd}});
  std::string got;
  CHECK(Scan(pax, Compression::kNone, &got) == State::kFound);
  CHECK(got == kPasswd);
}

TEST_CASE("PasswdLayerScanner: whiteouts hide lower layers; silence defers to them") {
  CHECK(Scan(Tar({{"etc/.wh.passwd", ""}}), Compression::kNone) == State::kHidden);
  CHECK(Scan(Tar({{"etc/.wh..wh..opq", ""}, {"etc/hosts", "h"}}), Compression::kNone) == State::kHidden);
  CHECK(Scan(Tar({{".wh.etc", ""}}), Compression::kNone) == State::kHidden);
  CHECK(Scan(Tar({{"etc", "", '3'}}), Compression::kNone) == State::kHidden);  // a device /etc
  // A symlink /etc would have to be followed: not done, so not known.
  CHECK(Scan(Tar({{"etc", "", '2', "usr/etc"}}), Compression::kNone) == State::kError);
  // An opaque /etc that holds a new passwd: this layer's file is the answer.
  CHECK(Scan(Tar({{"etc/.wh..wh..opq", ""}, {"etc/passwd", kPasswd}}), Compression::kNone) == State::kFound);
  CHECK(Scan(Tar({{"etc/hosts", "h"}, {"etc/.wh.shadow", ""}}), Compression::kNone) == State::kAbsent);
  CHECK(Scan(Tar({}), Compression::kNone) == State::kAbsent);
  CHECK(Scan(Tar({{"etc/", "", '5'}}), Compression::kNone) == State::kAbsent);
}

TEST_CASE("PasswdLayerScanner: corruption, truncation, bombs") {
  std::string corrupt = Tar({{"etc/passwd", kPasswd}});
  corrupt[10] ^= 0x55;  // breaks the header checksum
  CHECK(Scan(corrupt, Compression::kNone) == State::kError);
  const std::string tar = Tar({{"big", std::string(5000, 'q')}, {"etc/passwd", kPasswd}});
  CHECK(Scan(tar.substr(0, 1500), Compression::kNone) == State::kError);  // ends mid-entry
  CHECK(Scan("this is not gzip at all", Compression::kGzip) == State::kError);
  // 1 MiB of zeros inflates past a 64 KiB cap long before any answer.
  const std::string bomb = Gzip(Tar({{"zeros", std::string(1 << 20, '\0')}, {"etc/passwd", kPasswd}}));
  PasswdLayerScanner s(Compression::kGzip, 64 << 10);
  CHECK_FALSE(s.Feed(bomb));
  CHECK(s.state() == State::kError);
  CHECK(s.error().find("inflates past") != std::string::npos);
}

struct LinkScan {
  State state;
  std::string target, passwd, error;
  uint64_t entry = 0;
};
LinkScan ScanFor(const std::string& tar, const std::string& path = "etc/passwd",
                 std::optional<uint64_t> stop = std::nullopt) {
  PasswdLayerScanner s(Compression::kNone, 64 << 20, path, stop);
  s.Feed(tar);
  s.Finish();
  return {s.state(), s.link_target(), s.passwd(), s.error(), s.link_entry()};
}

TEST_CASE("PasswdLayerScanner: links at the path are reported with their target") {
  const LinkScan sym = ScanFor(Tar({{"etc/passwd", "", '2', "../usr/lib/passwd"}}));
  CHECK(sym.state == State::kSymlink);
  CHECK(sym.target == "../usr/lib/passwd");  // as written: the caller resolves it
  const LinkScan hard = ScanFor(Tar({{"usr/lib/passwd", kPasswd}, {"etc/hosts", "h"}, {"./etc/passwd", "", '1', "./usr/lib/passwd"}}));
  CHECK(hard.state == State::kHardlink);
  CHECK(hard.target == "usr/lib/passwd");  // cleaned
  CHECK(hard.entry == 2);
  // A long link name (GNU 'K') and a PAX linkpath.
  const std::string long_target = "/" + std::string(120, 'd') + "/passwd";
  const LinkScan gnu = ScanFor(Tar({{"etc/passwd", "", '2', long_target}}));
  CHECK(gnu.state == State::kSymlink);
  CHECK(gnu.target == long_target);
  const std::string pax = "27 linkpath=/srv/pw/passwd\n";
  const LinkScan paxed = ScanFor(Header("pax", pax.size(), 'x') + Padded(pax) +
                                 Header("etc/passwd", 0, '2', "ignored") + std::string(1024, '\0'));
  CHECK(paxed.state == State::kSymlink);
  CHECK(paxed.target == "/srv/pw/passwd");
  // The last entry wins: a link replaced by a file, a file by a link.
  CHECK(ScanFor(Tar({{"etc/passwd", "", '2', "x"}, {"etc/passwd", kPasswd}})).state == State::kFound);
  CHECK(ScanFor(Tar({{"etc/passwd", kPasswd}, {"etc/passwd", "", '1', "etc/x"}})).state == State::kHardlink);
}

TEST_CASE("PasswdLayerScanner: another path, its directories' whiteouts, up to an entry") {
  const std::string tar = Tar({{"usr/lib/passwd", "a:x:1:1::/:\n"}, {"etc/passwd", "", '1', "usr/lib/passwd"},
                               {"usr/lib/passwd", "a:x:0:0::/:\n"}});
  // The whole layer leaves the second copy; before entry 1 (the link) only the first existed.
  CHECK(ScanFor(tar, "usr/lib/passwd").passwd == "a:x:0:0::/:\n");
  const LinkScan before = ScanFor(tar, "usr/lib/passwd", 1);
  CHECK(before.state == State::kFound);
  CHECK(before.passwd == "a:x:1:1::/:\n");
  CHECK(ScanFor(tar, "usr/lib/passwd", 0).state == State::kAbsent);
  // Whiteouts of the path, of any directory on the way, and opaque directories on the way.
  for (const char* wh : {"usr/lib/.wh.passwd", "usr/.wh.lib", ".wh.usr", "usr/lib/.wh..wh..opq", "usr/.wh..wh..opq"}) {
    CAPTURE(wh);
    CHECK(ScanFor(Tar({{wh, ""}}), "usr/lib/passwd").state == State::kHidden);
  }
  CHECK(ScanFor(Tar({{"usr/.wh.libx", ""}, {"usr/li/.wh.passwd", ""}}), "usr/lib/passwd").state == State::kAbsent);
  CHECK(ScanFor(Tar({{"usr/lib", "", '2', "/opt"}}), "usr/lib/passwd").state == State::kError);
  CHECK(ScanFor(Tar({{"usr/lib", "x"}}), "usr/lib/passwd").state == State::kHidden);
  // A link to the root, or to a directory: not a regular file.
  CHECK(ScanFor(Tar({{"srv/", "", '5'}}), "srv").state == State::kError);
}

TEST_CASE("PasswdLayerScanner: zstd layers, any chunking, multi-frame, corrupt, bombs") {
  const std::string tar = Tar({{"bin/sh", std::string(3000, 'x')}, {"etc/passwd", kPasswd}, {"usr/x", "y"}});
  for (size_t chunk : {size_t{1}, size_t{7}, size_t{512}, size_t{100000}}) {
    INFO("chunk " << chunk);
    std::string got;
    CHECK(Scan(Zstd(tar), Compression::kZstd, &got, chunk) == State::kFound);
    CHECK(got == kPasswd);
    CHECK(Scan(Zstd(tar, 19), Compression::kZstd, &got, chunk) == State::kFound);
    CHECK(got == kPasswd);
  }
  // Concatenated frames are one stream (zstd -d reads them so; pzstd writes them).
  std::string got;
  CHECK(Scan(Zstd(Tar({{"a", "1"}}, false)) + Zstd(Tar({{"etc/passwd", kPasswd}})), Compression::kZstd,
             &got, 50) == State::kFound);
  CHECK(got == kPasswd);
  CHECK(Scan(Zstd(Tar({{"etc/.wh.passwd", ""}})), Compression::kZstd) == State::kHidden);
  CHECK(Scan(Zstd(Tar({{"etc/hosts", "h"}})), Compression::kZstd) == State::kAbsent);
  // gzip data under a zstd media type, and a frame cut short mid-entry.
  CHECK(Scan(Gzip(tar), Compression::kZstd) == State::kError);
  const std::string big = Zstd(Tar({{"big", std::string(5000, 'q')}, {"etc/passwd", kPasswd}}));
  CHECK(Scan(big.substr(0, big.size() / 2), Compression::kZstd) == State::kError);
  // Cut where the tar is between entries: only the compressed stream shows the cut.
  const std::string whole = Zstd(Tar({{"a", std::string(512, 'a')}, {"b", std::string(512, 'b')}}, false));
  CHECK(Scan(whole, Compression::kZstd) == State::kAbsent);
  CHECK(Scan(whole.substr(0, whole.size() - 4), Compression::kZstd) == State::kError);
  const std::string gz = Gzip(Tar({{"a", std::string(512, 'a')}}, false));
  CHECK(Scan(gz, Compression::kGzip) == State::kAbsent);
  CHECK(Scan(gz.substr(0, gz.size() - 4), Compression::kGzip) == State::kError);  // no ISIZE
  // 1 MiB of zeros compresses to a few hundred bytes and decompresses past a 64 KiB cap.
  const std::string bomb = Zstd(Tar({{"zeros", std::string(1 << 20, '\0')}, {"etc/passwd", kPasswd}}));
  CHECK(bomb.size() < 1024);
  PasswdLayerScanner s(Compression::kZstd, 64 << 10);
  CHECK_FALSE(s.Feed(bomb));
  CHECK(s.state() == State::kError);
  CHECK(s.error().find("inflates past") != std::string::npos);
  PasswdLayerScanner m(Compression::kZstd, 2 << 20);
  const std::string bomb2 = Zstd(Tar({{"zeros", std::string(3 << 20, '\0')}, {"etc/passwd", kPasswd}}));
  CHECK_FALSE(m.Feed(bomb2));
  CHECK(m.error() == "layer inflates past 2 MiB");
}

TEST_CASE("LayerCompression") {
  CHECK(LayerCompression("application/vnd.oci.image.layer.v1.tar+gzip") == Compression::kGzip);
  CHECK(LayerCompression("application/vnd.docker.image.rootfs.diff.tar.gzip") == Compression::kGzip);
  CHECK(LayerCompression("application/vnd.oci.image.layer.v1.tar") == Compression::kNone);
  CHECK(LayerCompression("application/vnd.oci.image.layer.v1.tar+zstd") == Compression::kZstd);
  CHECK(LayerCompression("application/vnd.docker.image.rootfs.diff.tar.zstd") == Compression::kZstd);
  CHECK(LayerCompression("application/vnd.oci.image.layer.nondistributable.v1.tar+zstd") == Compression::kZstd);
  CHECK_FALSE(LayerCompression("application/vnd.oci.image.layer.v1.tar+zstd+encrypted").has_value());
  CHECK_FALSE(LayerCompression("application/vnd.oci.image.layer.v1.tar+lz4").has_value());
}

TEST_CASE("PasswdLayerScanner: within a layer the last entry for etc/passwd wins") {
  const std::string first = "app:x:1000:1000::/home/app:/bin/sh\n";
  const std::string last = "app:x:0:0::/root:/bin/sh\n";
  std::string got;
  CHECK(Scan(Tar({{"etc/passwd", first}, {"usr/pad", std::string(9000, 'p')}, {"etc/passwd", last}}),
             Compression::kNone, &got, 100) == State::kFound);
  CHECK(got == last);
  // The same path spelled differently is the same file.
  CHECK(Scan(Gzip(Tar({{"etc/passwd", first}, {"./etc/passwd", last}})), Compression::kGzip, &got) == State::kFound);
  CHECK(got == last);
  CHECK(Scan(Tar({{"/etc/passwd", first}, {"etc//x/../passwd", last}}), Compression::kNone, &got) == State::kFound);
  CHECK(got == last);
  // A later link in its place is what the container gets: the link (followed by the caller);
  // a later directory is not readable.
  CHECK(Scan(Tar({{"etc/passwd", first}, {"etc/passwd", "", '2', "x"}}), Compression::kNone) == State::kSymlink);
  CHECK(Scan(Tar({{"etc/passwd", first}, {"etc/passwd", "", '5'}}), Compression::kNone) == State::kError);
  // A later non-directory /etc removes it, and hides the lower layers' too; a symlink /etc
  // would have to be followed, which is not done: not known.
  CHECK(Scan(Tar({{"etc/passwd", first}, {"etc", "x"}}), Compression::kNone) == State::kHidden);
  CHECK(Scan(Tar({{"etc/passwd", first}, {"etc", "", '2', "x"}}), Compression::kNone) == State::kError);
  // A whiteout in the same layer applies to lower layers only.
  CHECK(Scan(Tar({{"etc/passwd", first}, {"etc/.wh.passwd", ""}}), Compression::kNone, &got) == State::kFound);
  CHECK(got == first);
  CHECK(Scan(Tar({{".wh..wh..opq", ""}}), Compression::kNone) == State::kHidden);
}

// A raw header with a chosen magic, prefix field and size, for the name rules of archive/tar.
std::string RawHeader(const std::string& name, const std::string& prefix, const char* magic8,
                      uint64_t size, char type) {
  std::string h = Header(name, size, type);
  std::memcpy(&h[257], magic8, 8);
  std::memset(&h[345], 0, 155);
  std::memcpy(&h[345], prefix.data(), prefix.size());
  std::memset(&h[148], ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::memcpy(&h[148], Octal(sum, 7).data(), 7);
  return h;
}

TEST_CASE("PasswdLayerScanner: names as Go's archive/tar reads them") {
  std::string got;
  // POSIX ustar: prefix + "/" + name.
  const std::string ustar = RawHeader("passwd", "etc", "ustar\0" "00", kPasswd.size(), '0') + Padded(kPasswd) +
                            std::string(1024, '\0');
  CHECK(Scan(ustar, Compression::kNone, &got) == State::kFound);
  // GNU headers have no prefix: the same bytes there are not part of the name.
  const std::string gnu = RawHeader("passwd", "etc", "ustar  \0", kPasswd.size(), '0') + Padded(kPasswd) +
                          std::string(1024, '\0');
  CHECK(Scan(gnu, Compression::kNone) == State::kAbsent);
  const std::string gnu_full = RawHeader("etc/passwd", "junk", "ustar  \0", kPasswd.size(), '0') +
                               Padded(kPasswd) + std::string(1024, '\0');
  CHECK(Scan(gnu_full, Compression::kNone, &got) == State::kFound);
  // A PAX path longer than 100 bytes that cleans to etc/passwd.
  const std::string long_path = "./" + std::string(60, 'a') + "/../" + std::string(60, 'b') + "/../etc/passwd";
  const std::string record = " path=" + long_path + "\n";
  const std::string pax_data = std::to_string(record.size() + 3) + record;
  REQUIRE(pax_data.size() == record.size() + 3);
  CHECK(Scan(Tar({{"PaxHeaders/x", pax_data, 'x'}, {"short", kPasswd}}), Compression::kNone, &got) == State::kFound);
  // A GNU long name (written by Tar() for paths over 100 bytes) of the same path.
  CHECK(Scan(Tar({{long_path, kPasswd}}), Compression::kNone, &got) == State::kFound);
  // TypeRegA with a trailing slash is a directory.
  CHECK(Scan(Tar({{"etc/passwd/", "", '\0'}}), Compression::kNone) == State::kError);
}

TEST_CASE("PasswdLayerScanner: data lengths as Go's archive/tar reads them") {
  const std::string root = "app:x:0:0::/:/bin/sh\n";
  // A directory whose size field claims 1024 bytes carries no data: the next block is a header.
  const std::string hidden = Header("etc/passwd", root.size(), '0') + Padded(root);
  const std::string dir = Header("srv/", hidden.size(), '5') + hidden + std::string(1024, '\0');
  std::string got;
  CHECK(Scan(dir, Compression::kNone, &got) == State::kFound);
  CHECK(got == root);
  // A PAX size overrides the header's: the entry's data holds what looks like a header.
  const std::string record = "size=" + std::to_string(hidden.size()) + "\n";
  const std::string pax_data = std::to_string(record.size() + 3) + " " + record;
  const std::string with_size = Header("PaxHeaders/x", pax_data.size(), 'x') + Padded(pax_data) +
                                Header("srv/blob", 0, '0') + hidden + std::string(1024, '\0');
  CHECK(Scan(with_size, Compression::kNone) == State::kAbsent);
  // Malformed PAX records and sparse files are refused rather than guessed.
  CHECK(Scan(Tar({{"PaxHeaders/x", "99 path=etc/passwd\n", 'x'}, {"a", "b"}}), Compression::kNone) == State::kError);
  CHECK(Scan(Tar({{"PaxHeaders/x", "22 GNU.sparse.major=1\n", 'x'}, {"a", "b"}}), Compression::kNone) == State::kError);
  CHECK(Scan(Tar({{"etc/passwd", kPasswd, 'S'}}), Compression::kNone) == State::kError);
}

TEST_CASE("FindPasswdEntry: read as the runtimes read it") {
  struct Row {
    const char* passwd;
    const char* name;
    PasswdEntry::Kind kind;
    int64_t uid;
  };
  using K = PasswdEntry::Kind;
  const std::vector<Row> rows = {
      {"root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:\n", "app", K::kFound, 1000},
      {"app:x:1000:1::/:\napp:x:0:0::/:\n", "app", K::kFound, 1000},      // the first line wins
      {"app:x:0:0::/:\napp:x:1000:1::/:\n", "app", K::kFound, 0},
      {"  app:x:0:0::/:\napp:x:1000:1::/:\n", "app", K::kFound, 0},       // trimmed
      {"\tapp:x:0:0::/:\r\napp:x:1000:1::/:\n", "app", K::kFound, 0},
      {"\xc2\xa0" "app:x:0:0::/:\napp:x:1000:1::/:\n", "app", K::kFound, 0},  // U+00A0 is space
      {"\n\n   \napp:x:7:7::/:", "app", K::kFound, 7},                     // blank lines, no final \n
      {"app:x\n", "app", K::kFound, 0},                                  // no uid field
      {"app\n", "app", K::kFound, 0},
      {"app:x::1::/:\n", "app", K::kFound, 0},                           // empty uid
      {"app:x:1e3:1::/:\n", "app", K::kFound, 0},                        // not an integer
      {"app:x: 1000:1::/:\n", "app", K::kFound, 0},
      {"app:x:0x10:1::/:\n", "app", K::kFound, 0},
      {"app:x:+1000:1::/:\n", "app", K::kFound, 1000},                   // Atoi takes a sign
      {"app:x:-1:1::/:\n", "app", K::kFound, -1},
      {"app:x:99999999999999999999:1::/:\n", "app", K::kFound, INT64_MAX},  // clamped by Atoi
      {"app :x:0:0::/:\napp:x:1000:1::/:\n", "app", K::kFound, 1000},     // "app " is another name
      {"# app:x:0:0\napp:x:5:5::/:\n", "app", K::kFound, 5},
      {"root:x:0:0::/root:/bin/sh\n", "ghost", K::kAbsent, 0},
      {"", "app", K::kAbsent, 0},
      {"apple:x:0:0::/:\n", "app", K::kAbsent, 0},
  };
  for (const Row& r : rows) {
    INFO(r.passwd);
    const PasswdEntry e = FindPasswdEntry(r.passwd, r.name);
    CHECK(e.kind == r.kind);
    CHECK(e.uid == r.uid);
  }
  // A line of 64 KiB (with its newline) makes the file unreadable, even after the match.
  const std::string ok_line = "app:x:1000:1::/:\nx:" + std::string(65536 - 3, 'y') + "\n";
  CHECK(FindPasswdEntry(ok_line, "app").kind == K::kFound);
  const std::string long_line = "app:x:1000:1::/:\nx:" + std::string(65536 - 2, 'y') + "\n";
  const PasswdEntry e = FindPasswdEntry(long_line, "app");
  CHECK(e.kind == K::kUnreadable);
  CHECK(e.error.find("64 KiB") != std::string::npos);
}

}  // namespace
