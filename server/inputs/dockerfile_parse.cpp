// Dockerfile reading; comments name the BuildKit function each piece stands for.
#include "server/inputs/dockerfile_parse.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

namespace rootgate::server::dockerfile {

namespace {

constexpr std::array<std::string_view, 18> kInstructions = {
    "ADD",   "ARG",   "CMD",   "COPY",       "ENTRYPOINT", "ENV",     "EXPOSE", "FROM", "HEALTHCHECK",
    "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; }

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (IsSpace(s.front()) || s.front() == '\n')) s.remove_prefix(1);
  return s;
}

std::string_view Trim(std::string_view s) {
  s = TrimLeft(s);
  while (!s.empty() && (IsSpace(s.back()) || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// isComment: a line whose first non-space character is '#'.
bool IsComment(std::string_view line) {
  line = TrimLeft(line);
  return !line.empty() && line.front() == '#';
}

// The file's lines without their line breaks.
std::vector<std::string_view> SplitLines(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    while (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// trimContinuationCharacter: strips a trailing escape character (and blanks after it) unless it
// is itself escaped; returns whether the instruction ends on this line.
bool TrimContinuation(std::string& line, char escape) {
  size_t end = line.size();
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  if (end == 0 || line[end - 1] != escape) return true;
  if (end >= 2 && line[end - 2] == escape) return true;
  line.resize(end - 1);
  return false;
}

// Parser directives (directives.possibleParserDirective): `# key=value` lines before anything
// else; only `escape`, `syntax` and `check` are directives, any other key ends them.
class Directives {
 public:
  // Looks at a line; returns an error message for a bad or repeated directive.
  std::optional<std::string> See(std::string_view line);
  char escape() const { return escape_; }

 private:
  bool done_ = false;
  std::vector<std::string> seen_;
  char escape_ = '\\';
};

std::optional<std::string> Directives::See(std::string_view line) {
  if (done_) return std::nullopt;
  line = TrimLeft(line);
  size_t i = 1;
  const auto skip_blanks = [&] {
    while (i < line.size() && IsSpace(line[i])) ++i;
  };
  if (line.empty() || line[0] != '#') return done_ = true, std::nullopt;
  skip_blanks();
  const size_t key_start = i;
  while (i < line.size() && std::isalnum(static_cast<unsigned char>(line[i]))) ++i;
  const std::string key = Upper(line.substr(key_start, i - key_start));
  skip_blanks();
  const std::string_view value = i < line.size() && line[i] == '=' ? Trim(line.substr(i + 1)) : "";
  const bool known = key == "ESCAPE" || key == "SYNTAX" || key == "CHECK";
  if (key.empty() || !std::isalpha(static_cast<unsigned char>(key[0])) || value.empty() || !known) {
    return done_ = true, std::nullopt;
  }
  if (std::find(seen_.begin(), seen_.end(), key) != seen_.end()) {
    std::string lower = key;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return "only one " + lower + " parser directive can be used";
  }
  seen_.push_back(key);
  if (key != "ESCAPE") return std::nullopt;
  if (value != "\\" && value != "`") {
    return "invalid escape token '" + std::string(value) + "' does not match ` or \\";
  }
  escape_ = value[0];
  return std::nullopt;
}

// Words split at blanks outside quotes, quotes kept (the shell lexer with RawQuotes).
std::vector<std::string> RawWords(std::string_view s) {
  std::vector<std::string> words;
  std::string word;
  char quote = 0;
  bool in_word = false;
  for (char c : s) {
    if (quote == 0 && IsSpace(c)) {
      if (in_word) words.push_back(std::move(word)), word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    word += c;
    if (quote == 0 && (c == '"' || c == '\'')) {
      quote = c;
    } else if (c == quote) {
      quote = 0;
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

struct Heredoc {
  std::string name;
  bool chomp = false;  // `<<-`: leading tabs are stripped, also before the terminator
};

// heredocsFromLine / reHeredoc `^(\d*)<<(-?)([^<]*)$`: the heredocs a line opens, in order.
std::vector<Heredoc> HeredocsOf(std::string_view args) {
  std::vector<Heredoc> docs;
  for (const std::string& word : RawWords(args)) {
    size_t i = 0;
    while (i < word.size() && std::isdigit(static_cast<unsigned char>(word[i]))) ++i;
    if (word.compare(i, 2, "<<") != 0) continue;
    i += 2;
    Heredoc doc;
    if (i < word.size() && word[i] == '-') doc.chomp = true, ++i;
    const std::string rest = word.substr(i);
    if (rest.empty() || rest.find('<') != std::string::npos) continue;
    for (char c : rest) {
      if (c != '"' && c != '\'') doc.name += c;
    }
    if (!doc.name.empty()) docs.push_back(std::move(doc));
  }
  return docs;
}

// canContainHeredoc: RUN, COPY and ADD (also as an ONBUILD trigger), not in JSON form.
bool CanContainHeredoc(const Instruction& in) {
  std::string_view keyword = in.keyword;
  std::string_view args = in.args;
  if (keyword == "ONBUILD") {
    const size_t cut = std::min(args.find_first_of(" \t"), args.size());
    const std::string sub = Upper(args.substr(0, cut));
    args = TrimLeft(args.substr(cut));
    return (sub == "RUN" || sub == "COPY" || sub == "ADD") && !(args.starts_with("["));
  }
  return (keyword == "RUN" || keyword == "COPY" || keyword == "ADD") && !args.starts_with("[");
}

// splitCommand + extractBuilderFlags: the keyword, the leading `--flags`, then the arguments.
Instruction SplitCommand(std::string_view line) {
  Instruction in;
  line = Trim(line);
  size_t cut = 0;
  while (cut < line.size() && !IsSpace(line[cut])) ++cut;
  in.keyword = Upper(line.substr(0, cut));
  std::string_view rest = TrimLeft(line.substr(cut));
  while (rest.starts_with("--")) {
    size_t end = 0;
    while (end < rest.size() && !IsSpace(rest[end])) ++end;
    in.flags.emplace_back(rest.substr(0, end));
    rest = TrimLeft(rest.substr(end));
  }
  in.args = std::string(Trim(rest));
  return in;
}

// Reads lines into instructions; one object per call of ParseDockerfile.
class Reader {
 public:
  explicit Reader(std::string_view text) : lines_(SplitLines(text)) {}
  Dockerfile Run() &&;

 private:
  void ReadInstruction(std::string_view first);
  void ReadHeredocs(Instruction* in);
  void Directive(std::string_view line) {
    if (auto error = directives_.See(line)) out_.errors.push_back({static_cast<int>(next_), *error});
  }

  std::vector<std::string_view> lines_;
  size_t next_ = 0;  // index of the next line to read; after reading, the 1-based line number
  Directives directives_;
  Dockerfile out_;
};

Dockerfile Reader::Run() && {
  while (next_ < lines_.size()) {
    const std::string_view raw = lines_[next_++];
    Directive(raw);
    if (IsComment(raw)) continue;  // directives are comments too
    ReadInstruction(raw);
  }
  out_.escape = directives_.escape();
  if (out_.instructions.empty() && out_.errors.empty()) {
    out_.errors.push_back({static_cast<int>(std::max<size_t>(lines_.size(), 1)),
                           "file with no instructions"});
  }
  return std::move(out_);
}

void Reader::ReadInstruction(std::string_view first) {
  const int start = static_cast<int>(next_);
  std::string line(TrimLeft(first));
  bool ended = TrimContinuation(line, directives_.escape());
  if (ended && Trim(line).empty()) return;
  while (!ended && next_ < lines_.size()) {
    const std::string_view raw = lines_[next_++];
    Directive(raw);
    if (IsComment(raw) || TrimLeft(raw).empty()) continue;  // comments; empty continuation lines
    std::string part(raw);
    ended = TrimContinuation(part, directives_.escape());
    line += part;
  }
  Instruction in = SplitCommand(line);
  in.line = start;
  if (!IsKnownInstruction(in.keyword)) {
    out_.errors.push_back({start, "unknown instruction: " + in.keyword});
  }
  if (CanContainHeredoc(in)) ReadHeredocs(&in);
  in.end_line = static_cast<int>(next_);
  if (IsKnownInstruction(in.keyword)) out_.instructions.push_back(std::move(in));
}

void Reader::ReadHeredocs(Instruction* in) {
  for (const Heredoc& doc : HeredocsOf(in->args)) {
    bool terminated = false;
    while (!terminated && next_ < lines_.size()) {
      std::string_view body = lines_[next_++];
      if (doc.chomp) body.remove_prefix(std::min(body.find_first_not_of('\t'), body.size()));
      terminated = body == doc.name;
    }
    if (!terminated) {
      out_.errors.push_back({in->line, "unterminated heredoc <<" + doc.name +
                                           " (no line \"" + doc.name + "\" after it)"});
      return;
    }
  }
}

}  // namespace

bool IsKnownInstruction(std::string_view keyword) {
  return std::find(kInstructions.begin(), kInstructions.end(), keyword) != kInstructions.end();
}

Dockerfile ParseDockerfile(std::string_view text) { return Reader(text).Run(); }

}  // namespace rootgate::server::dockerfile
