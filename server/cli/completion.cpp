#include "server/cli/completion.h"

#include <array>

#include "policy/policy.h"
#include "server/cli/help.h"

namespace rootgate::server {

namespace {

constexpr const char* kUsage =
    "usage: rootgate completion bash|zsh|fish\n"
    "  prints a completion script for the shell (verbs, flags, preset names, output formats,\n"
    "  file names). Load it with:\n"
    "    bash: source <(rootgate completion bash)       (e.g. in ~/.bashrc)\n"
    "    zsh:  source <(rootgate completion zsh)        (after compinit, e.g. in ~/.zshrc)\n"
    "    fish: rootgate completion fish | source        (or save it as\n"
    "          ~/.config/fish/completions/rootgate.fish)\n";

// What a flag takes: nothing, or a value completed as files, directories, fixed words, or not
// at all (free text such as an address or a duration).
enum class Value { kSwitch, kText, kFile, kDir, kWords };

struct Flag {
  std::string_view name;   // "--policy", or "-o"
  Value value;
  std::string_view words;  // kWords: the choices, space-separated; "presets": the preset names
};

Flag Switch(std::string_view name) { return {name, Value::kSwitch, ""}; }
Flag Text(std::string_view name) { return {name, Value::kText, ""}; }
Flag File(std::string_view name) { return {name, Value::kFile, ""}; }
Flag Words(std::string_view name, std::string_view words) { return {name, Value::kWords, words}; }

struct Verb {
  std::string_view name;
  std::vector<Flag> flags;
  bool files;              // positional arguments are files
  std::string_view words;  // or these words ("verbs": the verb names), as the first argument
};

const std::vector<Flag>& RegistryFlags() {
  static const std::vector<Flag> flags = {
      Text("--allow-registry"),    Text("--insecure-registry"),    File("--registry-auth"),
      File("--registry-ca"),       Text("--platform"),             Switch("--offline"),
      Text("--image-cache-size"),  Text("--image-cache-ttl"),      Text("--image-failure-ttl"),
      Text("--named-user-max-bytes"), Text("--registry-workers")};
  return flags;
}

std::string PresetNames() {
  std::string names;
  for (policy::Preset p : {policy::Preset::kDefault, policy::Preset::kPssRestricted, policy::Preset::kPssBaseline}) {
    names += (names.empty() ? "" : " ") + std::string(policy::PresetName(p));
  }
  return names;
}

// The verbs with their flags, as their --help lists them (tests/cli_test.sh compares).
std::vector<Verb> Verbs() {
  const Flag help = Switch("--help"), h = Switch("-h"), policy = File("--policy"), preset = Words("--preset", "presets");
  const Flag resolve = Switch("--resolve-images"), timeout = Text("--registry-timeout");
  const std::string_view formats = "text json junit sarif";
  std::vector<Verb> verbs = {
      {"serve",
       {help, h, Text("--listen"), Text("--health-listen"), File("--tls-cert"), File("--tls-key"), File("--client-ca"),
        policy, preset, Words("--log-level", "debug info warn error off"), Words("--log-format", "json text"),
        Text("--max-body"), Text("--grace-period"), Text("--reload-interval"), {"--state-dir", Value::kDir, ""},
        Text("--threads"), Text("--max-connections"), Text("--read-timeout"), Text("--idle-timeout"),
        Words("--http-parser", "rootgate library"), Switch("--kube-api"), File("--kubeconfig"),
        Text("--audit-interval"), Switch("--write-reports"),
        Words("--report-api", "wgpolicyk8s.io/v1alpha2 openreports.io/v1alpha1"), Text("--audit-qps"),
        Text("--audit-burst"), Text("--audit-lease-namespace")},
       false, ""},
      {"check",
       {help, h, policy, preset, Words("-o", formats), Words("--output", formats),
        Words("--type", "auto manifest dockerfile image-config compose"), Text("--build-arg"), Text("--target"),
        Text("--image"), File("-f"), File("--file"), File("--env-file"), resolve, timeout,
        File("--kubeconfig"), Text("--context")},
       true, ""},
      {"test", {help, h}, true, ""},
      {"review", {help, h, policy, preset, resolve, timeout}, true, ""},
      {"audit",
       {help, h, File("--kubeconfig"), Text("--context"), Text("-n"), Text("--namespace"), Switch("-A"),
        Switch("--all-namespaces"), policy, preset, Words("-o", "text json junit sarif policyreport"),
        Words("--output", "text json junit sarif policyreport"),
        Words("--report-api", "wgpolicyk8s.io/v1alpha2 openreports.io/v1alpha1"), Switch("--write-reports"),
        Text("--page-size"), Text("--request-timeout"), resolve, timeout},
       false, ""},
      {"version", {help, h}, false, ""},
      {"completion", {help, h}, false, "bash zsh fish"},
      {"help", {}, false, "verbs"},
  };
  for (Verb& v : verbs) {
    if (v.name == "serve" || v.name == "check" || v.name == "review" || v.name == "audit") {
      v.flags.insert(v.flags.end(), RegistryFlags().begin(), RegistryFlags().end());
    }
  }
  return verbs;
}

std::string Join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : sep) + p;
  return out;
}

std::string VerbNames() {
  std::vector<std::string> names;
  for (const Verb& v : Verbs()) names.emplace_back(v.name);
  return Join(names, " ");
}

std::string Choices(std::string_view words) {
  if (words == "presets") return PresetNames();
  if (words == "verbs") return VerbNames();
  return std::string(words);
}

// Flags of all verbs that take a value, grouped by what completes it (one case arm each).
struct ValueArms {
  std::vector<std::string> files, dirs, text;  // text: nothing to offer
  std::vector<std::pair<std::string, std::string>> words;  // "-o|--output", their choices
};

// Flags with the same choices share an arm: "-o|--output".
void AddWords(ValueArms* a, std::string_view flag, const std::string& choices) {
  for (auto& [flags, c] : a->words) {
    if (c == choices) {
      flags += "|" + std::string(flag);
      return;
    }
  }
  a->words.emplace_back(std::string(flag), choices);
}

ValueArms Arms() {
  ValueArms a;
  auto seen = [](const std::vector<std::string>& v, std::string_view n) {
    for (const std::string& s : v) {
      if (s == n) return true;
    }
    return false;
  };
  std::vector<std::string> all;
  for (const Verb& v : Verbs()) {
    for (const Flag& f : v.flags) {
      if (f.value == Value::kSwitch || seen(all, f.name)) continue;
      all.emplace_back(f.name);
      switch (f.value) {
        case Value::kFile: a.files.emplace_back(f.name); break;
        case Value::kDir: a.dirs.emplace_back(f.name); break;
        case Value::kWords: AddWords(&a, f.name, Choices(f.words)); break;
        case Value::kText: a.text.emplace_back(f.name); break;
        case Value::kSwitch: break;
      }
    }
  }
  return a;
}

std::string FlagNames(const Verb& v) {
  std::vector<std::string> names;
  for (const Flag& f : v.flags) names.emplace_back(f.name);
  return Join(names, " ");
}

std::string Bash() {
  const ValueArms a = Arms();
  std::string s =
      "# bash completion for rootgate: source <(rootgate completion bash)\n"
      "_rootgate() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\" flags=\"\" words=\"\" files=0\n"
      "  COMPREPLY=()\n"
      "  if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
      "    mapfile -t COMPREPLY < <(compgen -W \"" + VerbNames() + " --help --version\" -- \"$cur\")\n"
      "    return 0\n"
      "  fi\n"
      "  case \"$prev\" in\n";
  for (const auto& [flags, choices] : a.words) {
    s += "    " + flags + ") mapfile -t COMPREPLY < <(compgen -W \"" + choices + "\" -- \"$cur\"); return 0 ;;\n";
  }
  s += "    " + Join(a.files, "|") + ")\n      compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- \"$cur\"); return 0 ;;\n";
  s += "    " + Join(a.dirs, "|") + ")\n      compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- \"$cur\"); return 0 ;;\n";
  s += "    " + Join(a.text, "|") + ")\n      return 0 ;;\n";
  s += "  esac\n  case \"${COMP_WORDS[1]}\" in\n";
  for (const Verb& v : Verbs()) {
    s += "    " + std::string(v.name) + ") flags=\"" + FlagNames(v) + "\" words=\"" + Choices(v.words) +
         "\" files=" + (v.files ? "1" : "0") + " ;;\n";
  }
  s += "    *) return 0 ;;\n  esac\n"
       "  if [[ \"$cur\" == -* ]]; then\n"
       "    mapfile -t COMPREPLY < <(compgen -W \"$flags\" -- \"$cur\")\n"
       "  elif [ -n \"$words\" ]; then\n"
       "    [ \"$COMP_CWORD\" -eq 2 ] && mapfile -t COMPREPLY < <(compgen -W \"$words\" -- \"$cur\")\n"
       "  elif [ \"$files\" = 1 ]; then\n"
       "    compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
       "  fi\n"
       "  return 0\n"
       "}\n"
       "complete -F _rootgate rootgate\n";
  return s;
}

std::string Zsh() {
  const ValueArms a = Arms();
  std::string s =
      "#compdef rootgate\n"
      "# zsh completion for rootgate: source <(rootgate completion zsh), or save as _rootgate in $fpath\n"
      "_rootgate() {\n"
      "  local prev=${words[CURRENT-1]} verb=${words[2]} files=0\n"
      "  local -a flags choices\n"
      "  if (( CURRENT == 2 )); then\n"
      "    compadd -- " + VerbNames() + " --help --version\n"
      "    return\n"
      "  fi\n"
      "  case $prev in\n";
  for (const auto& [flags, choices] : a.words) s += "    " + flags + ") compadd -- " + choices + "; return ;;\n";
  s += "    " + Join(a.files, "|") + ") _files; return ;;\n";
  s += "    " + Join(a.dirs, "|") + ") _files -/; return ;;\n";
  s += "    " + Join(a.text, "|") + ") return ;;\n";
  s += "  esac\n  case $verb in\n";
  for (const Verb& v : Verbs()) {
    s += "    " + std::string(v.name) + ") flags=(" + FlagNames(v) + ") choices=(" + Choices(v.words) +
         ") files=" + (v.files ? "1" : "0") + " ;;\n";
  }
  s += "    *) return ;;\n  esac\n"
       "  if [[ $PREFIX == -* ]]; then\n"
       "    compadd -- $flags\n"
       "  elif (( ${#choices} )); then\n"
       "    (( CURRENT == 3 )) && compadd -- $choices\n"
       "  elif (( files )); then\n"
       "    _files\n"
       "  fi\n"
       "}\n"
       "if [ \"$funcstack[1]\" = \"_rootgate\" ]; then\n"
       "  _rootgate \"$@\"\n"
       "else\n"
       "  compdef _rootgate rootgate\n"
       "fi\n";
  return s;
}

std::string Fish() {
  std::string s =
      "# fish completion for rootgate: rootgate completion fish | source\n"
      "complete -c rootgate -f\n"
      "complete -c rootgate -n __fish_use_subcommand -a '" + VerbNames() + "'\n"
      "complete -c rootgate -n __fish_use_subcommand -l help -l version\n";
  for (const Verb& v : Verbs()) {
    const std::string when = "-n '__fish_seen_subcommand_from " + std::string(v.name) + "'";
    if (v.files) s += "complete -c rootgate " + when + " -F\n";
    if (!v.words.empty()) s += "complete -c rootgate " + when + " -a '" + Choices(v.words) + "'\n";
    for (const Flag& f : v.flags) {
      const bool single = f.name.size() == 2;
      std::string line = "complete -c rootgate " + when + (single ? " -s " : " -l ") +
                         std::string(f.name.substr(single ? 1 : 2));
      switch (f.value) {
        case Value::kFile: line += " -r -F"; break;
        case Value::kDir: line += " -x -a '(__fish_complete_directories)'"; break;
        case Value::kWords: line += " -x -a '" + Choices(f.words) + "'"; break;
        case Value::kText: line += " -x"; break;
        case Value::kSwitch: break;
      }
      s += line + "\n";
    }
  }
  return s;
}

}  // namespace

std::optional<std::string> CompletionScript(std::string_view shell) {
  if (shell == "bash") return Bash();
  if (shell == "zsh") return Zsh();
  if (shell == "fish") return Fish();
  return std::nullopt;
}

int RunCompletion(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (AsksForHelp(args)) {
    out << kUsage;
    return 0;
  }
  if (args.size() != 1) {
    err << "rootgate completion: " << (args.empty() ? "no shell given" : "one shell only") << "\n" << kUsage;
    return 2;
  }
  auto script = CompletionScript(args[0]);
  if (!script) {
    err << "rootgate completion: unknown shell \"" << args[0] << "\" (known: bash, zsh, fish)\n" << kUsage;
    return 2;
  }
  out << *script;
  return 0;
}

}  // namespace rootgate::server
