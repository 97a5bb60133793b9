#include "server/registry/www_authenticate.h"

#include <cctype>

namespace rootgate::server {

namespace {

// tchar of RFC 7230 §3.2.6.
bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
      return true;
    default:
      return false;
  }
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A cursor over the header text.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  bool AtEnd() const { return i_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[i_]; }
  size_t pos() const { return i_; }
  void Reset(size_t pos) { i_ = pos; }
  void Advance() { ++i_; }

  void SkipSpace() {
    while (!AtEnd() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  // Skips spaces and list separators between challenges or parameters.
  void SkipSeparators() {
    while (!AtEnd() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ',')) ++i_;
  }
  std::string_view Token() {
    size_t start = i_;
    while (!AtEnd() && IsTokenChar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  std::string_view Token68() {
    size_t start = i_;
    while (!AtEnd() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                        std::string_view("-._~+/").find(s_[i_]) != std::string_view::npos)) {
      ++i_;
    }
    while (!AtEnd() && s_[i_] == '=') ++i_;
    return s_.substr(start, i_ - start);
  }
  // A quoted-string, the cursor on its opening quote. False when it never closes.
  bool Quoted(std::string* out) {
    ++i_;
    while (!AtEnd()) {
      char c = s_[i_++];
      if (c == '"') return true;
      if (c == '\\' && !AtEnd()) c = s_[i_++];
      out->push_back(c);
    }
    return false;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

enum class ParamStep { kParam, kNotAParam, kBroken };

// Tries to read `name = value` at the cursor. Leaves the cursor where it was when the text there
// is not a parameter: the next challenge's scheme, or a token68 ("abc==").
ParamStep ReadParam(Scanner& sc, AuthChallenge* ch) {
  const size_t start = sc.pos();
  std::string_view name = sc.Token();
  sc.SkipSpace();
  if (name.empty() || sc.Peek() != '=') {
    sc.Reset(start);
    return ParamStep::kNotAParam;
  }
  sc.Advance();
  sc.SkipSpace();
  std::string value;
  if (sc.Peek() == '"') {
    if (!sc.Quoted(&value)) return ParamStep::kBroken;
  } else {
    value = std::string(sc.Token());
    if (value.empty()) {  // "abc==" or "abc=": token68 padding, not a parameter
      sc.Reset(start);
      return ParamStep::kNotAParam;
    }
  }
  ch->params[Lower(name)] = std::move(value);
  return ParamStep::kParam;
}

// Reads what follows a scheme: nothing, a token68, or a comma-separated list of parameters.
// Stops before the next challenge's scheme. False on text that is neither.
bool ReadChallengeBody(Scanner& sc, AuthChallenge* ch) {
  sc.SkipSpace();
  if (sc.AtEnd() || sc.Peek() == ',') return true;
  ParamStep step = ReadParam(sc, ch);
  if (step == ParamStep::kNotAParam) {
    std::string_view t68 = sc.Token68();
    sc.SkipSpace();
    if (t68.empty() || !(sc.AtEnd() || sc.Peek() == ',')) return false;
    ch->token68 = std::string(t68);
    return true;
  }
  while (step == ParamStep::kParam) {
    sc.SkipSpace();
    if (sc.AtEnd()) return true;
    if (sc.Peek() != ',') return false;
    sc.SkipSeparators();
    if (sc.AtEnd()) return true;
    step = ReadParam(sc, ch);
  }
  return step == ParamStep::kNotAParam;  // the next challenge starts here
}

}  // namespace

std::string AuthChallenge::Param(const std::string& name) const {
  auto it = params.find(name);
  return it == params.end() ? std::string() : it->second;
}

std::vector<AuthChallenge> ParseWwwAuthenticate(std::string_view header) {
  std::vector<AuthChallenge> out;
  Scanner sc(header);
  while (true) {
    sc.SkipSeparators();
    if (sc.AtEnd()) return out;
    std::string_view scheme = sc.Token();
    if (scheme.empty()) return out;
    AuthChallenge ch;
    ch.scheme = Lower(scheme);
    const bool ok = ReadChallengeBody(sc, &ch);
    out.push_back(std::move(ch));
    if (!ok) return out;
  }
}

const AuthChallenge* FindChallenge(const std::vector<AuthChallenge>& challenges,
                                   std::string_view scheme) {
  for (const AuthChallenge& c : challenges) {
    if (c.scheme == scheme) return &c;
  }
  return nullptr;
}

}  // namespace rootgate::server
