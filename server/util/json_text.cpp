#include "server/util/json_text.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace rootgate::server {

const char* PlainJsonEnd(const char* p, const char* end) {
#ifdef __SSE2__
  // 16 bytes at a time: a signed compare with 0x20 catches control bytes and every byte of 0x80
  // and above at once.
  const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i stop = _mm_or_si128(_mm_cmplt_epi8(v, space),
                                      _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const int mask = _mm_movemask_epi8(stop);
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return p;
    ++p;
  }
  return p;
}

size_t Utf8SequenceLength(std::string_view s, size_t* valid) {
  if (valid != nullptr) *valid = 0;
  if (s.empty()) return 0;
  const auto lead = static_cast<unsigned char>(s[0]);
  size_t length = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (lead < 0x80) {
    length = 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  size_t good = 1;
  while (good < length && good < s.size()) {
    const auto b = static_cast<unsigned char>(s[good]);
    if (good == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    ++good;
  }
  if (valid != nullptr) *valid = good;
  return good == length ? length : 0;
}

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    // a run of bytes written as they are, appended at once
    const size_t plain = static_cast<size_t>(PlainJsonEnd(s.data() + i, s.data() + s.size()) - s.data());
    out->append(s.data() + i, plain - i);
    i = plain;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        default:
          if (c < 0x20) {
            out->append("\\u00");
            out->push_back(kHex[c >> 4]);
            out->push_back(kHex[c & 0xF]);
          } else {
            out->push_back(static_cast<char>(c));
          }
      }
      ++i;
      continue;
    }
    size_t valid = 0;
    const size_t length = Utf8SequenceLength(s.substr(i), &valid);
    if (length != 0) {
      out->append(s.substr(i, length));
      i += length;
    } else {
      out->append("\xEF\xBF\xBD");
      i += valid == 0 ? 1 : valid;
    }
  }
  out->push_back('"');
}

}  // namespace rootgate::server
