// Writing JSON text without building a tree. No I/O; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace rootgate::server {

// Appends `s` as a JSON string literal, quotes included, byte for byte as nlohmann's dump writes
// it with ensure_ascii off and error_handler_t::replace: '"', '\\' and control characters
// escaped (\n, \t, ... or \u00XX), valid UTF-8 as it is, and each maximal invalid prefix of a
// UTF-8 sequence replaced by U+FFFD. Runs of plain ASCII are appended at once.
void AppendJsonString(std::string* out, std::string_view s);

// The first byte of [p, end) that is not printable ASCII other than '"' and '\\' (end if none):
// the end of a run that a JSON string holds and writes as it is.
const char* PlainJsonEnd(const char* p, const char* end);

}  // namespace rootgate::server
