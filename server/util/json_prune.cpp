#include "server/util/json_prune.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "server/util/json_text.h"

namespace rootgate::server {

using nlohmann::json;

bool JsonShape::Keep(std::string_view key, const JsonShape** shape) const {
  for (const Member& m : members) {
    if (m.key == key) {
      *shape = m.shape;
      return !m.drop;
    }
  }
  *shape = nullptr;
  return others == kKeep;
}

namespace {

// Recursive descent over [p_, end_) for what is built; what is dropped is validated by Skip, a
// loop with no recursion and no allocation. On failure the first error is kept and every caller
// returns false at once.
class Parser {
 public:
  explicit Parser(std::string_view text)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()) {}

  Result<json> Document(const JsonShape* shape) {
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
    json out;
    SkipSpace();
    if (!Value(shape, &out)) return Error{error_};
    SkipSpace();
    if (p_ != end_) {
      Fail("expected the end of the document");
      return Error{error_};
    }
    return out;
  }

 private:
  [[gnu::cold, gnu::noinline]] bool Fail(const char* what) {
    if (error_.empty()) {
      size_t line = 1, column = 1;
      for (const char* c = begin_; c < p_ && c < end_; ++c) {
        if (*c == '\n') {
          ++line;
          column = 1;
        } else {
          ++column;
        }
      }
      error_ = "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what;
    }
    return false;
  }

  void SkipSpace() {
    // Bodies from the API server are compact: one compare settles the common case.
    if (p_ == end_ || static_cast<unsigned char>(*p_) > ' ') return;
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // Builds the value at p_ into *out per `shape`; validates it without building when out is null.
  bool Value(const JsonShape* shape, json* out) {
    if (out == nullptr) return Skip();
    if (p_ == end_) return Fail("unexpected end of the document, expected a value");
    switch (*p_) {
      case '{':
        return Object(shape, out);
      case '[':
        return Array(shape, out);
      case '"': {
        std::string s;
        if (!String(&s)) return false;
        *out = std::move(s);
        return true;
      }
      case 't':
        if (!Word("true")) return false;
        *out = true;
        return true;
      case 'f':
        if (!Word("false")) return false;
        *out = false;
        return true;
      case 'n':
        if (!Word("null")) return false;
        *out = nullptr;
        return true;
      default:
        if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) return Number(out);
        return Fail("unexpected character, expected a value");
    }
  }

  bool Word(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::memcmp(p_, word.data(), word.size()) != 0) {
      return Fail("invalid literal, expected true, false or null");
    }
    p_ += word.size();
    return true;
  }

  // Validates the value at p_, building nothing: the same grammar as Value, without recursion,
  // the open objects and arrays on a stack of their closing brackets.
  bool Skip() {
    char closers[kMaxJsonDepth];
    int open = 0;
    while (true) {
      // A value.
      if (p_ == end_) return Fail("unexpected end of the document, expected a value");
      const char c = *p_;
      if (c == '{' || c == '[') {
        if (depth_ + open >= kMaxJsonDepth) return Fail("nested deeper than 512 objects and arrays");
        closers[open++] = c == '{' ? '}' : ']';
        ++p_;
        SkipSpace();
        if (p_ < end_ && *p_ == closers[open - 1]) {
          ++p_;
          --open;
        } else if (c == '[') {
          continue;  // the first element
        } else if (!MemberKey()) {
          return false;
        } else {
          continue;  // the first member's value
        }
      } else if (c == '"') {
        if (!String(nullptr)) return false;
      } else if (c == 't') {
        if (!Word("true")) return false;
      } else if (c == 'f') {
        if (!Word("false")) return false;
      } else if (c == 'n') {
        if (!Word("null")) return false;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        if (!Number(nullptr)) return false;
      } else {
        return Fail("unexpected character, expected a value");
      }
      // After a value: close what ends here, then go on to the next element or member.
      while (true) {
        if (open == 0) return true;
        SkipSpace();
        const bool object = closers[open - 1] == '}';
        if (p_ < end_ && *p_ == ',') {
          ++p_;
          SkipSpace();
          if (object && !MemberKey()) return false;
          break;
        }
        if (p_ < end_ && *p_ == closers[open - 1]) {
          ++p_;
          --open;
          continue;
        }
        return Fail(object ? "expected ',' or '}' after an object member"
                           : "expected ',' or ']' after an array element");
      }
    }
  }

  // A member's key and colon, validated: `"key" :`, leaving p_ on the value.
  bool MemberKey() {
    if (p_ == end_ || *p_ != '"') return Fail("expected a string as an object key");
    if (!String(nullptr)) return false;
    SkipSpace();
    if (p_ == end_ || *p_ != ':') return Fail("expected ':' after an object key");
    ++p_;
    SkipSpace();
    return true;
  }

  bool Enter() {
    if (++depth_ > kMaxJsonDepth) return Fail("nested deeper than 512 objects and arrays");
    ++p_;  // the '{' or '['
    SkipSpace();
    return true;
  }

  bool Object(const JsonShape* shape, json* out) {
    if (!Enter()) return false;
    *out = json::object();
    json::object_t& object = *out->get_ptr<json::object_t*>();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      --depth_;
      return true;
    }
    std::string key;
    while (true) {
      if (p_ == end_ || *p_ != '"') return Fail("expected a string as an object key");
      key.clear();
      if (!String(&key)) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return Fail("expected ':' after an object key");
      ++p_;
      SkipSpace();
      json* slot = nullptr;
      const JsonShape* child = nullptr;
      if (shape == nullptr || shape->Keep(key, &child)) {
        slot = &object[key];  // a repeated key: the last value wins, as in nlohmann
      }
      if (!Value(child, slot)) return false;
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        SkipSpace();
        continue;
      }
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        --depth_;
        return true;
      }
      return Fail("expected ',' or '}' after an object member");
    }
  }

  bool Array(const JsonShape* shape, json* out) {
    if (!Enter()) return false;
    *out = json::array();
    json::array_t& array = *out->get_ptr<json::array_t*>();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      --depth_;
      return true;
    }
    while (true) {
      if (!Value(shape, &array.emplace_back())) return false;
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        SkipSpace();
        continue;
      }
      if (p_ < end_ && *p_ == ']') {
        ++p_;
        --depth_;
        return true;
      }
      return Fail("expected ',' or ']' after an array element");
    }
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Four hex digits after "\u"; p_ is on the 'u'.
  bool CodeUnit(uint32_t* unit) {
    if (end_ - p_ < 5) return Fail("\\u must be followed by four hex digits");
    uint32_t v = 0;
    for (int i = 1; i <= 4; ++i) {
      const int h = Hex(p_[i]);
      if (h < 0) return Fail("\\u must be followed by four hex digits");
      v = v * 16 + static_cast<uint32_t>(h);
    }
    p_ += 5;
    *unit = v;
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // p_ is on the backslash.
  [[gnu::noinline]] bool Escape(std::string* out) {
    if (end_ - p_ < 2) return Fail("unterminated string");
    ++p_;
    char c;
    switch (*p_) {
      case '"': c = '"'; break;
      case '\\': c = '\\'; break;
      case '/': c = '/'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'n': c = '\n'; break;
      case 'r': c = '\r'; break;
      case 't': c = '\t'; break;
      case 'u': {
        uint32_t unit = 0;
        if (!CodeUnit(&unit)) return false;
        if (unit >= 0xDC00 && unit <= 0xDFFF) return Fail("a low surrogate \\u escape without a high one before it");
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          uint32_t low = 0;
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
            return Fail("a high surrogate \\u escape must be followed by a low one");
          }
          ++p_;
          if (!CodeUnit(&low)) return false;
          if (low < 0xDC00 || low > 0xDFFF) return Fail("a high surrogate \\u escape must be followed by a low one");
          unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        }
        if (out != nullptr) AppendUtf8(unit, out);
        return true;
      }
      default:
        return Fail("invalid escape in a string");
    }
    ++p_;
    if (out != nullptr) out->push_back(c);
    return true;
  }

  // A multi-byte UTF-8 sequence (RFC 3629: no overlongs, surrogates or values past U+10FFFF).
  [[gnu::noinline]] bool Utf8(std::string* out) {
    const size_t length = Utf8SequenceLength(std::string_view(p_, static_cast<size_t>(end_ - p_)));
    if (length == 0) return Fail("invalid UTF-8 in a string");
    if (out != nullptr) out->append(p_, length);
    p_ += length;
    return true;
  }

  // p_ is on the opening quote.
  bool String(std::string* out) {
    ++p_;
    while (true) {
      const char* run = p_;
      p_ = PlainJsonEnd(p_, end_);
      if (out != nullptr) out->append(run, static_cast<size_t>(p_ - run));
      if (p_ == end_) return Fail("unterminated string");
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (!Escape(out)) return false;
      } else if (c < 0x20) {
        return Fail("a control character in a string must be escaped");
      } else if (!Utf8(out)) {
        return false;
      }
    }
  }

  bool Digits() {
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    return true;
  }

  // The number grammar of RFC 8259; the value typed as nlohmann types it: an integer that fits
  // is unsigned (no sign) or signed (a '-'), anything else a double, which must be finite.
  [[gnu::noinline]] bool Number(json* out) {
    const char* start = p_;
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ < end_ && *p_ == '0') {
      ++p_;
    } else if (!Digits()) {
      return Fail("invalid number, expected a digit");
    }
    bool integer = true;
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      integer = false;
      if (!Digits()) return Fail("invalid number, expected a digit after '.'");
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      integer = false;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!Digits()) return Fail("invalid number, expected a digit in the exponent");
    }
    if (integer) {
      if (negative) {
        int64_t v = 0;
        if (std::from_chars(start, p_, v).ec == std::errc()) {
          if (out != nullptr) *out = v;
          return true;
        }
      } else {
        uint64_t v = 0;
        if (std::from_chars(start, p_, v).ec == std::errc()) {
          if (out != nullptr) *out = v;
          return true;
        }
      }
    }
    const std::string text(start, p_);
    const double v = std::strtod(text.c_str(), nullptr);
    if (!std::isfinite(v)) return Fail("number too large for a double");
    if (out != nullptr) *out = v;
    return true;
  }

  const char* const begin_;
  const char* p_;
  const char* const end_;
  int depth_ = 0;
  std::string error_;
};

}  // namespace

Result<json> ParsePruned(std::string_view text, const JsonShape* shape) {
  return Parser(text).Document(shape);
}

}  // namespace rootgate::server
