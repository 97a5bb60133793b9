// Compose's rules of substitution (compose-spec 12-interpolation.md) and its `.env` files.
// Pure functions of their arguments (no I/O, no process environment); thread-safe.
//
// Interpolation: `$VAR`, `${VAR}`; `${VAR:-default}` (unset or empty), `${VAR-default}` (unset);
// `${VAR:?err}` / `${VAR?err}` (an error carrying `err` when unset or empty / unset);
// `${VAR:+alt}` / `${VAR+alt}` (alt when set and not empty / set, else empty); defaults nest
// (`${A:-${B:-x}}`); `$$` is a literal `$`. An unset variable without a default becomes "" (as
// Compose does, which warns). A `$` followed by anything else, or an unterminated `${`, is an error.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "policy/result.h"

namespace rootgate::server::compose {

using Environment = std::map<std::string, std::string>;

// `text` with every substitution made from `env`. The error says what is wrong:
// "required variable TAG is missing a value: set TAG", "invalid interpolation in \"$5\"".
Result<std::string> Interpolate(std::string_view text, const Environment& env);

// Reads a `.env` file: `KEY=VALUE` lines (an optional `export ` before KEY), `#` comments and
// blank lines skipped; VALUE unquoted (trimmed, ` #…` cut), in single quotes (literal) or in
// double quotes (`\n`, `\t`, `\\`, `\"`, `\$` escapes); unquoted and double-quoted values are
// interpolated from `env` first, then the file's earlier lines (as compose-go looks them up). A line holding only KEY takes KEY's
// value from `env` (and is skipped when `env` lacks it). Errors name the line: "line 3: ...".
Result<Environment> ParseDotEnv(std::string_view text, const Environment& env);

}  // namespace rootgate::server::compose
