#include "server/inputs/manifest_lines.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <unordered_set>
#include <variant>
#include <vector>

namespace rootgate::server {

namespace {

using Segment = std::variant<std::string, size_t>;  // a mapping key or a sequence index

// "a.b[2].c" → {"a", "b", 2, "c"}; "[0].x" → {0, "x"}.
std::vector<Segment> SplitPath(std::string_view path) {
  std::vector<Segment> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
    } else if (path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string_view::npos) break;
      size_t index = 0;
      std::from_chars(path.data() + i + 1, path.data() + close, index);
      out.emplace_back(index);
      i = close + 1;
    } else {
      const size_t end = std::min(path.find_first_of(".[", i), path.size());
      out.emplace_back(std::string(path.substr(i, end - i)));
      i = end;
    }
  }
  return out;
}

// Every prefix of a field path, shortest first: "spec", "spec.containers",
// "spec.containers[0]", ...
std::vector<std::string> PathPrefixes(const std::string& path) {
  std::vector<std::string> out;
  std::string prefix;
  for (const Segment& s : SplitPath(path)) {
    if (const auto* key = std::get_if<std::string>(&s)) {
      prefix += (prefix.empty() ? "" : ".") + *key;
    } else {
      prefix += "[" + std::to_string(std::get<size_t>(s)) + "]";
    }
    out.push_back(prefix);
  }
  return out;
}

// The line of the deepest prefix of `path` found in `lines` (paths of every prefix).
int DeepestLine(const std::string& path, const std::map<std::string, int>& lines, int fallback) {
  int line = fallback;
  for (const std::string& prefix : PathPrefixes(path)) {
    auto it = lines.find(prefix);
    if (it == lines.end()) break;
    line = it->second;
  }
  return line;
}

// Walks well-formed JSON text, recording the line of every wanted path (and of its prefixes).
class JsonWalker {
 public:
  JsonWalker(std::string_view text, const std::unordered_set<std::string>& wanted)
      : text_(text), wanted_(wanted) {}
  std::map<std::string, int> Run() && {
    std::string path;
    Value(&path, 0);
    return std::move(lines_);
  }

 private:
  static constexpr int kMaxDepth = 256;

  char Peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void Blanks() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      if (text_[pos_++] == '\n') ++line_;
    }
  }
  void Record(const std::string& path) {
    if (wanted_.count(path) != 0) lines_.emplace(path, line_);
  }
  std::string String();
  void Value(std::string* path, int depth);
  void Object(std::string* path, int depth);
  void Array(std::string* path, int depth);

  std::string_view text_;
  const std::unordered_set<std::string>& wanted_;
  size_t pos_ = 0;
  int line_ = 1;
  std::map<std::string, int> lines_;
};

std::string JsonWalker::String() {
  std::string out;
  ++pos_;  // opening quote
  while (pos_ < text_.size() && text_[pos_] != '"') {
    if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;  // keeps the escaped character
    out += text_[pos_++];
  }
  ++pos_;
  return out;
}

void JsonWalker::Value(std::string* path, int depth) {
  Blanks();
  if (depth > kMaxDepth) return;
  const char c = Peek();
  if (c == '{') return Object(path, depth + 1);
  if (c == '[') return Array(path, depth + 1);
  if (c == '"') {
    String();
    return;
  }
  while (pos_ < text_.size() && std::string_view(",}] \t\r\n").find(text_[pos_]) == std::string_view::npos) {
    ++pos_;
  }
}

void JsonWalker::Object(std::string* path, int depth) {
  ++pos_;
  for (Blanks(); Peek() == '"'; Blanks()) {
    const std::string key = String();
    const size_t keep = path->size();
    if (!path->empty()) *path += '.';
    *path += key;
    Record(*path);
    Blanks();
    ++pos_;  // ':'
    Value(path, depth);
    path->resize(keep);
    Blanks();
    if (Peek() == ',') ++pos_;
  }
  ++pos_;  // '}'
}

void JsonWalker::Array(std::string* path, int depth) {
  ++pos_;
  for (size_t i = 0;; ++i) {
    Blanks();
    if (Peek() == ']' || pos_ >= text_.size()) break;
    const size_t keep = path->size();
    *path += "[" + std::to_string(i) + "]";
    Record(*path);
    Value(path, depth);
    path->resize(keep);
    Blanks();
    if (Peek() == ',') ++pos_;
  }
  ++pos_;  // ']'
}

}  // namespace

std::string JoinFieldPath(std::string_view object_path, std::string_view field) {
  if (object_path.empty()) return std::string(field);
  if (field.empty()) return std::string(object_path);
  return std::string(object_path) + (field.front() == '[' ? "" : ".") + std::string(field);
}

int YamlFieldLine(const YAML::Node& root, int first_line, std::string_view path) {
  if (!root || root.Mark().is_null()) return 0;
  int line = root.Mark().line;
  YAML::Node node = root;
  for (const Segment& s : SplitPath(path)) {
    std::optional<YAML::Node> next;
    if (const auto* key = std::get_if<std::string>(&s); key != nullptr && node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.IsScalar() && it->first.Scalar() == *key) {
          line = it->first.Mark().line;
          next = it->second;
          break;
        }
      }
    } else if (const auto* index = std::get_if<size_t>(&s); index != nullptr && node.IsSequence() && *index < node.size()) {
      const YAML::Node& seq = node;
      next = seq[*index];
      line = next->Mark().line;
    }
    if (!next) break;
    node.reset(*next);  // rebind: Node::operator= would overwrite the node in the tree
  }
  return first_line + line;
}

std::map<std::string, int> JsonFieldLines(std::string_view text, const std::set<std::string>& wanted) {
  std::unordered_set<std::string> prefixes;
  for (const std::string& path : wanted) {
    for (std::string& prefix : PathPrefixes(path)) prefixes.insert(std::move(prefix));
  }
  const std::map<std::string, int> found = JsonWalker(text, prefixes).Run();
  size_t first = text.find_first_not_of(" \t\r\n");
  const int doc_line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + std::min(first, text.size()), '\n'));
  std::map<std::string, int> out;
  for (const std::string& path : wanted) out[path] = DeepestLine(path, found, doc_line);
  return out;
}

namespace {

// Calls fn(result, field) for each finding field of the results from `first` on without a line.
template <typename Fn>
void ForEachField(CheckReport* report, size_t first, Fn fn) {
  for (size_t i = first; i < report->results.size(); ++i) {
    CheckResult& r = report->results[i];
    const policy::Decision& d = r.decision;
    for (const auto* list : {&d.violations, &d.warnings, &d.audits}) {
      for (const policy::Finding& f : *list) {
        if (r.field_lines.count(f.field) == 0) fn(r, f.field);
      }
    }
  }
}

}  // namespace

void AddFieldLines(const Document& doc, std::string_view text, CheckReport* report, size_t first) {
  if (!doc.yaml.IsNull()) {
    ForEachField(report, first, [&](CheckResult& r, const std::string& field) {
      const int line = YamlFieldLine(doc.yaml, doc.yaml_first_line, JoinFieldPath(r.object_path, field));
      if (line > 0) r.field_lines[field] = line;
    });
    return;
  }
  std::set<std::string> wanted;
  ForEachField(report, first, [&](CheckResult& r, const std::string& field) {
    wanted.insert(JoinFieldPath(r.object_path, field));
  });
  if (wanted.empty()) return;
  const std::map<std::string, int> lines = JsonFieldLines(text, wanted);
  ForEachField(report, first, [&](CheckResult& r, const std::string& field) {
    r.field_lines[field] = lines.at(JoinFieldPath(r.object_path, field));
  });
}

}  // namespace rootgate::server
