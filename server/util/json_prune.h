// A strict JSON parser that builds only the parts of a document the caller asks for.
//
// The webhook reads a handful of fields from each AdmissionReview, yet a full parse builds every
// node, metadata.managedFields included, and on this path that parse was most of the decision's
// cost. ParsePruned validates the whole text exactly as nlohmann::json::parse does (RFC 8259:
// UTF-8, escapes and surrogate pairs, number grammar, a number that overflows a double is an
// error; a leading UTF-8 BOM is accepted) and builds only the members a JsonShape names; the
// rest is checked and dropped without allocating. Two deliberate differences from nlohmann:
// nesting deeper than kMaxJsonDepth is an error (callers compare and walk the result
// recursively), and nothing may follow the value, not even after a NUL byte.
// No I/O; thread-safe.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/result.h"

namespace rootgate::server {

inline constexpr int kMaxJsonDepth = 512;

// Which members of an object to build. A named member is built with its own shape (null: whole)
// or dropped; members not named are dropped, or built whole when `others` is kKeep. A shape
// applies where the value is an object, and to each element of an array; any other value (a
// string where an object was expected, say) is built whole, so the caller can report its type.
struct JsonShape {
  enum Others { kDrop, kKeep };
  struct Member {
    std::string_view key;
    const JsonShape* shape = nullptr;  // null: the whole value
    bool drop = false;
  };
  Others others = kDrop;
  std::vector<Member> members;

  JsonShape(std::initializer_list<Member> m) : members(m) {}
  JsonShape(Others o, std::initializer_list<Member> m) : others(o), members(m) {}

  // Whether to build the member `key`, and with which shape.
  bool Keep(std::string_view key, const JsonShape** shape) const;
};

// Parses `text`; `shape` null builds everything (then it equals nlohmann::json::parse). Errors
// read "line L, column C: what was expected".
Result<nlohmann::json> ParsePruned(std::string_view text, const JsonShape* shape);

}  // namespace rootgate::server
