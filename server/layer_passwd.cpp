#include "server/layer_passwd.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

namespace rootgate::server {

namespace {

constexpr size_t kBlock = 512;
constexpr size_t kMaxPasswd = size_t{1} << 20;     // a larger /etc/passwd is not believed
constexpr size_t kMaxLongName = size_t{64} << 10;  // GNU long names and PAX headers

// Strips "./" and "/" prefixes and a trailing "/": tar writers disagree on them.
std::string NormalisePath(std::string path) {
  while (true) {
    if (path.rfind("./", 0) == 0) {
      path.erase(0, 2);
    } else if (!path.empty() && path[0] == '/') {
      path.erase(0, 1);
    } else {
      break;
    }
  }
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

std::string Field(const char* p, size_t n) { return std::string(p, strnlen(p, n)); }

// A tar number field: octal text, or GNU base-256 when the high bit of the first byte is set.
std::optional<uint64_t> TarNumber(const unsigned char* p, size_t n) {
  if (p[0] & 0x80) {
    uint64_t v = p[0] & 0x7F;
    for (size_t i = 1; i < n; ++i) {
      if (v >> 56) return std::nullopt;
      v = (v << 8) | p[i];
    }
    return v;
  }
  size_t i = 0;
  while (i < n && (p[i] == ' ' || p[i] == '\0')) ++i;
  uint64_t v = 0;
  for (; i < n && p[i] >= '0' && p[i] <= '7'; ++i) {
    if (v >> 60) return std::nullopt;
    v = v * 8 + (p[i] - '0');
  }
  return v;
}

bool ChecksumOk(const unsigned char* h) {
  auto stored = TarNumber(h + 148, 8);
  if (!stored) return false;
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : h[i];
  return sum == *stored;
}

// The "path" record of a PAX extended header ("<len> path=<value>\n" records), or "".
std::string PaxPath(std::string_view data) {
  while (!data.empty()) {
    size_t space = data.find(' ');
    size_t len = 0;
    if (space == std::string_view::npos) return "";
    auto [p, ec] = std::from_chars(data.data(), data.data() + space, len);
    if (ec != std::errc() || len <= space + 1 || len > data.size()) return "";
    std::string_view record = data.substr(space + 1, len - space - 2);  // drop the '\n'
    if (record.rfind("path=", 0) == 0) return std::string(record.substr(5));
    data.remove_prefix(len);
  }
  return "";
}

}  // namespace

struct PasswdLayerScanner::Impl {
  enum class Part { kHeader, kData, kPadding, kEnd };

  Compression compression;
  uint64_t max_uncompressed;
  uint64_t inflated = 0;
  std::unique_ptr<Decompressor> decompressor;

  State state = State::kScanning;
  std::string passwd, error;
  bool hidden = false;

  Part part = Part::kHeader;
  std::array<unsigned char, kBlock> header{};
  size_t header_have = 0;
  uint64_t data_left = 0, padding_left = 0;
  char type = '0';
  enum class Capture { kSkip, kPasswd, kLongName, kPax } capture = Capture::kSkip;
  std::string captured, next_name;

  void Fail(std::string why) {
    state = State::kError;
    error = std::move(why);
  }

  void OnHeader();
  void OnEntry(const std::string& path);
  void OnDataEnd();
  void Tar(const unsigned char* p, size_t n);
  void TarData(const unsigned char*& p, size_t& n);
  bool Decompressed(std::string_view bytes);
};

void PasswdLayerScanner::Impl::OnHeader() {
  if (std::all_of(header.begin(), header.end(), [](unsigned char c) { return c == 0; })) {
    part = Part::kEnd;  // end-of-archive marker
    return;
  }
  if (!ChecksumOk(header.data())) return Fail("layer is not a valid tar stream (bad header checksum)");
  auto size = TarNumber(header.data() + 124, 12);
  if (!size) return Fail("layer tar header has a bad size");
  type = static_cast<char>(header[156]);
  data_left = *size;
  padding_left = (kBlock - *size % kBlock) % kBlock;
  capture = Capture::kSkip;
  captured.clear();
  if (type == 'L' || type == 'x') {
    if (*size > kMaxLongName) return Fail("layer tar has an oversized extended header");
    capture = type == 'L' ? Capture::kLongName : Capture::kPax;
  } else if (type != 'g') {
    std::string path = next_name;
    next_name.clear();
    if (path.empty()) {
      std::string name = Field(reinterpret_cast<const char*>(header.data()), 100);
      std::string prefix = Field(reinterpret_cast<const char*>(header.data()) + 345, 155);
      const bool ustar = std::string_view(reinterpret_cast<const char*>(header.data()) + 257, 5) == "ustar";
      path = ustar && !prefix.empty() ? prefix + "/" + name : name;
    }
    OnEntry(NormalisePath(path));
  }
  part = data_left > 0 ? Part::kData : (padding_left > 0 ? Part::kPadding : Part::kHeader);
  if (data_left == 0) OnDataEnd();
}

void PasswdLayerScanner::Impl::OnEntry(const std::string& path) {
  if (path == "etc/.wh.passwd" || path == "etc/.wh..wh..opq" || path == ".wh.etc") {
    hidden = true;
  } else if (path == "etc" && type != '5') {
    hidden = true;  // a non-directory /etc replaces the lower layers' directory
  } else if (path == "etc/passwd") {
    if (type == '1' || type == '2') return Fail("/etc/passwd is a link in the image");
    if (type != '0' && type != '\0' && type != '7') return Fail("/etc/passwd is not a regular file");
    if (data_left > kMaxPasswd) return Fail("/etc/passwd is larger than 1 MiB");
    capture = Capture::kPasswd;
  }
}

void PasswdLayerScanner::Impl::OnDataEnd() {
  switch (capture) {
    case Capture::kPasswd:
      passwd = std::move(captured);
      state = State::kFound;
      break;
    case Capture::kLongName:
      next_name = Field(captured.data(), captured.size());
      break;
    case Capture::kPax:
      next_name = PaxPath(captured);
      break;
    case Capture::kSkip:
      break;
  }
  capture = Capture::kSkip;
  captured.clear();
}

void PasswdLayerScanner::Impl::TarData(const unsigned char*& p, size_t& n) {
  if (part == Part::kData) {
    size_t take = static_cast<size_t>(std::min<uint64_t>(data_left, n));
    if (capture != Capture::kSkip) captured.append(reinterpret_cast<const char*>(p), take);
    p += take;
    n -= take;
    data_left -= take;
    if (data_left == 0) {
      OnDataEnd();
      part = padding_left > 0 ? Part::kPadding : Part::kHeader;
    }
  } else {
    size_t take = static_cast<size_t>(std::min<uint64_t>(padding_left, n));
    p += take;
    n -= take;
    padding_left -= take;
    if (padding_left == 0) part = Part::kHeader;
  }
}

void PasswdLayerScanner::Impl::Tar(const unsigned char* p, size_t n) {
  while (n > 0 && state == State::kScanning && part != Part::kEnd) {
    if (part == Part::kHeader) {
      size_t take = std::min(kBlock - header_have, n);
      std::copy(p, p + take, header.begin() + header_have);
      header_have += take;
      p += take;
      n -= take;
      if (header_have == kBlock) {
        header_have = 0;
        OnHeader();
      }
    } else {
      TarData(p, n);
    }
  }
}

// Counts and caps the decompressed bytes (bombs), then reads them as tar. False once settled.
bool PasswdLayerScanner::Impl::Decompressed(std::string_view bytes) {
  inflated += bytes.size();
  if (inflated > max_uncompressed) {
    const std::string cap = std::to_string(max_uncompressed >> 20) + " MiB";
    Fail(compression == Compression::kNone ? "layer is larger than " + cap : "layer inflates past " + cap);
    return false;
  }
  Tar(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return state == State::kScanning && part != Part::kEnd;
}

PasswdLayerScanner::PasswdLayerScanner(Compression compression, uint64_t max_uncompressed)
    : impl_(std::make_unique<Impl>()) {
  impl_->compression = compression;
  impl_->max_uncompressed = max_uncompressed;
  impl_->decompressor = MakeDecompressor(compression);
}

PasswdLayerScanner::~PasswdLayerScanner() = default;

bool PasswdLayerScanner::Feed(std::string_view bytes) {
  Impl& s = *impl_;
  if (s.state != State::kScanning || s.part == Impl::Part::kEnd) return s.state == State::kScanning;
  std::string error = s.decompressor->Write(bytes, [&s](std::string_view out) { return s.Decompressed(out); });
  if (!error.empty() && s.state == State::kScanning) s.Fail(std::move(error));
  return s.state == State::kScanning;
}

void PasswdLayerScanner::Finish() {
  Impl& s = *impl_;
  if (s.state != State::kScanning) return;
  if (s.part != Impl::Part::kEnd && !s.decompressor->AtStreamEnd()) {
    return s.Fail("layer ends in the middle of its compressed stream");
  }
  if (s.part != Impl::Part::kEnd && (s.part != Impl::Part::kHeader || s.header_have != 0)) {
    return s.Fail("layer ends in the middle of a tar entry");
  }
  s.state = s.hidden ? State::kHidden : State::kAbsent;
}

PasswdLayerScanner::State PasswdLayerScanner::state() const { return impl_->state; }
const std::string& PasswdLayerScanner::passwd() const { return impl_->passwd; }
const std::string& PasswdLayerScanner::error() const { return impl_->error; }

std::optional<PasswdLayerScanner::Compression> LayerCompression(std::string_view media_type) {
  if (media_type.ends_with("tar+gzip") || media_type.ends_with("tar.gzip")) {
    return PasswdLayerScanner::Compression::kGzip;
  }
  if (media_type.ends_with("tar+zstd") || media_type.ends_with("tar.zstd")) {
    return PasswdLayerScanner::Compression::kZstd;
  }
  if (media_type.ends_with(".tar") || media_type.ends_with("tar.v1.tar")) {
    return PasswdLayerScanner::Compression::kNone;
  }
  return std::nullopt;
}

std::optional<int64_t> PasswdUid(std::string_view passwd, std::string_view name) {
  while (!passwd.empty()) {
    size_t nl = passwd.find('\n');
    std::string_view line = passwd.substr(0, nl);
    passwd = nl == std::string_view::npos ? std::string_view() : passwd.substr(nl + 1);
    // name:password:uid:gid:gecos:home:shell
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos || line.substr(0, c1) != name) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    size_t c3 = line.find(':', c2 + 1);
    std::string_view uid_text = line.substr(c2 + 1, c3 == std::string_view::npos ? c3 : c3 - c2 - 1);
    int64_t uid = -1;
    auto [p, ec] = std::from_chars(uid_text.data(), uid_text.data() + uid_text.size(), uid);
    if (ec != std::errc() || p != uid_text.data() + uid_text.size() || uid < 0 || uid > 2147483647) {
      continue;
    }
    return uid;
  }
  return std::nullopt;
}

}  // namespace rootgate::server
