#include "policy/yaml_merge.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <utility>
#include <vector>

namespace rootgate::policy {

namespace {

constexpr int kMaxDepth = 200;
constexpr size_t kMaxNodes = 1'000'000;
constexpr std::string_view kMergeTag = "tag:yaml.org,2002:merge";

using Entry = std::pair<YAML::Node, YAML::Node>;

std::string KindOf(const YAML::Node& n) {
  if (n.IsMap()) return "a mapping";
  if (n.IsSequence()) return "a list";
  if (n.IsScalar()) return "a scalar";
  return "null";
}

// The text two keys are compared by; nullopt for keys that equal no other (non-scalars).
std::optional<std::string> KeyText(const YAML::Node& key) {
  if (key.IsScalar()) return key.Scalar();
  return std::nullopt;
}

// One entry of the mapping being resolved, as it will stand afterwards. Entries are held by
// pointer: assigning a YAML::Node to another rebinds the node it referred to (yaml-cpp's
// set_ref), which would rewrite the mapping the entry came from.
struct Slot {
  const Entry* entry = nullptr;
  bool merged = false;  // came from a merged mapping
  size_t own = 0;       // when !merged: the index among the mapping's written entries
};

class Resolver {
 public:
  Resolver(MergeOrder order, int first_line) : order_(order), first_line_(first_line) {}

  std::optional<std::string> Visit(const YAML::Node& node, int depth);

 private:
  std::optional<std::string> VisitMap(YAML::Node map, int depth);
  std::optional<std::string> MergedEntries(const Entry& merge, int depth, std::vector<Entry>* out);
  std::vector<Slot> Combine(const std::vector<Entry>& own, size_t merge_at,
                            const std::vector<Entry>& merged) const;
  bool IsOpen(const YAML::Node& map) const;
  std::string At(const YAML::Node& node, const std::string& message) const {
    return "line " + std::to_string(first_line_ + std::max(node.Mark().line, 0)) + ": " + message;
  }

  MergeOrder order_;
  int first_line_;
  size_t visited_ = 0;
  std::vector<YAML::Node> open_;  // mappings being resolved, outermost first
};

bool Resolver::IsOpen(const YAML::Node& map) const {
  return std::any_of(open_.begin(), open_.end(), [&](const YAML::Node& n) { return n.is(map); });
}

std::optional<std::string> Resolver::Visit(const YAML::Node& node, int depth) {
  if (++visited_ > kMaxNodes) return At(node, "document too large after alias expansion");
  if (depth > kMaxDepth) {
    return At(node, "document nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  if (node.IsSequence()) {
    for (const YAML::Node& item : node) {
      if (auto error = Visit(item, depth + 1)) return error;
    }
  }
  if (node.IsMap() && !IsOpen(node)) return VisitMap(node, depth);
  return std::nullopt;
}

// The entries a `<<` brings in, its sources resolved first; earlier sources win.
std::optional<std::string> Resolver::MergedEntries(const Entry& merge, int depth,
                                                   std::vector<Entry>* out) {
  const YAML::Node& value = merge.second;
  std::vector<YAML::Node> sources;
  if (value.IsMap()) sources.push_back(value);
  if (value.IsSequence()) {
    for (size_t i = 0; i < value.size(); ++i) {
      if (!value[i].IsMap()) {
        return At(merge.first, "merge key (<<) needs a mapping or a list of mappings; item " +
                                   std::to_string(i) + " is " + KindOf(value[i]));
      }
      sources.push_back(value[i]);
    }
  }
  if (sources.empty() && !value.IsSequence()) {
    return At(merge.first,
              "merge key (<<) needs a mapping or a list of mappings, got " + KindOf(value));
  }
  std::map<std::string, bool> seen;
  for (const YAML::Node& source : sources) {
    if (IsOpen(source)) {
      return At(merge.first, "merge key (<<) merges a mapping that contains this one (a cycle)");
    }
    if (auto error = VisitMap(source, depth + 1)) return error;
    for (auto it = source.begin(); it != source.end(); ++it) {
      const std::optional<std::string> text = KeyText(it->first);
      if (text && !seen.emplace(*text, true).second) continue;
      out->emplace_back(it->first, it->second);
    }
  }
  return std::nullopt;
}

// The entries of the mapping after the merge: `own` are its written entries (the `<<` stood
// before own[merge_at]), `merged` what the `<<` brought in.
std::vector<Slot> Resolver::Combine(const std::vector<Entry>& own, size_t merge_at,
                                    const std::vector<Entry>& merged) const {
  std::vector<Slot> slots;
  std::map<std::string, size_t> index;  // key text → its slot
  // `wins`: the entry replaces one already there with the same key (except that two written
  // entries with one key both stay, for the reader to refuse the duplicate).
  const auto put = [&](const Entry& e, bool from_merge, size_t own_index, bool wins) {
    const std::optional<std::string> text = KeyText(e.first);
    auto it = text ? index.find(*text) : index.end();
    const Slot slot{&e, from_merge, own_index};
    if (it == index.end()) {
      if (text) index.emplace(*text, slots.size());
      slots.push_back(slot);
    } else if (!from_merge && !slots[it->second].merged) {
      slots.push_back(slot);
    } else if (wins) {
      slots[it->second] = slot;
    }
  };
  if (order_ == MergeOrder::kOwnKeysWin) {
    for (size_t i = 0; i < own.size(); ++i) put(own[i], false, i, true);
    for (const Entry& e : merged) put(e, true, 0, false);
    return slots;
  }
  for (size_t i = 0; i < own.size(); ++i) {
    if (i == merge_at) {
      for (const Entry& e : merged) put(e, true, 0, true);
    }
    put(own[i], false, i, true);
  }
  if (merge_at == own.size()) {
    for (const Entry& e : merged) put(e, true, 0, true);
  }
  return slots;
}

std::optional<std::string> Resolver::VisitMap(YAML::Node map, int depth) {
  if (depth > kMaxDepth) {
    return At(map, "document nested deeper than " + std::to_string(kMaxDepth) + " levels");
  }
  open_.push_back(map);
  std::vector<Entry> own;
  std::optional<Entry> merge;
  size_t merge_at = 0;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!IsMergeKey(it->first)) {
      own.emplace_back(it->first, it->second);
      continue;
    }
    if (merge) return At(it->first, "duplicate key \"<<\"");
    merge.emplace(it->first, it->second);
    merge_at = own.size();
  }
  for (const Entry& e : own) {
    if (auto error = Visit(e.second, depth + 1)) return error;
  }
  if (merge) {
    std::vector<Entry> merged;
    if (auto error = MergedEntries(*merge, depth, &merged)) return error;
    const std::vector<Slot> slots = Combine(own, merge_at, merged);
    std::vector<bool> kept(own.size(), false);
    for (const Slot& s : slots) {
      if (!s.merged) kept[s.own] = true;
    }
    map.remove(merge->first);
    for (size_t i = 0; i < own.size(); ++i) {
      if (!kept[i]) map.remove(own[i].first);  // overridden by the merge (kDocumentOrder)
    }
    for (const Slot& s : slots) {
      if (s.merged) map.force_insert(s.entry->first, s.entry->second);
    }
  }
  open_.pop_back();
  return std::nullopt;
}

}  // namespace

bool IsMergeKey(const YAML::Node& key) {
  return key.IsScalar() && key.Scalar() == "<<" && (key.Tag() == "?" || key.Tag() == kMergeTag);
}

std::optional<std::string> ResolveMergeKeys(YAML::Node root, MergeOrder order, int first_line) {
  try {
    return Resolver(order, first_line).Visit(root, 1);
  } catch (const YAML::Exception& e) {
    return "line " + std::to_string(first_line + std::max(e.mark.line, 0)) + ": " + e.msg;
  }
}

}  // namespace rootgate::policy
