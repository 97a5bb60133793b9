// The file line of a field in a manifest document, for findings (SARIF regions, JSON "line").
// Paths are written as finding fields are: `spec.containers[0].securityContext.runAsUser`,
// `items[2].spec...` inside a List, `[0].Config.User` inside a top-level array. The line given
// is the deepest node along the path that exists — so a runAsUser that is not set gives its
// container's line, and a container not found gives the list's line. Pure; thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "server/report/check.h"
#include "server/inputs/manifest_reader.h"

namespace rootgate::server {

// Joins an object's place in its document and a field path inside the object.
std::string JoinFieldPath(std::string_view object_path, std::string_view field);

// The line in a YAML document (`first_line` is the file line of the node's mark line 0) of the
// key of the deepest mapping entry, or the deepest sequence item, along `path`; the document's
// own line when nothing along the path exists; 0 for a null node.
int YamlFieldLine(const YAML::Node& root, int first_line, std::string_view path);

// Scans JSON text once (it must be well-formed, as ParseDocuments checked) and gives the line
// of each wanted path, found as YamlFieldLine finds it (1 when nothing along it exists).
std::map<std::string, int> JsonFieldLines(std::string_view text, const std::set<std::string>& wanted);

// Fills `field_lines` of report->results[first...] (the results of `doc`, whose file text is
// `text`) for every finding whose field has no line yet.
void AddFieldLines(const Document& doc, std::string_view text, CheckReport* report, size_t first);

}  // namespace rootgate::server
