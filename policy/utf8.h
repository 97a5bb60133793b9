// Cutting text to a byte budget without splitting a UTF-8 sequence, for messages that quote
// input and end up in JSON (AdmissionReview replies, `check -o json`), where a split sequence is
// invalid UTF-8. Pure; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rootgate {

// The longest prefix of `text` of at most `max_bytes` bytes that does not end inside a UTF-8
// sequence: the cut moves back over at most three continuation bytes (10xxxxxx), the most a
// sequence holds. Text that is not UTF-8 stays as it is; only the cut is placed with care.
inline std::string CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t n = max_bytes;
  while (n > 0 && max_bytes - n < 3 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return std::string(text.substr(0, n));
}

}  // namespace rootgate
