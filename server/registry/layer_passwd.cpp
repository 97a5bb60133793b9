#include "server/registry/layer_passwd.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <vector>

namespace rootgate::server {

namespace {

constexpr size_t kBlock = 512;
constexpr size_t kMaxPasswd = size_t{1} << 20;     // a larger /etc/passwd is not believed
constexpr size_t kMaxLongName = size_t{64} << 10;  // GNU long names and PAX headers

}  // namespace

std::string CleanLayerPath(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (std::string_view p : parts) (out.empty() ? out : out += '/') += p;
  return out;
}

namespace {

std::string CleanPath(std::string_view path) { return CleanLayerPath(path); }

// Go's archive/tar parseString: the bytes up to the first NUL.
std::string Field(const char* p, size_t n) { return std::string(p, strnlen(p, n)); }

// A tar number field: octal text, or GNU base-256 when the high bit of the first byte is set.
std::optional<uint64_t> TarNumber(const unsigned char* p, size_t n) {
  if (p[0] & 0x80) {
    if (p[0] & 0x40) return std::nullopt;  // negative
    uint64_t v = p[0] & 0x3F;
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

// The entry's name as Go's archive/tar reads a header: the ustar prefix is used only in a
// POSIX header (magic "ustar\0"; 131 bytes of it in a star header), never in a GNU one.
std::string HeaderName(const unsigned char* h) {
  const char* c = reinterpret_cast<const char*>(h);
  std::string name = Field(c, 100);
  if (std::memcmp(c + 257, "ustar\0", 6) != 0) return name;
  const bool star = std::memcmp(c + 508, "tar\0", 4) == 0;
  const std::string prefix = Field(c + 345, star ? 131 : 155);
  return prefix.empty() ? name : prefix + "/" + name;
}

// Types whose entries carry no data in Go's archive/tar, whatever their size field says.
bool HeaderOnly(char type) { return type >= '1' && type <= '6'; }

// What a PAX extended header says about the next entry.
struct PaxRecords {
  std::optional<std::string> path;
  std::optional<std::string> linkpath;
  std::optional<uint64_t> size;
  bool sparse = false;  // GNU.sparse.* records: the name and data layout differ; not read
  bool bad = false;
};

// "<len> <key>=<value>\n" records; later records of a key win, as in Go's map.
PaxRecords ParsePax(std::string_view data) {
  PaxRecords r;
  while (!data.empty()) {
    const size_t space = data.find(' ');
    size_t len = 0;
    if (space == std::string_view::npos) return r.bad = true, r;
    auto [p, ec] = std::from_chars(data.data(), data.data() + space, len);
    if (ec != std::errc() || p != data.data() + space || len <= space + 1 || len > data.size() ||
        data[len - 1] != '\n') {
      return r.bad = true, r;
    }
    const std::string_view record = data.substr(space + 1, len - space - 2);
    const size_t eq = record.find('=');
    if (eq == std::string_view::npos) return r.bad = true, r;
    const std::string_view key = record.substr(0, eq), value = record.substr(eq + 1);
    if (key == "path") {
      r.path = std::string(value);
    } else if (key == "linkpath") {
      r.linkpath = std::string(value);
    } else if (key == "size") {
      uint64_t size = 0;
      auto [q, ec2] = std::from_chars(value.data(), value.data() + value.size(), size);
      if (ec2 != std::errc() || q != value.data() + value.size()) return r.bad = true, r;
      r.size = size;
    } else if (key.rfind("GNU.sparse.", 0) == 0) {
      r.sparse = true;
    }
    data.remove_prefix(len);
  }
  return r;
}

}  // namespace

struct PasswdLayerScanner::Impl {
  enum class Part { kHeader, kData, kPadding, kEnd };
  // What the entries read so far leave at etc/passwd (the last one wins).
  enum class Passwd { kNone, kFile, kGone, kBad, kSymlink, kHardlink };

  Compression compression;
  uint64_t max_uncompressed;
  uint64_t inflated = 0;
  std::unique_ptr<Decompressor> decompressor;

  std::string path;                   // what is looked for, cleaned
  std::vector<std::string> ancestors;  // its directories, outermost first ("etc")
  std::optional<uint64_t> stop_at_entry;
  uint64_t entries = 0;  // file entries seen

  State state = State::kScanning;
  std::string passwd, error, bad_passwd, link_target;
  uint64_t link_entry = 0;
  Passwd passwd_state = Passwd::kNone;
  bool hidden = false;  // lower layers' /etc/passwd is deleted or hidden

  Part part = Part::kHeader;
  std::array<unsigned char, kBlock> header{};
  size_t header_have = 0;
  uint64_t data_left = 0, padding_left = 0;
  char type = '0';
  enum class Capture { kSkip, kPasswd, kLongName, kLongLink, kPax } capture = Capture::kSkip;
  std::string captured, long_name, long_link;
  PaxRecords pax;

  void Fail(std::string why) {
    state = State::kError;
    error = std::move(why);
  }

  void OnHeader();
  void OnMeta(uint64_t size);
  void OnEntry(const std::string& path, const std::string& link, bool dir_by_slash);
  bool Whiteout(const std::string& entry) const;
  void OnDataEnd();
  void Tar(const unsigned char* p, size_t n);
  void TarData(const unsigned char*& p, size_t& n);
  bool Decompressed(std::string_view bytes);
};

// 'L' (GNU long name), 'x' (PAX) and 'g' (PAX global) headers: their data is captured or
// skipped; they name nothing themselves.
void PasswdLayerScanner::Impl::OnMeta(uint64_t size) {
  if (type == 'g') return;
  if (size > kMaxLongName) return Fail("layer tar has an oversized extended header");
  capture = type == 'L' ? Capture::kLongName : type == 'K' ? Capture::kLongLink : Capture::kPax;
}

void PasswdLayerScanner::Impl::OnHeader() {
  if (std::all_of(header.begin(), header.end(), [](unsigned char c) { return c == 0; })) {
    part = Part::kEnd;  // end-of-archive marker
    return;
  }
  if (!ChecksumOk(header.data())) return Fail("layer is not a valid tar stream (bad header checksum)");
  auto size = TarNumber(header.data() + 124, 12);
  if (!size) return Fail("layer tar header has a bad size");
  type = static_cast<char>(header[156]);
  capture = Capture::kSkip;
  captured.clear();
  if (type == 'L' || type == 'x' || type == 'g' || type == 'K') {
    OnMeta(*size);
  } else if (type == 'S') {
    return Fail("layer tar holds a GNU sparse file, which rootgate does not read");
  } else {
    if (pax.bad) return Fail("layer tar has a malformed PAX header");
    if (pax.sparse) return Fail("layer tar holds a PAX sparse file, which rootgate does not read");
    if (stop_at_entry && entries == *stop_at_entry) {
      part = Part::kEnd;  // what the layer left before this entry is the answer
      return;
    }
    ++entries;
    std::string path = HeaderName(header.data());
    if (pax.path) path = *pax.path;
    if (!long_name.empty()) path = long_name;  // GNU long names win over PAX, as in Go
    std::string link = Field(reinterpret_cast<const char*>(header.data()) + 157, 100);
    if (pax.linkpath) link = *pax.linkpath;
    if (!long_link.empty()) link = long_link;
    if (pax.size) size = pax.size;
    if (HeaderOnly(type)) size = 0;
    pax = PaxRecords{};
    long_name.clear();
    long_link.clear();
    data_left = *size;
    if (state == State::kScanning) OnEntry(CleanPath(path), link, type == '\0' && path.ends_with('/'));
    if (state != State::kScanning) return;
  }
  if (type == 'L' || type == 'x' || type == 'g' || type == 'K') data_left = *size;
  padding_left = (kBlock - data_left % kBlock) % kBlock;
  part = data_left > 0 ? Part::kData : (padding_left > 0 ? Part::kPadding : Part::kHeader);
  if (data_left == 0) OnDataEnd();
}

// A whiteout that deletes the path or one of its directories from the lower layers, or an
// opaque marker in one of its directories (or the root).
bool PasswdLayerScanner::Impl::Whiteout(const std::string& entry) const {
  const size_t slash = entry.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : entry.substr(0, slash);
  const std::string_view base = std::string_view(entry).substr(slash == std::string::npos ? 0 : slash + 1);
  if (!base.starts_with(".wh.")) return false;
  const bool in_chain = dir.empty() || std::find(ancestors.begin(), ancestors.end(), dir) != ancestors.end();
  if (!in_chain) return false;
  if (base == ".wh..wh..opq") return true;
  const std::string deleted = (dir.empty() ? "" : dir + "/") + std::string(base.substr(4));
  return deleted == path || std::find(ancestors.begin(), ancestors.end(), deleted) != ancestors.end();
}

void PasswdLayerScanner::Impl::OnEntry(const std::string& entry, const std::string& link, bool dir_by_slash) {
  const bool regular = (type == '0' || type == '\0' || type == '7') && !dir_by_slash;
  const bool dir = type == '5' || dir_by_slash;
  const bool is_link = type == '1' || type == '2';
  const std::string shown = "/" + path;
  if (Whiteout(entry)) {
    hidden = true;  // applies to lower layers only, not to this layer's own entries
  } else if (!dir && std::find(ancestors.begin(), ancestors.end(), entry) != ancestors.end()) {
    // A non-directory replaces the directory and everything in it; a link there would have to
    // be followed, which rootgate does not do for directories.
    hidden = true;
    passwd_state = is_link ? Passwd::kBad : Passwd::kGone;
    if (is_link) bad_passwd = "/" + entry + " (on the way to " + shown + ") is a link, which rootgate does not follow";
  } else if (entry == path) {
    if (type == '2') {
      passwd_state = Passwd::kSymlink;
      link_target = link;
    } else if (type == '1') {
      passwd_state = Passwd::kHardlink;
      link_target = CleanPath(link);
      link_entry = entries - 1;
    } else if (!regular) {
      passwd_state = Passwd::kBad;
      bad_passwd = shown + " is not a regular file";
    } else if (data_left > kMaxPasswd) {
      passwd_state = Passwd::kBad;
      bad_passwd = shown + " is larger than 1 MiB";
    } else {
      passwd_state = Passwd::kFile;
      passwd.clear();
      capture = Capture::kPasswd;
    }
  }
}

void PasswdLayerScanner::Impl::OnDataEnd() {
  switch (capture) {
    case Capture::kPasswd:
      passwd = std::move(captured);
      break;
    case Capture::kLongName:
      long_name = Field(captured.data(), captured.size());
      break;
    case Capture::kLongLink:
      long_link = Field(captured.data(), captured.size());
      break;
    case Capture::kPax:
      pax = ParsePax(captured);
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

PasswdLayerScanner::PasswdLayerScanner(Compression compression, uint64_t max_uncompressed,
                                       std::string path, std::optional<uint64_t> stop_at_entry)
    : impl_(std::make_unique<Impl>()) {
  impl_->compression = compression;
  impl_->max_uncompressed = max_uncompressed;
  impl_->path = CleanPath(path);
  for (size_t slash = impl_->path.find('/'); slash != std::string::npos; slash = impl_->path.find('/', slash + 1)) {
    impl_->ancestors.push_back(impl_->path.substr(0, slash));
  }
  impl_->stop_at_entry = stop_at_entry;
  impl_->decompressor = MakeDecompressor(compression);
}

PasswdLayerScanner::~PasswdLayerScanner() = default;

bool PasswdLayerScanner::Feed(std::string_view bytes) {
  Impl& s = *impl_;
  if (s.state != State::kScanning || s.part == Impl::Part::kEnd) return false;
  std::string error = s.decompressor->Write(bytes, [&s](std::string_view out) { return s.Decompressed(out); });
  if (!error.empty() && s.state == State::kScanning) s.Fail(std::move(error));
  return s.state == State::kScanning && s.part != Impl::Part::kEnd;
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
  switch (s.passwd_state) {
    case Impl::Passwd::kFile:
      s.state = State::kFound;
      return;
    case Impl::Passwd::kBad:
      return s.Fail(s.bad_passwd);
    case Impl::Passwd::kSymlink:
      s.state = State::kSymlink;
      return;
    case Impl::Passwd::kHardlink:
      s.state = State::kHardlink;
      return;
    case Impl::Passwd::kGone:
    case Impl::Passwd::kNone:
      s.passwd.clear();
      s.state = s.hidden ? State::kHidden : State::kAbsent;
      return;
  }
}

PasswdLayerScanner::State PasswdLayerScanner::state() const { return impl_->state; }
const std::string& PasswdLayerScanner::passwd() const { return impl_->passwd; }
const std::string& PasswdLayerScanner::error() const { return impl_->error; }
const std::string& PasswdLayerScanner::link_target() const { return impl_->link_target; }
uint64_t PasswdLayerScanner::link_entry() const { return impl_->link_entry; }

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

namespace {

constexpr size_t kMaxPasswdLine = size_t{64} << 10;  // Go's bufio.MaxScanTokenSize

// Decodes one UTF-8 rune at the front (or, with `back`, the end) of `s`: its code point and
// length, or U+FFFD and 1 for a bad byte, as Go's utf8.DecodeRune does.
std::pair<char32_t, size_t> Rune(std::string_view s, bool back) {
  size_t start = back ? s.size() - 1 : 0;
  if (back) {
    size_t lead = s.size() - 1;
    while (lead > 0 && s.size() - lead < 4 && (static_cast<unsigned char>(s[lead]) & 0xC0) == 0x80) --lead;
    start = lead;
  }
  const auto* u = reinterpret_cast<const unsigned char*>(s.data() + start);
  const size_t have = s.size() - start;
  size_t len = u[0] < 0x80 ? 1 : (u[0] >> 5) == 0x6 ? 2 : (u[0] >> 4) == 0xE ? 3 : (u[0] >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || len > have || (back && start + len != s.size())) return {0xFFFD, 1};
  char32_t c = len == 1 ? u[0] : u[0] & (0x7F >> len);
  for (size_t i = 1; i < len; ++i) {
    if ((u[i] & 0xC0) != 0x80) return {0xFFFD, 1};
    c = (c << 6) | (u[i] & 0x3F);
  }
  return {c, len};
}

// unicode.IsSpace.
bool GoSpace(char32_t c) {
  return c == ' ' || (c >= '\t' && c <= '\r') || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

// bytes.TrimSpace.
std::string_view TrimSpaceGo(std::string_view s) {
  while (!s.empty()) {
    auto [c, n] = Rune(s, false);
    if (!GoSpace(c)) break;
    s.remove_prefix(n);
  }
  while (!s.empty()) {
    auto [c, n] = Rune(s, true);
    if (!GoSpace(c)) break;
    s.remove_suffix(n);
  }
  return s;
}

// strconv.Atoi with its error ignored: the value, 0 on a syntax error, the int64 limit of the
// sign on overflow.
int64_t AtoiIgnoringError(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return 0;
  uint64_t v = 0;
  bool overflow = false;
  for (char c : s) {
    if (c < '0' || c > '9') return 0;
    if (v > (UINT64_MAX - 9) / 10) overflow = true;
    v = overflow ? v : v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (negative) {
    return overflow || v > uint64_t{1} << 63 ? INT64_MIN : static_cast<int64_t>(0 - v);
  }
  return overflow || v > static_cast<uint64_t>(INT64_MAX) ? INT64_MAX : static_cast<int64_t>(v);
}

}  // namespace

PasswdEntry FindPasswdEntry(std::string_view passwd, std::string_view name) {
  PasswdEntry found;
  bool matched = false;
  while (!passwd.empty()) {
    const size_t nl = passwd.find('\n');
    std::string_view line = passwd.substr(0, nl);
    // The scanner's buffer holds a line and its newline; a longer one stops the whole read.
    if (line.size() + (nl == std::string_view::npos ? 0 : 1) > kMaxPasswdLine ||
        (nl == std::string_view::npos && line.size() >= kMaxPasswdLine)) {
      return {PasswdEntry::Kind::kUnreadable, 0,
              "the image's /etc/passwd has a line of 64 KiB or more, which the runtime cannot read"};
    }
    passwd = nl == std::string_view::npos ? std::string_view() : passwd.substr(nl + 1);
    if (matched) continue;  // later lines are still read: a long one fails the whole file
    if (line.ends_with('\r')) line.remove_suffix(1);
    line = TrimSpaceGo(line);
    if (line.empty()) continue;
    // name:password:uid:gid:gecos:home:shell
    const size_t c1 = line.find(':');
    if (line.substr(0, c1) != name) continue;
    matched = true;
    found.kind = PasswdEntry::Kind::kFound;
    if (c1 == std::string_view::npos) continue;  // no uid field: 0
    const size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    const size_t c3 = line.find(':', c2 + 1);
    found.uid = AtoiIgnoringError(line.substr(c2 + 1, c3 == std::string_view::npos ? c3 : c3 - c2 - 1));
  }
  return found;
}

}  // namespace rootgate::server
