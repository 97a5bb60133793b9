#include "server/inputs/compose_interpolate.h"

#include <optional>
#include <utility>

namespace rootgate::server::compose {

namespace {

constexpr int kMaxNesting = 50;

bool IsNameStart(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// Substitution within one value, with the value as written kept for messages.
class Expander {
 public:
  Expander(std::string_view whole, const Environment& env) : whole_(whole), env_(env) {}

  Result<std::string> Expand(std::string_view s, int depth);

 private:
  Result<std::string> Braced(std::string_view inner, int depth);
  Error Invalid(const std::string& why) const {
    return Error{"invalid interpolation in \"" + std::string(whole_) + "\": " + why};
  }
  const std::string* Find(const std::string& name) const {
    auto it = env_.find(name);
    return it == env_.end() ? nullptr : &it->second;
  }

  std::string_view whole_;
  const Environment& env_;
};

// The index of the `}` closing a `${` whose content starts at `from`, or npos.
size_t ClosingBrace(std::string_view s, size_t from) {
  int level = 1;
  for (size_t k = from; k < s.size(); ++k) {
    if (s[k] == '$' && k + 1 < s.size() && (s[k + 1] == '{' || s[k + 1] == '$')) {
      level += s[k + 1] == '{' ? 1 : 0;
      ++k;
    } else if (s[k] == '}' && --level == 0) {
      return k;
    }
  }
  return std::string_view::npos;
}

Result<std::string> Expander::Expand(std::string_view s, int depth) {
  if (depth > kMaxNesting) return Invalid("nested more than 50 levels");
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] != '$') {
      out += s[i++];
      continue;
    }
    const char next = i + 1 < s.size() ? s[i + 1] : '\0';
    if (next == '$') {
      out += '$';
      i += 2;
    } else if (next == '{') {
      const size_t close = ClosingBrace(s, i + 2);
      if (close == std::string_view::npos) return Invalid("unterminated ${");
      Result<std::string> value = Braced(s.substr(i + 2, close - i - 2), depth);
      if (!value.ok()) return value;
      out += value.value();
      i = close + 1;
    } else if (IsNameStart(next)) {
      size_t end = i + 1;
      while (end < s.size() && IsNameChar(s[end])) ++end;
      const std::string* v = Find(std::string(s.substr(i + 1, end - i - 1)));
      if (v != nullptr) out += *v;
      i = end;
    } else {
      return Invalid("a $ must start $VAR, ${VAR} or $$ (write $$ for a literal $)");
    }
  }
  return out;
}

Result<std::string> Expander::Braced(std::string_view inner, int depth) {
  size_t n = 0;
  while (n < inner.size() && IsNameChar(inner[n])) ++n;
  if (n == 0 || !IsNameStart(inner[0])) return Invalid("\"${" + std::string(inner) + "}\" has no variable name");
  const std::string name(inner.substr(0, n));
  const std::string* value = Find(name);
  std::string_view rest = inner.substr(n);
  if (rest.empty()) return value ? *value : std::string();
  const bool colon = rest[0] == ':';
  if (colon) rest.remove_prefix(1);
  if (rest.empty()) return Invalid("\"${" + std::string(inner) + "}\": expected -, ?, or + after :");
  const char op = rest[0];
  const std::string_view arg = rest.substr(1);
  const bool present = value != nullptr && (!colon || !value->empty());
  switch (op) {
    case '-':
      return present ? Result<std::string>(*value) : Expand(arg, depth + 1);
    case '+':
      return present ? Expand(arg, depth + 1) : Result<std::string>(std::string());
    case '?': {
      if (present) return *value;
      Result<std::string> message = Expand(arg, depth + 1);
      const std::string detail = message.ok() ? message.value() : message.error();
      return Error{"required variable " + name + " is " + (value ? "empty" : "missing a value") +
                   (detail.empty() ? "" : ": " + detail)};
    }
    default:
      return Invalid("\"${" + std::string(inner) + "}\": unknown operator after " + name);
  }
}

std::string_view Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// A double-quoted value's escapes.
std::string Unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    if (c == 'n') {
      out += '\n';
    } else if (c == 't') {
      out += '\t';
    } else if (c == '$') {
      out += "$$";  // stays literal through the interpolation that follows
    } else if (c == '\\' || c == '"') {
      out += c;
    } else {
      out += '\\';
      out += c;
    }
  }
  return out;
}

// One `KEY=VALUE` line's value, before interpolation; `interpolate` says whether to do it.
Result<std::string> ReadValue(std::string_view raw, bool* interpolate) {
  raw = Trim(raw);
  *interpolate = true;
  if (!raw.empty() && (raw[0] == '\'' || raw[0] == '"')) {
    const char quote = raw[0];
    size_t end = 1;
    while (end < raw.size() && (raw[end] != quote || (quote == '"' && raw[end - 1] == '\\'))) ++end;
    if (end >= raw.size()) return Error{std::string("unterminated ") + quote + " quote"};
    const std::string_view after = Trim(raw.substr(end + 1));
    if (!after.empty() && after[0] != '#') return Error{"unexpected text after the closing quote"};
    if (quote == '\'') {
      *interpolate = false;
      return std::string(raw.substr(1, end - 1));
    }
    return Unescape(raw.substr(1, end - 1));
  }
  const size_t comment = raw.find(" #");
  return std::string(Trim(raw.substr(0, comment == std::string_view::npos ? raw.size() : comment)));
}

}  // namespace

Result<std::string> Interpolate(std::string_view text, const Environment& env) {
  if (text.find('$') == std::string_view::npos) return std::string(text);
  return Expander(text, env).Expand(text, 0);
}

Result<Environment> ParseDotEnv(std::string_view text, const Environment& env) {
  Environment out;
  int number = 0;
  for (size_t begin = 0; begin <= text.size(); ++number) {
    const size_t newline = std::min(text.find('\n', begin), text.size());
    std::string_view line = Trim(text.substr(begin, newline - begin));
    begin = newline + 1;
    const std::string where = "line " + std::to_string(number + 1) + ": ";
    if (line.empty() || line[0] == '#') continue;
    if (line.substr(0, 7) == "export ") line = Trim(line.substr(7));
    const size_t eq = line.find('=');
    const std::string key(Trim(line.substr(0, eq)));
    if (key.empty() || !IsNameStart(key[0]) ||
        key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
            std::string::npos) {
      return Error{where + "expected KEY=VALUE, got \"" + std::string(line) + "\""};
    }
    if (eq == std::string_view::npos) {
      if (auto it = env.find(key); it != env.end()) out[key] = it->second;
      continue;
    }
    bool interpolate = true;
    Result<std::string> value = ReadValue(line.substr(eq + 1), &interpolate);
    if (!value.ok()) return Error{where + key + ": " + value.error()};
    if (interpolate) {
      Environment lookup = out;
      for (const auto& [k, v] : env) lookup[k] = v;
      value = Interpolate(value.value(), lookup);
      if (!value.ok()) return Error{where + key + ": " + value.error()};
    }
    out[key] = std::move(value).value();
  }
  return out;
}

}  // namespace rootgate::server::compose
