#include "server/webhook/fast_request.h"

#include <charconv>

namespace rootgate::server {

namespace {

constexpr size_t kMaxHead = 8192;  // request line and headers; cpp-httplib's line limit
constexpr int kMaxHeaders = 64;

// RFC 9110 tchar.
bool IsTokenChar(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

// Visible ASCII and space; no tab (the library's trimming of it is not reproduced), no obs-text.
bool IsValueChar(unsigned char c) { return c >= 0x20 && c <= 0x7E; }

// Unreserved characters and the query's own separators: anything else (notably '%' and '+',
// which the library decodes) is not taken.
bool IsPlainQueryChar(unsigned char c) {
  if (c >= 'a' && c <= 'z') return true;
  if (c >= 'A' && c <= 'Z') return true;
  if (c >= '0' && c <= '9') return true;
  return c == '-' || c == '.' || c == '_' || c == '~' || c == '=' || c == '&' || c == ':';
}

bool EqualsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

// The query after '?': the first timeout= value. False when a parameter has two '=' or the
// timeout key comes twice (the library's choice among them is not reproduced).
bool ReadQuery(std::string_view query, std::string_view* timeout) {
  bool seen = false;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    const size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    const std::string_view value = eq == std::string_view::npos ? std::string_view{} : param.substr(eq + 1);
    if (value.find('=') != std::string_view::npos) return false;
    if (key == "timeout") {
      if (seen) return false;
      seen = true;
      *timeout = value;
    }
  }
  return true;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 500: return "Internal Server Error";
    default: return {};
  }
}

}  // namespace

std::optional<FastRequest> ParseFastValidate(std::string_view in, size_t max_body, size_t* need_total) {
  if (need_total != nullptr) *need_total = 0;
  constexpr std::string_view kStart = "POST /validate";
  if (in.substr(0, kStart.size()) != kStart) return std::nullopt;
  const size_t head_end = in.substr(0, kMaxHead).find("\r\n\r\n");
  if (head_end == std::string_view::npos) return std::nullopt;
  const std::string_view head = in.substr(0, head_end + 2);  // every line with its CRLF

  FastRequest r;
  // The request line: POST /validate[?query] HTTP/1.1
  const size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(kStart.size(), line_end - kStart.size());
  constexpr std::string_view kVersion = " HTTP/1.1";
  if (line.size() < kVersion.size() || line.substr(line.size() - kVersion.size()) != kVersion) {
    return std::nullopt;
  }
  line.remove_suffix(kVersion.size());
  if (!line.empty()) {
    if (line[0] != '?') return std::nullopt;
    const std::string_view query = line.substr(1);
    for (const char c : query) {
      if (!IsPlainQueryChar(static_cast<unsigned char>(c))) return std::nullopt;
    }
    if (!ReadQuery(query, &r.timeout)) return std::nullopt;
  }

  // Header fields: name ":" OWS value CRLF, value without trailing whitespace.
  std::string_view rest = head.substr(line_end + 2);
  bool have_length = false, have_type = false;
  size_t length = 0;
  for (int count = 0; !rest.empty(); ++count) {
    if (count == kMaxHeaders) return std::nullopt;
    const size_t eol = rest.find("\r\n");
    const std::string_view field = rest.substr(0, eol);
    rest.remove_prefix(eol + 2);
    const size_t colon = field.find(':');
    if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
    const std::string_view name = field.substr(0, colon);
    for (const char c : name) {
      if (!IsTokenChar(static_cast<unsigned char>(c))) return std::nullopt;
    }
    std::string_view value = field.substr(colon + 1);
    for (const char c : value) {
      if (!IsValueChar(static_cast<unsigned char>(c))) return std::nullopt;
    }
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (!value.empty() && value.back() == ' ') return std::nullopt;

    if (EqualsLower(name, "content-length")) {
      if (have_length || value.empty() || value.size() > 19) return std::nullopt;
      if (value.size() > 1 && value[0] == '0') return std::nullopt;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
      have_length = true;
    } else if (EqualsLower(name, "content-type")) {
      if (have_type) return std::nullopt;
      have_type = true;
      r.content_type = value;
    } else if (EqualsLower(name, "connection")) {
      if (!EqualsLower(value, "keep-alive")) return std::nullopt;
    } else if (EqualsLower(name, "transfer-encoding") || EqualsLower(name, "content-encoding") ||
               EqualsLower(name, "expect") || EqualsLower(name, "range") ||
               EqualsLower(name, "upgrade")) {
      return std::nullopt;
    }
  }
  if (!have_length || length > max_body) return std::nullopt;
  const size_t body_start = head_end + 4;
  if (in.size() - body_start < length) {  // not all here yet
    if (need_total != nullptr) *need_total = body_start + length;
    return std::nullopt;
  }
  r.body = in.substr(body_start, length);
  r.size = body_start + length;
  return r;
}

bool AppendFastReply(std::string* out, int status, std::string_view body, long keep_alive_timeout_s,
                     size_t keep_alive_max) {
  const std::string_view reason = ReasonPhrase(status);
  if (reason.empty()) return false;
  out->reserve(out->size() + body.size() + 160);
  out->append("HTTP/1.1 ").append(std::to_string(status)).append(" ").append(reason);
  out->append("\r\nContent-Length: ").append(std::to_string(body.size()));
  out->append("\r\nContent-Type: application/json; charset=utf-8\r\nKeep-Alive: timeout=");
  out->append(std::to_string(keep_alive_timeout_s)).append(", max=").append(std::to_string(keep_alive_max));
  out->append("\r\n\r\n").append(body);
  return true;
}

}  // namespace rootgate::server
