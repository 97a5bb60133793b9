#include "server/inputs/dockerfile_useradd.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <initializer_list>

#include <nlohmann/json.hpp>

namespace rootgate::server::dockerfile {

namespace {

using Words = std::vector<std::string>;

// Shell text → commands of words: quotes removed, `\` escapes the next character outside
// single quotes, commands end at `&&`, `||`, `;`, `|`, `&`, `(`, `)` and newlines.
std::vector<Words> ShellCommands(std::string_view text) {
  std::vector<Words> out(1);
  std::string word;
  bool in_word = false;
  auto end_word = [&] {
    if (in_word) out.back().push_back(word);
    word.clear();
    in_word = false;
  };
  auto end_command = [&] {
    end_word();
    if (!out.back().empty()) out.emplace_back();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'') {
      const size_t close = text.find('\'', i + 1);
      word += text.substr(i + 1, close == std::string_view::npos ? close : close - i - 1);
      in_word = true;
      i = close == std::string_view::npos ? text.size() : close;
    } else if (c == '"') {
      in_word = true;
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        word += text[i];
      }
    } else if (c == '\\' && i + 1 < text.size()) {
      if (text[i + 1] != '\n') word += text[i + 1], in_word = true;
      ++i;
    } else if (c == ' ' || c == '\t' || c == '\r') {
      end_word();
    } else if (c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')') {
      end_command();
    } else {
      word += c;
      in_word = true;
    }
  }
  end_word();
  if (out.back().empty()) out.pop_back();
  return out;
}

std::string Basename(const std::string& path) { return path.substr(path.rfind('/') + 1); }

std::string Join(const Words& words) {
  std::string s;
  for (const std::string& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

// Drops what runs a command without being it: `sudo`, `exec`, `command`, `env`, VAR=value.
Words CommandProper(Words w) {
  size_t i = 0;
  while (i < w.size()) {
    const std::string b = Basename(w[i]);
    const bool assignment = w[i].find('=') != std::string::npos && w[i][0] != '-' && w[i][0] != '=';
    if (b == "sudo" || b == "exec" || b == "command" || b == "env" || assignment) {
      ++i;
    } else {
      break;
    }
  }
  return Words(w.begin() + static_cast<std::ptrdiff_t>(std::min(i, w.size())), w.end());
}

// getopt-style options: short clusters (`-ou0`, `-u 1000`), long ones (`--uid=1000`,
// `--uid 1000`, unique prefixes as getopt_long takes them). Values of the options named in
// `with_value` are consumed; the rest are flags. Positionals are returned in order.
struct Parsed {
  std::vector<std::pair<std::string, std::string>> options;  // canonical name, value
  Words positionals;
};

struct OptionTable {
  std::string_view short_with_value;                  // "u" for -u UID
  std::vector<std::string_view> long_with_value;      // "uid"
  std::vector<std::string_view> long_flags;           // "system"
};

std::string LongName(std::string_view given, const OptionTable& t, bool* takes_value) {
  std::vector<std::string_view> hits;
  for (auto list : {&t.long_with_value, &t.long_flags}) {
    for (std::string_view n : *list) {
      if (n == given) {
        *takes_value = list == &t.long_with_value;
        return std::string(n);
      }
      if (n.rfind(given, 0) == 0) hits.push_back(n);
    }
  }
  if (hits.size() != 1) {
    *takes_value = false;
    return std::string(given);
  }
  *takes_value = std::find(t.long_with_value.begin(), t.long_with_value.end(), hits[0]) != t.long_with_value.end();
  return std::string(hits[0]);
}

Parsed ParseOptions(const Words& args, const OptionTable& t) {
  Parsed p;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      p.positionals.insert(p.positionals.end(), args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (a.rfind("--", 0) == 0) {
      const size_t eq = a.find('=');
      bool takes = false;
      const std::string name = LongName(std::string_view(a).substr(2, eq == std::string::npos ? eq : eq - 2), t, &takes);
      std::string value;
      if (eq != std::string::npos) {
        value = a.substr(eq + 1);
      } else if (takes && i + 1 < args.size()) {
        value = args[++i];
      }
      p.options.emplace_back(name, value);
    } else if (a.size() > 1 && a[0] == '-') {
      for (size_t k = 1; k < a.size(); ++k) {
        const std::string name(1, a[k]);
        if (t.short_with_value.find(a[k]) == std::string_view::npos) {
          p.options.emplace_back(name, "");
          continue;
        }
        std::string value = a.substr(k + 1);
        if (value.empty() && i + 1 < args.size()) value = args[++i];
        p.options.emplace_back(name, value);
        break;
      }
    } else {
      p.positionals.push_back(a);
    }
  }
  return p;
}

bool Has(const Parsed& p, std::initializer_list<std::string_view> names) {
  for (const auto& [n, v] : p.options) {
    if (std::find(names.begin(), names.end(), n) != names.end()) return true;
  }
  return false;
}

std::string ValueOf(const Parsed& p, std::initializer_list<std::string_view> names) {
  std::string value;
  for (const auto& [n, v] : p.options) {
    if (std::find(names.begin(), names.end(), n) != names.end()) value = v;  // the last wins
  }
  return value;
}

// shadow-utils useradd (Debian, Ubuntu, Fedora, ...).
void Useradd(const Words& cmd, RunUsers* out) {
  static const OptionTable t{"bcdefgGkKpRPsuZ",
                             {"base-dir", "comment", "home-dir", "expiredate", "inactive", "gid", "groups",
                              "skel", "key", "password", "root", "prefix", "shell", "uid", "selinux-user",
                              "selinux-range"},
                             {"defaults", "help", "no-log-init", "create-home", "no-create-home",
                              "no-user-group", "non-unique", "system", "user-group",
                              "add-subids-for-system", "btrfs-subvolume-home", "extrausers"}};
  const Parsed p = ParseOptions(Words(cmd.begin() + 1, cmd.end()), t);
  // -D changes defaults; -R/-P write another root's /etc/passwd: no user in this image's.
  if (Has(p, {"D", "defaults", "h", "help", "R", "root", "P", "prefix"}) || p.positionals.size() != 1) return;
  out->created.push_back({p.positionals[0], ValueOf(p, {"u", "uid"}), Join(cmd)});
}

// Debian's adduser (long options) and BusyBox's (short ones, as in Alpine).
void Adduser(const Words& cmd, RunUsers* out) {
  static const OptionTable t{"hgsGuk",
                             {"home", "shell", "uid", "firstuid", "lastuid", "gecos", "comment", "ingroup",
                              "gid", "conf", "firstgid", "lastgid", "skel", "key"},
                             {"disabled-password", "disabled-login", "no-create-home", "system", "group",
                              "quiet", "debug", "force-badname", "allow-badname", "allow-all-names",
                              "add_extra_groups", "add-extra-groups", "encrypt-home", "help", "version",
                              "verbose", "empty-password", "no-preserve-home"}};
  const Parsed p = ParseOptions(Words(cmd.begin() + 1, cmd.end()), t);
  // `adduser --group NAME` makes a group; `adduser USER GROUP` adds a user to a group.
  if (Has(p, {"group"}) && !Has(p, {"system", "S"})) return;
  if (Has(p, {"help", "version"}) || p.positionals.size() != 1) return;
  out->created.push_back({p.positionals[0], ValueOf(p, {"u", "uid"}), Join(cmd)});
}

bool Redirection(const std::string& w) {
  return !w.empty() && (w[0] == '>' || (w.size() > 1 && std::isdigit(static_cast<unsigned char>(w[0])) && w[1] == '>'));
}

// A command that may write /etc/passwd other than by creating a user.
bool ChangesPasswd(const Words& cmd) {
  static const std::array<std::string_view, 6> kTools = {"usermod", "chpasswd", "vipw", "newusers", "pwconv", "lusermod"};
  const std::string name = Basename(cmd[0]);
  if (std::find(kTools.begin(), kTools.end(), name) != kTools.end()) return true;
  static const std::array<std::string_view, 10> kReaders = {"cat", "grep", "head", "tail", "getent", "ls",
                                                           "stat", "test", "[", "wc"};
  const bool reader = std::find(kReaders.begin(), kReaders.end(), name) != kReaders.end();
  for (size_t i = 1; i < cmd.size(); ++i) {
    if (cmd[i].find("/etc/passwd") == std::string::npos) continue;
    if (!reader || Redirection(cmd[i]) || Redirection(cmd[i - 1])) return true;
  }
  return false;
}

Words ExecForm(std::string_view args) {
  Words w;
  try {
    const nlohmann::json j = nlohmann::json::parse(args);
    if (!j.is_array()) return {};
    for (const auto& e : j) {
      if (!e.is_string()) return {};
      w.push_back(e.get<std::string>());
    }
  } catch (const nlohmann::json::exception&) {
    return {};
  }
  return w;
}

}  // namespace

RunUsers UsersCreatedBy(std::string_view run_args) {
  RunUsers out;
  std::vector<Words> commands;
  if (!run_args.empty() && run_args[0] == '[') {
    Words exec = ExecForm(run_args);
    // ["sh", "-c", "..."] runs shell text.
    if (exec.size() >= 3 && (Basename(exec[0]) == "sh" || Basename(exec[0]) == "bash") && exec[1] == "-c") {
      commands = ShellCommands(exec[2]);
    } else if (!exec.empty()) {
      commands.push_back(std::move(exec));
    }
  }
  if (commands.empty()) commands = ShellCommands(run_args);
  for (const Words& raw : commands) {
    const Words cmd = CommandProper(raw);
    if (cmd.empty()) continue;
    const std::string name = Basename(cmd[0]);
    if (name == "useradd") {
      Useradd(cmd, &out);
    } else if (name == "adduser") {
      Adduser(cmd, &out);
    } else if (ChangesPasswd(cmd)) {
      out.passwd_changes.push_back(Join(cmd));
    }
  }
  return out;
}

}  // namespace rootgate::server::dockerfile
