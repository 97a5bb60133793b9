// Manifest reading for the CLI: a file's text (a YAML stream or one JSON text) split into
// documents and turned into JSON values, with YAML scalars resolved the way Kubernetes resolves
// them (sigs.k8s.io/yaml over go-yaml v2, YAML 1.1: `yes` is true, `010` is 8, `"0"` is a string).
// Every yaml-cpp and nlohmann exception is caught here and becomes an error value.
// Stateless: both functions are safe to call from many threads at once.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"
#include "policy/yaml_merge.h"

namespace rootgate::server {

// One document of a manifest file.
struct Document {
  size_t index = 0;      // 0-based position among the file's non-blank documents
  int line = 0;          // 1-based file line where the document's content starts
  nlohmann::json value;  // the parsed document; null when error is set
  std::string error;     // non-empty: why the document could not be read, naming the file line
                         // (and column when known): "line 7, column 3: illegal map value"
  // The parsed YAML, kept by ForEachDocument for finding the line of a field
  // (server/inputs/manifest_lines.h); null from ParseDocuments, for JSON documents and for errors.
  // Its marks count lines from `yaml_first_line`.
  YAML::Node yaml;
  int yaml_first_line = 1;
};

// Splits `text` into documents and parses each one on its own, so a bad document never hides
// the others. Text whose first non-space character is '{' or '[' is one JSON document.
// Otherwise it is YAML, split at column-0 `---` lines (a `...` line also ends a document);
// documents holding only comments, or only a null, are skipped and not counted in `index`.
// Limits (errors, never crashes): 200 levels of nesting, 1,000,000 nodes and 64 MiB of scalar
// text per document after alias expansion. Merge keys (`<<`) are resolved as kubectl resolves
// them (policy/yaml_merge.h, go-yaml v2's document order). Duplicate mapping keys, merges that
// cannot be resolved and infinite or NaN floats are errors. Bad input never throws.
std::vector<Document> ParseDocuments(std::string_view text);

// As ParseDocuments, but hands each document to `fn` as soon as it is parsed, with its `yaml`
// node kept, so that only one document's trees are alive at a time.
void ForEachDocument(std::string_view text, const std::function<void(Document&&)>& fn);

// Converts a yaml-cpp node to JSON with go-yaml v2's scalar resolution, under the limits above,
// after resolving its merge keys in place with `order` (the tree is changed: see
// policy/yaml_merge.h). Mapping keys become strings as sigs.k8s.io/yaml makes them (`yes` →
// "true", `1e6` → "1e+06"); null and non-scalar keys are errors. Error messages name
// node.Mark().line + 1.
Result<nlohmann::json> YamlToJson(const YAML::Node& node,
                                  policy::MergeOrder order = policy::MergeOrder::kDocumentOrder);

}  // namespace rootgate::server
