// Build stages of a Dockerfile: FROM chains, ARG/ENV scopes and USER substitution, after
// BuildKit's instructions/parse.go and dockerfile2llb (stage naming, meta ARGs, ENV over ARG).
#include "server/inputs/dockerfile_stages.h"

#include <cctype>
#include <charconv>

#include "server/inputs/dockerfile_expand.h"

namespace rootgate::server::dockerfile {

namespace {

using MaybeValue = std::optional<std::string>;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> BlankSplit(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    const size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

// parseBuildStageName: ^[a-z][a-z0-9-_.]*$ after lower-casing.
bool ValidStageName(const std::string& name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

const std::string* Find(const std::map<std::string, MaybeValue>& vars, std::string_view name) {
  auto it = vars.find(std::string(name));
  return it != vars.end() && it->second ? &*it->second : nullptr;
}

// Walks the instructions in order; one object per BuildStages call.
class Builder {
 public:
  Builder(const Dockerfile& file, const BuildArgs& build_args)
      : file_(file), build_args_(build_args) {}
  Stages Run() &&;

 private:
  void Dispatch(const Instruction& in);
  void From(const Instruction& in);
  void Arg(const Instruction& in, bool global);
  void Env(const Instruction& in);
  void User(const Instruction& in);
  void Run(const Instruction& in);
  void Fail(const Instruction& in, const std::string& message) {
    out_.errors.push_back({in.line, in.keyword + ": " + message});
  }
  Stage& Current() { return out_.stages.back(); }
  // Values a word in the current stage sees: ENV first, then the stage's ARGs.
  VarLookup StageLookup() {
    return [this](std::string_view name) -> const std::string* {
      auto it = Current().env.find(std::string(name));
      return it != Current().env.end() ? &it->second : Find(args_, name);
    };
  }
  VarLookup GlobalLookup() const {
    return [this](std::string_view name) { return Find(globals_, name); };
  }

  const Dockerfile& file_;
  const BuildArgs& build_args_;
  Stages out_;
  std::map<std::string, MaybeValue> globals_;  // ARGs before the first FROM
  std::map<std::string, MaybeValue> args_;     // ARGs declared in the current stage
};

Stages Builder::Run() && {
  for (const Instruction& in : file_.instructions) Dispatch(in);
  return std::move(out_);
}

void Builder::Dispatch(const Instruction& in) {
  if (in.keyword == "FROM") return From(in);
  if (out_.stages.empty()) {
    if (in.keyword == "ARG") return Arg(in, true);
    return Fail(in, "no build stage in current context (only ARG may come before the first FROM)");
  }
  if (in.keyword == "ARG") return Arg(in, false);
  if (in.keyword == "ENV") return Env(in);
  if (in.keyword == "USER") return User(in);
  if (in.keyword == "RUN") return Run(in);
}

void Builder::From(const Instruction& in) {
  const std::vector<std::string> words = BlankSplit(in.args);
  Stage stage;
  stage.index = out_.stages.size();
  stage.line = in.line;
  args_.clear();
  const bool named = words.size() == 3 && Lower(words[1]) == "as";
  if (!named && words.size() != 1) {
    Fail(in, "requires either one or three arguments (FROM image [AS name])");
  } else if (named && !ValidStageName(Lower(words[2]))) {
    Fail(in, "invalid name for build stage: \"" + words[2] +
                 "\", name can't start with a number or contain symbols");
  } else if (named) {
    stage.name = Lower(words[2]);
    if (FindStage(out_, stage.name)) Fail(in, "duplicate stage name \"" + stage.name + "\"");
  }
  if (!words.empty()) {
    Result<Expanded> base = ExpandWord(words[0], file_.escape, GlobalLookup());
    if (!base) Fail(in, base.error());
    if (base && base.value().value.empty()) Fail(in, "base name (" + words[0] + ") should not be blank");
    if (base) stage.base = base.value().value;
  }
  for (const Stage& s : out_.stages) {
    if (!s.name.empty() && s.name == Lower(stage.base)) stage.parent = s.index;
  }
  if (stage.parent) stage.env = out_.stages[*stage.parent].env;
  out_.stages.push_back(std::move(stage));
}

void Builder::Arg(const Instruction& in, bool global) {
  const std::vector<std::string> words = SplitWords(in.args, file_.escape);
  if (words.empty()) return Fail(in, "requires at least one argument");
  for (const std::string& word : words) {
    const size_t eq = word.find('=');
    const std::string name = word.substr(0, eq);
    if (name.empty()) return Fail(in, "names can not be blank");
    MaybeValue value;
    if (eq != std::string::npos) {
      Result<Expanded> def =
          ExpandWord(word.substr(eq + 1), file_.escape, global ? GlobalLookup() : StageLookup());
      if (!def) return Fail(in, def.error());
      value = def.value().value;
    } else if (!global) {
      if (const std::string* g = Find(globals_, name)) value = *g;
    }
    if (auto it = build_args_.find(name); it != build_args_.end()) value = it->second;
    (global ? globals_ : args_)[name] = value;
  }
}

void Builder::Env(const Instruction& in) {
  const std::vector<std::string> words = SplitWords(in.args, file_.escape);
  if (words.empty()) return Fail(in, "requires at least one argument");
  std::vector<std::pair<std::string, std::string>> pairs;  // name, value as written
  if (words[0].find('=') == std::string::npos) {
    const std::vector<std::string> legacy = BlankSplit(in.args);
    if (legacy.size() < 2) return Fail(in, "must have two arguments (ENV name value, or ENV name=value ...)");
    // The blanks BlankSplit splits on (BuildKit: [\t\v\f\r ]+), not only space and tab: with
    // `ENV A\fb` the value would have no start and substr would throw.
    constexpr const char* kBlanks = " \t\n\v\f\r";
    const size_t value_at = in.args.find_first_not_of(kBlanks, in.args.find_first_of(kBlanks));
    pairs.emplace_back(legacy[0], in.args.substr(value_at));
  } else {
    for (const std::string& word : words) {
      const size_t eq = word.find('=');
      if (eq == std::string::npos) {
        return Fail(in, "Syntax error - can't find = in \"" + word + "\". Must be of the form: name=value");
      }
      if (eq == 0) return Fail(in, "names can not be blank");
      pairs.emplace_back(word.substr(0, eq), word.substr(eq + 1));
    }
  }
  std::vector<std::pair<std::string, std::string>> values;  // all expanded before any is set
  for (const auto& [name, written] : pairs) {
    Result<Expanded> v = ExpandWord(written, file_.escape, StageLookup());
    if (!v) return Fail(in, v.error());
    values.emplace_back(name, v.value().value);
  }
  for (auto& [name, value] : values) Current().env[name] = std::move(value);
}

void Builder::User(const Instruction& in) {
  if (in.args.empty()) return Fail(in, "requires exactly one argument (USER user[:group])");
  Result<Expanded> v = ExpandWord(in.args, file_.escape, StageLookup());
  if (!v) return Fail(in, v.error());
  Current().users.push_back({in.line, in.args, v.value().value, v.value().unset});
}

// The shell sees ARG and ENV values in its environment: -u "$APP_UID" is expanded with them.
void Builder::Run(const Instruction& in) {
  RunUsers found = UsersCreatedBy(in.args);
  for (CreatedUser& c : found.created) {
    UserCreation made{in.line, c.name, std::nullopt, "", c.command};
    if (c.name.find('$') != std::string::npos) {
      Result<Expanded> n = ExpandWord(c.name, file_.escape, StageLookup());
      if (!n || !n.value().unset.empty()) continue;  // a name not known here creates nothing known
      made.name = n.value().value;
    }
    if (!c.uid_word.empty()) {
      Result<Expanded> v = ExpandWord(c.uid_word, file_.escape, StageLookup());
      const std::string uid = v ? v.value().value : "";
      int64_t n = 0;
      auto [p, ec] = std::from_chars(uid.data(), uid.data() + uid.size(), n);
      if (!v || !v.value().unset.empty() || uid.empty() || ec != std::errc() || p != uid.data() + uid.size()) {
        made.uid_problem = "its uid " + c.uid_word + " (line " + std::to_string(in.line) +
                           ") is not a number this Dockerfile gives";
      } else {
        made.uid = n;
      }
    }
    Current().created_users.push_back(std::move(made));
  }
  for (std::string& cmd : found.passwd_changes) Current().passwd_changes.push_back({in.line, std::move(cmd)});
}

}  // namespace

Stages BuildStages(const Dockerfile& file, const BuildArgs& build_args) {
  return Builder(file, build_args).Run();
}

std::optional<size_t> FindStage(const Stages& stages, std::string_view target) {
  const std::string want = Lower(target);
  for (const Stage& s : stages.stages) {
    if (!s.name.empty() && s.name == want) return s.index;
  }
  return std::nullopt;
}

}  // namespace rootgate::server::dockerfile
