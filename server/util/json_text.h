// Writing JSON text without building a tree. No I/O; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rootgate::server {

// Appends `s` as a JSON string literal, quotes included, byte for byte as nlohmann's dump writes
// it with ensure_ascii off and error_handler_t::replace: '"', '\\' and control characters
// escaped (\n, \t, ... or \u00XX), valid UTF-8 as it is, and each maximal invalid prefix of a
// UTF-8 sequence replaced by U+FFFD. Runs of plain ASCII are appended at once.
void AppendJsonString(std::string* out, std::string_view s);

// The UTF-8 sequence that starts `s` (RFC 3629: no overlong forms, surrogates or code points
// past U+10FFFF; an ASCII byte is a sequence of one): its length when it is whole and well
// formed, else 0. `valid`, when given, gets how many of its first bytes are as they should be
// (0 when no sequence starts with s[0]): the maximal invalid prefix to replace by U+FFFD.
size_t Utf8SequenceLength(std::string_view s, size_t* valid = nullptr);

// The first byte of [p, end) that is not printable ASCII other than '"' and '\\' (end if none):
// the end of a run that a JSON string holds and writes as it is.
const char* PlainJsonEnd(const char* p, const char* end);

}  // namespace rootgate::server
