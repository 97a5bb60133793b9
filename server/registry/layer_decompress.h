// Streaming decompression of image layer blobs (gzip through zlib, zstd through libzstd, or
// none), kept apart from the tar reading in layer_passwd.cpp. The caller feeds compressed bytes
// as they arrive and receives decompressed pieces in a sink; it counts and caps them itself (the
// bound on decompression bombs lives with the caller, which knows its budget). zstd frames that
// need a window over kMaxZstdWindow are refused instead of allocated, so a hostile layer cannot
// make a lookup hold more than that much memory. Not thread-safe: one decompressor per blob.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace rootgate::server {

enum class Compression { kNone, kGzip, kZstd };

// The largest zstd window accepted: 8 MiB, the size RFC 8878 (section 3.1.1.1.2) recommends
// decoders support and encoders not exceed, and the most the Go encoder behind BuildKit,
// containerd and containers/image uses (klauspost/compress zstd, at every level).
inline constexpr uint64_t kMaxZstdWindow = uint64_t{8} << 20;

class Decompressor {
 public:
  // Receives each piece of output in order; returns false to stop (the rest of the input is
  // then not decompressed, and Write returns "").
  using Sink = std::function<bool(std::string_view)>;

  virtual ~Decompressor() = default;

  // Decompresses the next bytes of the blob into `sink`. Returns "" on success, or what is wrong
  // with the stream ("layer is not valid gzip", ...); after an error the object is unusable.
  // Concatenated gzip members and zstd frames are read as one stream, as their tools do.
  virtual std::string Write(std::string_view in, const Sink& sink) = 0;

  // True when the input so far ends where a gzip member or zstd frame ends (always for kNone):
  // false means the blob was cut short (or nothing was written yet).
  virtual bool AtStreamEnd() const = 0;
};

// A decompressor for `compression`; kNone passes the bytes through. Never null.
std::unique_ptr<Decompressor> MakeDecompressor(Compression compression);

}  // namespace rootgate::server
