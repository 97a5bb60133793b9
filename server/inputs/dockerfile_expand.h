// Variable expansion in Dockerfile words, as BuildKit's shell lexer does it
// (moby/buildkit frontend/dockerfile/shell/lex.go, ProcessWord): `$VAR`, `${VAR}`,
// `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`, `${VAR:?msg}`, `${VAR#pat}`,
// `${VAR%pat}`; single quotes are literal, double quotes allow expansion, the escape character
// escapes the next one; quotes are removed. Pure; thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"

namespace rootgate::server::dockerfile {

// Finds a variable's value; nullptr when the Dockerfile gives it none.
using VarLookup = std::function<const std::string*(std::string_view name)>;

struct Expanded {
  std::string value;
  // Variables referred to that had no value (each once, in order). They expand as empty, as
  // BuildKit expands them when nothing else sets them; a base image's ENV might set them.
  std::vector<std::string> unset;
};

// Expands one word. Errors: a missing '}', a bad substitution, an unmatched quote, `${V:?}` on
// an unset V, or an unsupported modifier (`${V/a/b}`).
Result<Expanded> ExpandWord(std::string_view word, char escape, const VarLookup& lookup);

// Splits arguments at blanks outside quotes, keeping quotes and escapes in the words (BuildKit's
// parseWords, used for `ENV k=v k2=v2` and `ARG a=1 b`).
std::vector<std::string> SplitWords(std::string_view args, char escape);

}  // namespace rootgate::server::dockerfile
