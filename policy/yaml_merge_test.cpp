// ResolveMergeKeys against go-yaml's merge (decode.go): a mapping or a list of mappings; in a
// list the earlier mapping wins; own keys win (v3, kOwnKeysWin) or apply in document order (v2,
// kDocumentOrder: an own key written before `<<` is overridden); anything else, and cycles, are
// errors naming the line of the `<<`.
#include "policy/yaml_merge.h"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

namespace {

using rootgate::policy::MergeOrder;
using rootgate::policy::ResolveMergeKeys;

// The resolved tree as text with keys sorted: "{a:1,b:[x,{c:2}]}".
std::string Flat(const YAML::Node& n) {
  if (n.IsScalar()) return n.Scalar();
  if (n.IsSequence()) {
    std::string s = "[";
    for (size_t i = 0; i < n.size(); ++i) s += (i ? "," : "") + Flat(n[i]);
    return s + "]";
  }
  if (!n.IsMap()) return "~";
  std::multimap<std::string, std::string> sorted;
  for (auto it = n.begin(); it != n.end(); ++it) sorted.emplace(Flat(it->first), Flat(it->second));
  std::string s = "{";
  for (const auto& [k, v] : sorted) s += (s.size() > 1 ? "," : "") + k + ":" + v;
  return s + "}";
}

struct Row {
  const char* name;
  const char* yaml;
  const char* own_keys_win;    // Flat of `use` with kOwnKeysWin, or the error
  const char* document_order;  // the same with kDocumentOrder
};

const std::vector<Row> kRows = {
    {"one mapping, own key after it", "b: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\n", "{x:1,y:3}",
     "{x:1,y:3}"},
    {"a list: the earlier mapping wins", "a: &a {x: 1}\nb: &b {x: 2, z: 2}\nuse: {<<: [*a, *b]}\n",
     "{x:1,z:2}", "{x:1,z:2}"},
    {"own key written before <<", "b: &b {x: 1, y: 1}\nuse: {x: 0, <<: *b}\n", "{x:0,y:1}",
     "{x:1,y:1}"},
    {"merged mapping with its own merge", "a: &a {x: 1, y: 1}\nb: &b {<<: *a, y: 2}\nuse: {<<: *b}\n",
     "{x:1,y:2}", "{x:1,y:2}"},
    {"inline mapping", "use:\n  <<: {x: 1}\n  y: 2\n", "{x:1,y:2}", "{x:1,y:2}"},
    {"nested values keep merging", "d: &d {k: {v: 1}}\nuse: {<<: *d, n: {<<: *d}}\n",
     "{k:{v:1},n:{k:{v:1}}}", "{k:{v:1},n:{k:{v:1}}}"},
    {"an empty list merges nothing", "use: {<<: [], x: 1}\n", "{x:1}", "{x:1}"},
    {"a quoted << is an ordinary key", "use: {\"<<\": 1}\n", "{<<:1}", "{<<:1}"},
    {"explicit !!merge tag", "b: &b {x: 1}\nuse: {!!merge <<: *b}\n", "{x:1}", "{x:1}"},
    {"a scalar", "use:\n  x: 1\n  <<: 5\n",
     "line 3: merge key (<<) needs a mapping or a list of mappings, got a scalar",
     "line 3: merge key (<<) needs a mapping or a list of mappings, got a scalar"},
    {"null", "use:\n  <<:\n",
     "line 2: merge key (<<) needs a mapping or a list of mappings, got null",
     "line 2: merge key (<<) needs a mapping or a list of mappings, got null"},
    {"a list holding a scalar", "a: &a {x: 1}\nuse:\n  <<: [*a, 2]\n",
     "line 3: merge key (<<) needs a mapping or a list of mappings; item 1 is a scalar",
     "line 3: merge key (<<) needs a mapping or a list of mappings; item 1 is a scalar"},
    {"an alias to a list", "l: &l [1]\nuse:\n  <<: *l\n",
     "line 3: merge key (<<) needs a mapping or a list of mappings; item 0 is a scalar",
     "line 3: merge key (<<) needs a mapping or a list of mappings; item 0 is a scalar"},
    {"a cycle", "use: &u\n  x: 1\n  <<: *u\n",
     "line 3: merge key (<<) merges a mapping that contains this one (a cycle)",
     "line 3: merge key (<<) merges a mapping that contains this one (a cycle)"},
    {"two merge keys", "a: &a {x: 1}\nuse:\n  <<: *a\n  <<: *a\n", "line 4: duplicate key \"<<\"",
     "line 4: duplicate key \"<<\""},
};

std::string Resolve(const char* yaml, MergeOrder order) {
  YAML::Node root = YAML::Load(yaml);
  if (auto error = ResolveMergeKeys(root, order)) return *error;
  return Flat(root["use"]);
}

}  // namespace

TEST_CASE("merge keys resolve as go-yaml v3 and v2 resolve them") {
  for (const Row& row : kRows) {
    CAPTURE(row.name);
    CHECK(Resolve(row.yaml, MergeOrder::kOwnKeysWin) == row.own_keys_win);
    CHECK(Resolve(row.yaml, MergeOrder::kDocumentOrder) == row.document_order);
  }
}

TEST_CASE("merged keys keep the line of the mapping they come from") {
  YAML::Node root = YAML::Load("defaults: &d\n  user: root\nweb:\n  <<: *d\n  image: x\n");
  REQUIRE(!ResolveMergeKeys(root, MergeOrder::kOwnKeysWin));
  CHECK(root["web"]["user"].Scalar() == "root");
  CHECK(root["web"]["user"].Mark().line == 1);   // 0-based: file line 2
  CHECK(root["web"]["image"].Mark().line == 4);
  CHECK(!root["web"]["<<"].IsDefined());
  CHECK(root["web"].Mark().line == 3);  // the mapping itself is the same node
}

TEST_CASE("errors count lines from first_line") {
  YAML::Node root = YAML::Load("a:\n  <<: x\n");
  CHECK(ResolveMergeKeys(root, MergeOrder::kDocumentOrder, 10).value_or("") ==
        "line 11: merge key (<<) needs a mapping or a list of mappings, got a scalar");
}

TEST_CASE("a billion laughs through merge keys stops at the node limit") {
  std::string yaml = "a0: &a0 {x: 1}\n";
  for (int i = 1; i <= 30; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " {<<: " + prev + ", l: [" +
            prev + ", " + prev + "]}\n";
  }
  YAML::Node root = YAML::Load(yaml);
  CHECK(ResolveMergeKeys(root, MergeOrder::kOwnKeysWin).value_or("").find("too large") !=
        std::string::npos);
}

TEST_CASE("the merged mapping itself stays as written") {
  for (MergeOrder order : {MergeOrder::kOwnKeysWin, MergeOrder::kDocumentOrder}) {
    YAML::Node root = YAML::Load("- &app {name: app, sc: {u: 1000}}\n- {<<: *app, name: sidecar, sc: {u: 0}}\n");
    REQUIRE(!ResolveMergeKeys(root, order));
    CHECK(Flat(root) == "[{name:app,sc:{u:1000}},{name:sidecar,sc:{u:0}}]");
  }
}
