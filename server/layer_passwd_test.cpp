// PasswdLayerScanner and PasswdUid: tar streams built here byte by byte (ustar, GNU long names,
// PAX paths), gzip (single and multi-member), zstd (single and multi-frame), whiteouts, links,
// truncation, bombs, and feeding one byte at a time.
#include "server/layer_passwd.h"

#include <doctest/doctest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

using rootgate::server::LayerCompression;
using rootgate::server::PasswdLayerScanner;
using rootgate::server::PasswdUid;
using State = PasswdLayerScanner::State;
using Compression = PasswdLayerScanner::Compression;

struct Entry {
  std::string path;
  std::string data;
  char type = '0';
};

std::string Octal(uint64_t v, size_t width) {
  std::string s(width - 1, '0');
  for (size_t i = width - 1; i-- > 0 && v;) {
    s[i] = static_cast<char>('0' + (v & 7));
    v >>= 3;
  }
  return s + '\0';
}

std::string Header(const std::string& name, uint64_t size, char type) {
  std::string h(512, '\0');
  std::memcpy(&h[0], name.data(), std::min<size_t>(name.size(), 100));
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
    out += Header(e.path, e.data.size(), e.type) + Padded(e.data);
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
  CHECK(Scan(Tar({{"etc", "/elsewhere", '2'}}), Compression::kNone) == State::kHidden);
  // An opaque /etc that holds a new passwd: this layer's file is the answer.
  CHECK(Scan(Tar({{"etc/.wh..wh..opq", ""}, {"etc/passwd", kPasswd}}), Compression::kNone) == State::kFound);
  CHECK(Scan(Tar({{"etc/hosts", "h"}, {"etc/.wh.shadow", ""}}), Compression::kNone) == State::kAbsent);
  CHECK(Scan(Tar({}), Compression::kNone) == State::kAbsent);
  CHECK(Scan(Tar({{"etc/", "", '5'}}), Compression::kNone) == State::kAbsent);
}

TEST_CASE("PasswdLayerScanner: links, corruption, truncation, bombs") {
  CHECK(Scan(Tar({{"etc/passwd", "", '2'}}), Compression::kNone) == State::kError);
  CHECK(Scan(Tar({{"etc/passwd", "", '1'}}), Compression::kNone) == State::kError);
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

TEST_CASE("PasswdUid") {
  const std::string p = "# comment\nroot:x:0:0::/root:/bin/sh\nbad:x:notanumber:1::/:\n"
                        "app:x:1000:1000::/home/app:/bin/sh\napp:x:2000:1::/:\nneg:x:-1:0::/:\n"
                        "short:x\nlast:x:42:42::/:";
  CHECK(PasswdUid(p, "root") == std::optional<int64_t>(0));
  CHECK(PasswdUid(p, "app") == std::optional<int64_t>(1000));  // the first line wins
  CHECK(PasswdUid(p, "last") == std::optional<int64_t>(42));   // no trailing newline
  CHECK_FALSE(PasswdUid(p, "bad").has_value());
  CHECK_FALSE(PasswdUid(p, "neg").has_value());
  CHECK_FALSE(PasswdUid(p, "short").has_value());
  CHECK_FALSE(PasswdUid(p, "ap").has_value());
  CHECK_FALSE(PasswdUid("", "root").has_value());
}

}  // namespace
