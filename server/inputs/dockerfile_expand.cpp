// Word expansion after BuildKit's shell lexer (frontend/dockerfile/shell/lex.go); comments name
// the Go function each method stands for.
#include "server/inputs/dockerfile_expand.h"

#include <algorithm>
#include <cctype>

#include "policy/policy.h"

namespace rootgate::server::dockerfile {

namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// One ProcessWord call: a cursor over the word and the variables seen unset.
class Lexer {
 public:
  Lexer(std::string_view word, char escape, const VarLookup& lookup)
      : s_(word), escape_(escape), lookup_(lookup) {}

  Result<Expanded> Run() {
    Result<std::string> value = Process(kEnd);
    if (!value) return Error{value.error()};
    return Expanded{std::move(value).value(), std::move(unset_)};
  }

 private:
  static constexpr int kEnd = -1;

  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }

  Result<std::string> Process(int stop);
  Result<std::string> SingleQuote();
  Result<std::string> DoubleQuote();
  Result<std::string> Dollar();
  Result<std::string> Braced();
  std::string Name();
  const std::string* Get(const std::string& name);

  std::string_view s_;
  size_t pos_ = 0;
  char escape_;
  const VarLookup& lookup_;
  std::vector<std::string> unset_;
};

const std::string* Lexer::Get(const std::string& name) {
  const std::string* value = lookup_ ? lookup_(name) : nullptr;
  if (value == nullptr && std::find(unset_.begin(), unset_.end(), name) == unset_.end()) {
    unset_.push_back(name);
  }
  return value;
}

// processStopOn: the word up to an unescaped `stop` character (or the end when kEnd).
Result<std::string> Lexer::Process(int stop) {
  std::string out;
  while (!AtEnd()) {
    const char c = s_[pos_];
    if (stop != kEnd && c == stop) {
      ++pos_;
      return out;
    }
    Result<std::string> part = std::string();
    if (c == '\'') {
      part = SingleQuote();
    } else if (c == '"') {
      part = DoubleQuote();
    } else if (c == '$') {
      part = Dollar();
    } else if (c == escape_) {
      ++pos_;  // the escaped character stands for itself; an escape at the end is dropped
      part = AtEnd() ? std::string() : std::string(1, s_[pos_++]);
    } else {
      ++pos_;
      part = std::string(1, c);
    }
    if (!part) return part;
    out += part.value();
  }
  if (stop != kEnd) return Error{"syntax error: missing '" + std::string(1, static_cast<char>(stop)) + "'"};
  return out;
}

// processSingleQuote: everything up to the next single quote, literally.
Result<std::string> Lexer::SingleQuote() {
  const size_t close = s_.find('\'', pos_ + 1);
  if (close == std::string_view::npos) {
    return Error{"unexpected end of statement while looking for matching single-quote"};
  }
  std::string out(s_.substr(pos_ + 1, close - pos_ - 1));
  pos_ = close + 1;
  return out;
}

// processDoubleQuote: `$` expands; the escape character escapes only `"`, `$` and itself.
Result<std::string> Lexer::DoubleQuote() {
  std::string out;
  ++pos_;
  while (!AtEnd()) {
    const char c = s_[pos_];
    if (c == '"') {
      ++pos_;
      return out;
    }
    if (c == '$') {
      Result<std::string> v = Dollar();
      if (!v) return v;
      out += v.value();
      continue;
    }
    ++pos_;
    if (c == escape_ && (Peek() == '"' || Peek() == '$' || Peek() == escape_)) {
      out += s_[pos_++];
      continue;
    }
    out += c;
  }
  return Error{"unexpected end of statement while looking for matching double-quote"};
}

// processName: letters, digits and '_'; a leading digit is a one-character name ($1).
std::string Lexer::Name() {
  if (std::isdigit(static_cast<unsigned char>(Peek()))) return std::string(1, s_[pos_++]);
  const size_t start = pos_;
  while (!AtEnd() && IsNameChar(s_[pos_])) ++pos_;
  return std::string(s_.substr(start, pos_ - start));
}

// processDollar: `$NAME`, `${...}`, or a literal `$`.
Result<std::string> Lexer::Dollar() {
  ++pos_;
  if (Peek() == '{') return Braced();
  const std::string name = Name();
  if (name.empty()) return std::string("$");
  const std::string* value = Get(name);
  return value ? *value : std::string();
}

// Removes the shortest (or longest) prefix or suffix of `value` that matches the glob.
std::string TrimPattern(const std::string& value, const std::string& pattern, bool prefix,
                        bool longest) {
  const size_t n = value.size();
  for (size_t k = 0; k <= n; ++k) {
    const size_t len = longest ? n - k : k;
    const std::string part = prefix ? value.substr(0, len) : value.substr(n - len);
    if (policy::GlobMatch(pattern, part)) return prefix ? value.substr(len) : value.substr(0, n - len);
  }
  return value;
}

Result<std::string> Lexer::Braced() {
  ++pos_;  // '{'
  if (AtEnd()) return Error{"syntax error: missing '}'"};
  if (Peek() == '{' || Peek() == '}' || Peek() == ':') return Error{"syntax error: bad substitution"};
  const std::string name = Name();
  if (AtEnd()) return Error{"syntax error: missing '}'"};
  char op = s_[pos_++];
  if (op == '}') {
    const std::string* value = Get(name);
    return value ? *value : std::string();
  }
  const bool colon = op == ':';
  if (colon) op = AtEnd() ? '\0' : s_[pos_++];
  const bool twice = (op == '#' || op == '%') && Peek() == op;
  if (twice) ++pos_;
  if (op != '-' && op != '+' && op != '?' && op != '#' && op != '%') {
    return Error{"unsupported modifier (" + std::string(colon ? ":" : "") + op +
                 ") in substitution of ${" + name + "}"};
  }
  Result<std::string> word = Process('}');
  if (!word) return word;
  const std::string* value = Get(name);
  const bool set = value != nullptr && !(colon && value->empty());
  switch (op) {
    case '-':
      return set ? *value : word.value();
    case '+':
      return set ? word.value() : std::string();
    case '?':
      if (set) return *value;
      return Error{name + ": " + (word.value().empty() ? "is not allowed to be unset" : word.value())};
    default:
      return TrimPattern(value ? *value : "", word.value(), op == '#', twice);
  }
}

}  // namespace

Result<Expanded> ExpandWord(std::string_view word, char escape, const VarLookup& lookup) {
  return Lexer(word, escape, lookup).Run();
}

// parseWords.
std::vector<std::string> SplitWords(std::string_view args, char escape) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false, blank_ok = false;
  char quote = 0;
  for (size_t i = 0; i < args.size(); ++i) {
    const char c = args[i];
    if (quote == 0 && IsBlank(c)) {
      if (in_word && (blank_ok || !word.empty())) words.push_back(word);
      word.clear();
      in_word = blank_ok = false;
      continue;
    }
    in_word = true;
    if (quote == 0 && (c == '\'' || c == '"')) {
      quote = c;
      blank_ok = true;
    } else if (quote != 0 && c == quote) {
      quote = 0;
    }
    if (c == escape && quote != '\'') {
      if (i + 1 == args.size()) continue;  // an escape at the very end is dropped
      word += c;
      word += args[++i];
      continue;
    }
    word += c;
  }
  if (in_word && (blank_ok || !word.empty())) words.push_back(word);
  return words;
}

}  // namespace rootgate::server::dockerfile
