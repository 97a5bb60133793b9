#include "server/registry/layer_decompress.h"

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <array>

namespace rootgate::server {

namespace {

constexpr size_t kOutChunk = 32768;

class Passthrough final : public Decompressor {
 public:
  std::string Write(std::string_view in, const Sink& sink) override {
    if (!in.empty()) sink(in);
    return "";
  }
  bool AtStreamEnd() const override { return true; }
};

class GzipDecompressor final : public Decompressor {
 public:
  ~GzipDecompressor() override {
    if (ready_) inflateEnd(&z_);
  }

  std::string Write(std::string_view in, const Sink& sink) override {
    if (!ready_) {
      if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) return "zlib: cannot initialise";
      ready_ = true;
    }
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    std::array<unsigned char, kOutChunk> out;
    while (z_.avail_in > 0) {
      z_.next_out = out.data();
      z_.avail_out = out.size();
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return "layer is not valid gzip";
      ended_ = rc == Z_STREAM_END;
      const size_t produced = out.size() - z_.avail_out;
      if (produced > 0 && !sink(std::string_view(reinterpret_cast<const char*>(out.data()), produced))) {
        return "";
      }
      if (rc == Z_STREAM_END && z_.avail_in > 0) inflateReset(&z_);  // multi-member gzip
      if (rc == Z_BUF_ERROR && produced == 0) break;
    }
    return "";
  }

  bool AtStreamEnd() const override { return ended_; }

 private:
  z_stream z_{};
  bool ready_ = false;
  bool ended_ = false;  // the last inflate finished a member
};

class ZstdDecompressor final : public Decompressor {
 public:
  ZstdDecompressor() : d_(ZSTD_createDCtx()) {
    int window_log = 0;
    while ((uint64_t{1} << (window_log + 1)) <= kMaxZstdWindow) ++window_log;
    if (d_ != nullptr) ZSTD_DCtx_setParameter(d_, ZSTD_d_windowLogMax, window_log);
  }
  ~ZstdDecompressor() override { ZSTD_freeDCtx(d_); }
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  bool AtStreamEnd() const override { return ended_; }

  std::string Write(std::string_view bytes, const Sink& sink) override {
    if (d_ == nullptr) return "zstd: cannot initialise";
    ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
    std::array<char, kOutChunk> out;
    // Until the input is used up and the decoder holds nothing more to flush (a full output
    // buffer may mean more is pending even with no input left).
    bool full = false;
    while (in.pos < in.size || full) {
      ZSTD_outBuffer o{out.data(), out.size(), 0};
      const size_t rc = ZSTD_decompressStream(d_, &o, &in);
      if (ZSTD_isError(rc)) return Describe(rc);
      ended_ = rc == 0;  // a frame is complete and flushed
      if (o.pos > 0 && !sink(std::string_view(out.data(), o.pos))) return "";
      full = o.pos == o.size;
      if (o.pos == 0 && in.pos == in.size) break;
    }
    return "";
  }

 private:
  static std::string Describe(size_t rc) {
    if (ZSTD_getErrorCode(rc) == ZSTD_error_frameParameter_windowTooLarge) {
      return "layer needs a zstd window larger than " + std::to_string(kMaxZstdWindow >> 20) + " MiB";
    }
    return std::string("layer is not valid zstd (") + ZSTD_getErrorName(rc) + ")";
  }

  ZSTD_DCtx* d_;
  bool ended_ = false;
};

}  // namespace

std::unique_ptr<Decompressor> MakeDecompressor(Compression compression) {
  switch (compression) {
    case Compression::kGzip:
      return std::make_unique<GzipDecompressor>();
    case Compression::kZstd:
      return std::make_unique<ZstdDecompressor>();
    case Compression::kNone:
      break;
  }
  return std::make_unique<Passthrough>();
}

}  // namespace rootgate::server
