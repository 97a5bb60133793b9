// ParseDocuments / YamlToJson against the rules Kubernetes applies to manifests
// (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1 scalars): every expected value below is written
// from go-yaml v2's resolve.go and Go's strconv, not from this program's output.
#include "server/inputs/manifest_reader.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace {

using nlohmann::json;
using rootgate::server::Document;
using rootgate::server::ParseDocuments;
using rootgate::server::YamlToJson;

// A name for a JSON value's type that tells integers, unsigned integers and floats apart.
std::string Kind(const json& v) {
  if (v.is_number_unsigned()) return "uint";
  if (v.is_number_integer()) return "int";
  if (v.is_number_float()) return "float";
  return v.type_name();
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

// The single document of "v: <value>".
Document ParseValue(const std::string& value) {
  std::vector<Document> docs = ParseDocuments("v: " + value + "\n");
  REQUIRE(docs.size() == 1);
  return docs[0];
}

struct ScalarCase {
  std::string yaml;
  json expected;
};

const std::vector<ScalarCase> kScalars = {
    // YAML 1.1 booleans: exactly these spellings.
    {"yes", true},
    {"Yes", true},
    {"YES", true},
    {"y", true},
    {"Y", true},
    {"on", true},
    {"On", true},
    {"ON", true},
    {"true", true},
    {"True", true},
    {"TRUE", true},
    {"no", false},
    {"No", false},
    {"NO", false},
    {"n", false},
    {"N", false},
    {"off", false},
    {"Off", false},
    {"OFF", false},
    {"false", false},
    {"False", false},
    {"FALSE", false},
    {"yEs", "yEs"},
    {"oN", "oN"},
    {"tRUE", "tRUE"},
    // Nulls.
    {"~", nullptr},
    {"null", nullptr},
    {"Null", nullptr},
    {"NULL", nullptr},
    {"", nullptr},
    {"nULL", "nULL"},
    // Quoting always gives a string.
    {"\"0\"", "0"},
    {"'yes'", "yes"},
    {"\"~\"", "~"},
    {"''", ""},
    // Integers through strconv.ParseInt(s, 0, 64), underscores removed first.
    {"0", 0},
    {"-1", -1},
    {"+12", 12},
    {"0x10", 16},
    {"0X1f", 31},
    {"-0x10", -16},
    {"010", 8},
    {"0o17", 15},
    {"0b101", 5},
    {"1_000", 1000},
    {"0x_ff", 255},
    {"9223372036854775807", INT64_MAX},
    {"-9223372036854775808", INT64_MIN},
    // Past int64: ParseUint (no sign allowed), then a float.
    {"9223372036854775808", json(uint64_t{9223372036854775808u})},
    {"18446744073709551615", json(UINT64_MAX)},
    {"18446744073709551616", 18446744073709551616.0},
    {"+9223372036854775808", 9223372036854775808.0},
    // Floats: yamlStyleFloat, then strconv.ParseFloat. "08" is not octal, so it is a float.
    {"08", 8.0},
    {"1.5", 1.5},
    {"1e3", 1000.0},
    {"-.5", -0.5},
    {".5", 0.5},
    {"1.", 1.0},
    {"1_000.5", 1000.5},
    {".5_5", 0.55},
    {"1e-400", 0.0},
    // Not numbers: strings.
    {"0x", "0x"},
    {"0o", "0o"},
    {"1e400", "1e400"},
    {"12:30", "12:30"},
    {"1.2.3", "1.2.3"},
    {"2001-12-14", "2001-12-14"},
    {"._5", "._5"},
    {"+", "+"},
    {"abc", "abc"},
    // Explicit tags.
    {"!!str 123", "123"},
    {"!!str yes", "yes"},
    {"!!int \"12\"", 12},
    {"!!float 1", 1.0},
    {"!!bool yes", true},
    {"!!null \"\"", nullptr},
    {"! 12", "12"},
    {"!custom 12", "12"},
    {"!!timestamp 2001-12-14", "2001-12-14"},
    // Block scalars are strings.
    {"|\n  0\n", "0\n"},
    {">-\n  yes\n", "yes"},
};

TEST_CASE("scalars resolve as go-yaml v2 resolves them") {
  for (const ScalarCase& c : kScalars) {
    CAPTURE(c.yaml);
    const Document doc = ParseValue(c.yaml);
    REQUIRE(doc.error == "");
    CHECK(doc.value.at("v") == c.expected);
    CHECK(Kind(doc.value.at("v")) == Kind(c.expected));
  }
}

TEST_CASE("scalars JSON cannot hold or a tag refuses are errors naming the line") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {".inf", "line 1: YAML float .inf cannot be represented in JSON"},
      {"-.Inf", "line 1: YAML float -.Inf cannot be represented in JSON"},
      {"+.INF", "line 1: YAML float +.INF cannot be represented in JSON"},
      {".nan", "line 1: YAML float .nan cannot be represented in JSON"},
      {"!!float .inf", "line 1: YAML float .inf cannot be represented in JSON"},
      {"!!int abc", "line 1: cannot decode !!str `abc` as a !!int"},
      {"!!bool 1", "line 1: cannot decode !!int `1` as a !!bool"},
      {"!!float 18446744073709551615",
       "line 1: cannot decode !!int `18446744073709551615` as a !!float"},
      {"!!binary aGk=", "line 1: !!binary scalars are not supported"},
  };
  for (const auto& [yaml, error] : cases) {
    CAPTURE(yaml);
    const Document doc = ParseValue(yaml);
    CHECK(doc.error == error);
    CHECK(doc.value.is_null());
  }
}

TEST_CASE("a pod's security fields keep the types Kubernetes gives them") {
  const std::string text =
      "kind: Pod\n"
      "spec:\n"
      "  securityContext:\n"
      "    runAsNonRoot: yes\n"
      "    runAsUser: \"0\"\n"
      "  containers:\n"
      "  - name: web\n"
      "    securityContext: {runAsUser: 0, privileged: off, runAsGroup: 0x10}\n";
  const std::vector<Document> docs = ParseDocuments(text);
  REQUIRE(docs.size() == 1);
  REQUIRE(docs[0].error == "");
  const json& pod = docs[0].value.at("spec").at("securityContext");
  CHECK(pod.at("runAsNonRoot") == true);
  CHECK(pod.at("runAsUser") == "0");
  const json& c = docs[0].value.at("spec").at("containers").at(0).at("securityContext");
  CHECK(c.at("runAsUser") == 0);
  CHECK(Kind(c.at("runAsUser")) == "int");
  CHECK(c.at("privileged") == false);
  CHECK(c.at("runAsGroup") == 16);
}

TEST_CASE("mapping keys become strings the way sigs.k8s.io/yaml writes them") {
  const std::vector<Document> docs = ParseDocuments(
      "yes: a\n\"yes\": b\n0x10: c\n1.5: d\n1e6: e\n0.00001: f\n3.14159265358979: g\n");
  REQUIRE(docs.size() == 1);
  REQUIRE(docs[0].error == "");
  const json expected = {{"true", "a"},  {"yes", "b"},   {"16", "c"},       {"1.5", "d"},
                         {"1e+06", "e"}, {"1e-05", "f"}, {"3.1415927", "g"}};
  CHECK(docs[0].value == expected);
}

TEST_CASE("keys that cannot become JSON keys are errors naming their line") {
  CHECK(ParseDocuments("a: 1\n~: 2\n")[0].error == "line 2: null mapping key is not supported");
  CHECK(ParseDocuments("a: 1\n[x]: 2\n")[0].error == "line 2: mapping key must be a scalar");
  CHECK(ParseDocuments("a: 1\n<<: 2\n")[0].error ==
        "line 2: merge key (<<) needs a mapping or a list of mappings, got a scalar");
  // A quoted "<<" is an ordinary key.
  const std::vector<Document> quoted = ParseDocuments("\"<<\": 1\n");
  REQUIRE(quoted.size() == 1);
  CHECK(quoted[0].value == json{{"<<", 1}});
}

TEST_CASE("duplicate keys are errors naming the key and its line") {
  CHECK(ParseDocuments("metadata:\n  name: a\n  labels: {}\n  name: b\n")[0].error ==
        "line 4: duplicate key \"name\"");
  // Different spellings that resolve to the same key collide too.
  CHECK(ParseDocuments("true: 1\nyes: 2\n")[0].error == "line 2: duplicate key \"true\"");
  CHECK(ParseDocuments("m: {a: 1, a: 2}\n")[0].error == "line 1: duplicate key \"a\"");
}

TEST_CASE("a bad document in the middle does not lose the others") {
  const std::string text =
      "# first\n"              // 1
      "apiVersion: v1\n"       // 2
      "kind: ConfigMap\n"      // 3
      "---\n"                  // 4
      "apiVersion: v1\n"       // 5
      "kind: Pod\n"            // 6
      "metadata: name: bad\n"  // 7: the second ':' (column 15) is illegal
      "---\n"                  // 8
      "apiVersion: v1\n"       // 9
      "kind: Secret\n";        // 10
  const std::vector<Document> docs = ParseDocuments(text);
  REQUIRE(docs.size() == 3);
  CHECK(docs[0].index == 0);
  CHECK(docs[0].line == 2);
  CHECK(docs[0].error == "");
  CHECK(docs[0].value.at("kind") == "ConfigMap");
  CHECK(docs[1].index == 1);
  CHECK(docs[1].line == 5);
  CHECK(StartsWith(docs[1].error, "line 7, column 15: "));
  CHECK(docs[1].value.is_null());
  CHECK(docs[2].index == 2);
  CHECK(docs[2].line == 9);
  CHECK(docs[2].error == "");
  CHECK(docs[2].value.at("kind") == "Secret");
}

TEST_CASE("conversion errors in a later document name the line in the whole file") {
  const std::vector<Document> docs = ParseDocuments("a: 1\n---\nb: 1\nc: .inf\n");
  REQUIRE(docs.size() == 2);
  CHECK(docs[1].error == "line 4: YAML float .inf cannot be represented in JSON");
}

TEST_CASE("helm template output: leading ---, # Source comments, empty templates") {
  const std::string text =
      "---\n"                                          // 1
      "# Source: app/templates/serviceaccount.yaml\n"  // 2
      "apiVersion: v1\n"                               // 3
      "kind: ServiceAccount\n"                         // 4
      "metadata:\n"                                    // 5
      "  name: app\n"                                  // 6
      "---\n"                                          // 7
      "# Source: app/templates/empty.yaml\n"           // 8
      "---\n"                                          // 9
      "# Source: app/templates/deployment.yaml\n"      // 10
      "apiVersion: apps/v1\n"                          // 11
      "kind: Deployment\n"                             // 12
      "spec:\n"                                        // 13
      "  template:\n"                                  // 14
      "    spec:\n"                                    // 15
      "      containers:\n"                            // 16
      "      - name: web\n"                            // 17
      "        securityContext:\n"                     // 18
      "          runAsUser: 0\n";                      // 19
  const std::vector<Document> docs = ParseDocuments(text);
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].line == 3);
  CHECK(docs[0].value.at("kind") == "ServiceAccount");
  CHECK(docs[1].index == 1);
  CHECK(docs[1].line == 11);
  CHECK(docs[1].value.at("kind") == "Deployment");
  const json& c = docs[1].value.at("spec").at("template").at("spec").at("containers").at(0);
  CHECK(c.at("securityContext").at("runAsUser") == 0);
}

TEST_CASE("comment-only and null documents are skipped and not counted") {
  const std::vector<Document> docs =
      ParseDocuments("a: 1\n---\n# only a comment\n\n---\n~\n---\nb: 2\n");
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].index == 0);
  CHECK(docs[0].value == json{{"a", 1}});
  CHECK(docs[1].index == 1);
  CHECK(docs[1].line == 8);
  CHECK(docs[1].value == json{{"b", 2}});
  CHECK(ParseDocuments("").empty());
  CHECK(ParseDocuments("# nothing here\n\n").empty());
  CHECK(ParseDocuments("---\n---\n").empty());
}

TEST_CASE("document markers") {
  SUBCASE("content on the marker line") {
    const std::vector<Document> docs = ParseDocuments("--- {a: 1}\n--- {b: 2}\n");
    REQUIRE(docs.size() == 2);
    CHECK(docs[0].line == 1);
    CHECK(docs[1].line == 2);
    CHECK(docs[1].value == json{{"b", 2}});
  }
  SUBCASE("... ends a document") {
    const std::vector<Document> docs = ParseDocuments("a: 1\n...\n---\nb: 2\n...\n");
    REQUIRE(docs.size() == 2);
    CHECK(docs[0].value == json{{"a", 1}});
    CHECK(docs[1].line == 4);
    CHECK(docs[1].value == json{{"b", 2}});
  }
  SUBCASE("a directive stays with its document") {
    const std::vector<Document> docs = ParseDocuments("%YAML 1.1\n---\na: 1\n");
    REQUIRE(docs.size() == 1);
    CHECK(docs[0].line == 3);
    CHECK(docs[0].value == json{{"a", 1}});
  }
  SUBCASE("CRLF line ends") {
    const std::vector<Document> docs = ParseDocuments("a: 1\r\n---\r\nb: yes\r\n");
    REQUIRE(docs.size() == 2);
    CHECK(docs[1].value == json{{"b", true}});
  }
  SUBCASE("---x and indented --- are not markers") {
    const std::vector<Document> docs = ParseDocuments("a: |\n  ---\n---x: 2\n");
    REQUIRE(docs.size() == 1);
    CHECK(docs[0].value == json{{"a", "---\n"}, {"---x", 2}});
  }
}

TEST_CASE("a document that is not UTF-8 is an error naming the line") {
  const std::vector<Document> docs = ParseDocuments("a: 1\n---\nb: 2\nc: \xff\xfe\n---\nd: é\n");
  REQUIRE(docs.size() == 3);
  CHECK(docs[0].error == "");
  CHECK(docs[1].error == "line 4: invalid UTF-8");
  CHECK(docs[2].value == json{{"d", "é"}});
  // An encoded surrogate (U+D800) and an overlong '/' are not UTF-8 either.
  CHECK(ParseDocuments("a: \xed\xa0\x80\n")[0].error == "line 1: invalid UTF-8");
  CHECK(ParseDocuments("a: \xc0\xaf\n")[0].error == "line 1: invalid UTF-8");
}

TEST_CASE("JSON text is one JSON document") {
  SUBCASE("an object") {
    const std::vector<Document> docs = ParseDocuments(
        "\n  {\"kind\": \"Pod\", \"spec\": {\"securityContext\": {\"runAsUser\": 0}}, "
        "\"x\": 1.5, \"y\": \"yes\"}\n");
    REQUIRE(docs.size() == 1);
    CHECK(docs[0].index == 0);
    CHECK(docs[0].line == 2);
    CHECK(docs[0].error == "");
    CHECK(docs[0].value.at("spec").at("securityContext").at("runAsUser") == 0);
    CHECK(Kind(docs[0].value.at("x")) == "float");
    CHECK(docs[0].value.at("y") == "yes");  // JSON strings are never YAML-resolved
  }
  SUBCASE("an array") {
    const std::vector<Document> docs = ParseDocuments("[1, \"a\"]");
    REQUIRE(docs.size() == 1);
    CHECK(docs[0].value == json::array({1, "a"}));
  }
  SUBCASE("a syntax error names line and column") {
    const std::vector<Document> docs = ParseDocuments("{\n  \"a\": 1,\n  \"b\" 2\n}\n");
    REQUIRE(docs.size() == 1);
    CHECK(StartsWith(docs[0].error, "line 3, column 7: "));
    CHECK(docs[0].value.is_null());
  }
  SUBCASE("duplicate keys") {
    const std::vector<Document> docs = ParseDocuments("{\"a\": {\"b\": 1, \"b\": 2}}");
    REQUIRE(docs.size() == 1);
    CHECK(Contains(docs[0].error, "duplicate key \"b\""));
    CHECK(docs[0].value.is_null());
  }
  SUBCASE("the same key in sibling objects is fine") {
    const std::vector<Document> docs = ParseDocuments("[{\"a\": 1}, {\"a\": 2}]");
    REQUIRE(docs.size() == 1);
    CHECK(docs[0].error == "");
  }
  SUBCASE("nesting is limited to 200 levels") {
    CHECK(ParseDocuments(std::string(200, '[') + std::string(200, ']'))[0].error == "");
    CHECK(ParseDocuments(std::string(201, '[') + std::string(201, ']'))[0].error ==
          "JSON nested deeper than 200 levels");
  }
  SUBCASE("a number past the double range") {
    CHECK(!ParseDocuments("{\"a\": 1e400}")[0].error.empty());
  }
}

TEST_CASE("YAML nesting is limited to 200 levels, never a stack overflow") {
  // The root mapping is level 1, so 199 sequences inside it reach level 200.
  const Document ok = ParseValue(std::string(199, '[') + std::string(199, ']'));
  CHECK(ok.error == "");
  const Document deep = ParseValue(std::string(200, '[') + std::string(200, ']'));
  CHECK(deep.error == "line 1: document nested deeper than 200 levels");
  // yaml-cpp itself stops at 500 levels, before its recursion can exhaust the stack.
  const Document huge = ParseValue(std::string(100000, '['));
  CHECK(Contains(huge.error, ": document nested too deeply to parse"));
  // An alias inside its own anchor is a cycle; it must end at the depth limit.
  const std::vector<Document> cycle = ParseDocuments("a: &x [*x]\n");
  REQUIRE(cycle.size() == 1);
  CHECK(Contains(cycle[0].error, "nested deeper than 200 levels"));
}

TEST_CASE("aliases expand, but an alias bomb is an error") {
  const std::vector<Document> small =
      ParseDocuments("base: &ctx {runAsUser: 0}\npod: *ctx\nlist: [*ctx, *ctx]\n");
  REQUIRE(small.size() == 1);
  REQUIRE(small[0].error == "");
  CHECK(small[0].value.at("pod") == json{{"runAsUser", 0}});
  CHECK(small[0].value.at("list").size() == 2);

  // Each level holds ten of the previous one: level f alone expands to over a million nodes.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char level = 'b'; level <= 'f'; ++level) {
    const std::string prev(1, static_cast<char>(level - 1));
    bomb += std::string(1, level) + ": &" + level + " [";
    for (int i = 0; i < 10; ++i) bomb += (i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  const std::vector<Document> docs = ParseDocuments(bomb);
  REQUIRE(docs.size() == 1);
  CHECK(StartsWith(docs[0].error, "line "));
  CHECK(Contains(docs[0].error, ": document too large after alias expansion"));
  CHECK(docs[0].value.is_null());
}

TEST_CASE("aliases of a long string cannot expand past 64 MiB of text") {
  std::string text = "s: &s " + std::string(4 << 20, 'x') + "\nl: [";
  for (int i = 0; i < 17; ++i) text += i ? ", *s" : "*s";  // 17 × 4 MiB + 4 MiB > 64 MiB
  text += "]\n";
  const std::vector<Document> docs = ParseDocuments(text);
  REQUIRE(docs.size() == 1);
  CHECK(Contains(docs[0].error, "document too large after alias expansion"));
}

TEST_CASE("YamlToJson converts a node loaded elsewhere") {
  const rootgate::Result<json> ok = YamlToJson(YAML::Load("a: [1, yes, '2', 0o10]"));
  REQUIRE(ok.ok());
  CHECK(ok.value() == json{{"a", {1, true, "2", 8}}});
  const rootgate::Result<json> bad = YamlToJson(YAML::Load("a: 1\nb: -.inf\n"));
  REQUIRE(!bad.ok());
  CHECK(bad.error() == "line 2: YAML float -.inf cannot be represented in JSON");
}

}  // namespace

TEST_CASE("merge keys in manifests resolve as kubectl's go-yaml v2 resolves them") {
  const std::vector<Document> docs = ParseDocuments(
      "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
      "  - &c\n    name: a\n    image: x\n    securityContext: {runAsUser: 1000}\n"
      "  - <<: *c\n    name: b\n    securityContext: {runAsUser: 0}\n"
      "  - name: c\n    <<: *c\n");
  REQUIRE(docs.size() == 1);
  REQUIRE(docs[0].error == "");
  const json& containers = docs[0].value["spec"]["containers"];
  CHECK(containers[1] ==
        json{{"name", "b"}, {"image", "x"}, {"securityContext", {{"runAsUser", 0}}}});
  // go-yaml v2 applies keys in document order: `name: c` before `<<` is overridden.
  CHECK(containers[2]["name"] == "a");
  CHECK(containers[2]["securityContext"]["runAsUser"] == 1000);
  // The line of a bad merge counts from the document's first line in the file.
  const std::vector<Document> bad = ParseDocuments("a: 1\n---\nb:\n  <<: [x]\n");
  REQUIRE(bad.size() == 2);
  CHECK(bad[1].error == "line 4: merge key (<<) needs a mapping or a list of mappings; item 0 is a scalar");
}
