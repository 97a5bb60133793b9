// Decompressor: gzip and zstd round trips through libz/libzstd's own compressors at several
// chunkings, a sink that stops early, zstd frames whose window is over the 8 MiB limit (refused
// before anything is allocated for them) and ones at it (read).
#include "server/registry/layer_decompress.h"

#include <doctest/doctest.h>
#include <zlib.h>
#include <zstd.h>

#include <string>

namespace {

using rootgate::server::Compression;
using rootgate::server::MakeDecompressor;

std::string Gzip(const std::string& data) {
  uLongf n = compressBound(data.size()) + 32;
  z_stream z{};
  REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(n, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(&out[0]);
  z.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// A zstd frame with the given window log, a checksum and no content size in its header (as a
// streaming writer makes it), so the decoder must honour the declared window.
std::string ZstdStreamed(const std::string& data, int window_log) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  REQUIRE(!ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_windowLog, window_log)));
  REQUIRE(!ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0)));
  REQUIRE(!ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)));  // as BuildKit's
  std::string out(ZSTD_compressBound(data.size()) + 64, '\0');
  ZSTD_outBuffer o{&out[0], out.size(), 0};
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  REQUIRE(!ZSTD_isError(ZSTD_compressStream2(c, &o, &in, ZSTD_e_continue)));
  ZSTD_inBuffer none{nullptr, 0, 0};
  REQUIRE(ZSTD_compressStream2(c, &o, &none, ZSTD_e_end) == 0);
  ZSTD_freeCCtx(c);
  out.resize(o.pos);
  return out;
}

// Decompresses `blob` fed in `chunk`-sized pieces; `error` gets the first error.
std::string Run(Compression c, const std::string& blob, size_t chunk, std::string* error) {
  auto d = MakeDecompressor(c);
  std::string out;
  for (size_t i = 0; i < blob.size() && error->empty(); i += chunk) {
    *error = d->Write(std::string_view(blob).substr(i, chunk), [&out](std::string_view piece) {
      out.append(piece);
      return true;
    });
  }
  return out;
}

std::string Sample() {
  std::string s;
  for (int i = 0; i < 20000; ++i) s += "line " + std::to_string(i * 7919 % 10007) + "\n";
  return s;  // ~200 KB: several 32 KiB output pieces
}

TEST_CASE("Decompressor: round trips at any chunking") {
  const std::string data = Sample();
  for (size_t chunk : {size_t{1}, size_t{13}, size_t{4096}, size_t{1} << 20}) {
    INFO("chunk " << chunk);
    std::string error;
    CHECK(Run(Compression::kNone, data, chunk, &error) == data);
    CHECK(Run(Compression::kGzip, Gzip(data), chunk, &error) == data);
    CHECK(error.empty());
    CHECK(Run(Compression::kZstd, ZstdStreamed(data, 20), chunk, &error) == data);
    CHECK(error.empty());
  }
}

TEST_CASE("Decompressor: AtStreamEnd tells a whole stream from a cut one") {
  const std::string data = Sample();
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    const std::string blob = c == Compression::kGzip ? Gzip(data) : ZstdStreamed(data, 20);
    auto whole = MakeDecompressor(c);
    CHECK_FALSE(whole->AtStreamEnd());  // nothing yet
    CHECK(whole->Write(blob, [](std::string_view) { return true; }) == "");
    CHECK(whole->AtStreamEnd());
    auto cut = MakeDecompressor(c);
    CHECK(cut->Write(blob.substr(0, blob.size() - 3), [](std::string_view) { return true; }) == "");
    CHECK_FALSE(cut->AtStreamEnd());
  }
  CHECK(MakeDecompressor(Compression::kNone)->AtStreamEnd());
}

TEST_CASE("Decompressor: a sink that stops ends the work without an error") {
  const std::string data = Sample();
  for (Compression c : {Compression::kGzip, Compression::kZstd}) {
    auto d = MakeDecompressor(c);
    const std::string blob = c == Compression::kGzip ? Gzip(data) : ZstdStreamed(data, 20);
    int calls = 0;
    CHECK(d->Write(blob, [&calls](std::string_view) { return ++calls < 2; }) == "");
    CHECK(calls == 2);
  }
}

TEST_CASE("Decompressor: zstd windows over 8 MiB are refused, 8 MiB is read") {
  const std::string data = "small payload, large declared window";
  std::string error;
  CHECK(Run(Compression::kZstd, ZstdStreamed(data, 23), 1 << 20, &error) == data);
  CHECK(error.empty());
  Run(Compression::kZstd, ZstdStreamed(data, 24), 1 << 20, &error);
  CHECK(error == "layer needs a zstd window larger than 8 MiB");
  error.clear();
  Run(Compression::kZstd, ZstdStreamed(data, 27), 1 << 20, &error);
  CHECK(error == "layer needs a zstd window larger than 8 MiB");
}

TEST_CASE("Decompressor: corrupt input is an error naming the format") {
  std::string error;
  Run(Compression::kGzip, "definitely not gzip", 4096, &error);
  CHECK(error == "layer is not valid gzip");
  error.clear();
  Run(Compression::kZstd, "definitely not zstd", 4096, &error);
  CHECK(error.rfind("layer is not valid zstd (", 0) == 0);
  error.clear();
  std::string flipped = ZstdStreamed(Sample(), 20);
  flipped[flipped.size() / 2] ^= 0x5a;  // a corrupt block in the middle
  Run(Compression::kZstd, flipped, 4096, &error);
  CHECK_FALSE(error.empty());
}

}  // namespace
