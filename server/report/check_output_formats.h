// The output formats of `rootgate check` beyond text and JSON, and pieces the formats share.
// Internal to server/check_output*.cpp. Each printer writes one complete document; all are pure
// functions of the report (thread-safe for concurrent calls on different streams).
#pragma once

#include <iosfwd>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "server/report/check.h"

namespace rootgate::server {

// True for results about an image rather than a Kubernetes object: kinds "Dockerfile",
// "ImageConfig" and "Image", which have no apiVersion.
bool IsImageResult(const CheckResult& r);

// "Deployment demo/api", "Dockerfile app", "ImageConfig nginx:1.25".
std::string ResultSubject(const CheckResult& r);

// JUnit XML: one <testsuite> per input file, one <testcase> per result; a denied result has a
// <failure> per violation, a skipped one <skipped>, an input error an <error> test case.
void PrintJunit(const CheckReport& report, std::ostream& out);

// SARIF 2.1.0: one run; the driver's rules are the rule IDs with help text; one result per
// finding (error: denied, warning: warned, note: audit) with the file and line of its field.
// Input errors are tool execution notifications.
void PrintSarif(const CheckReport& report, std::ostream& out);

// One result in `check -o json`'s shape (also `rootgate audit -o json`, which streams them).
nlohmann::json CheckResultJson(const CheckResult& r);

// One result in the text output: its ALLOW/DENY/SKIP line and its findings.
void PrintResultText(const CheckResult& r, bool colour, std::ostream& out);

// The last line of the text output: "checked N: A allowed, D denied, S skipped[, E errors]".
void PrintCheckedLine(size_t allowed, size_t denied, size_t skipped, size_t errors, bool colour,
                      std::ostream& out);

// The finding lines of one result in the text output ("    deny [rootUser] container web, ...").
void PrintFindingsText(const CheckResult& r, bool colour, std::ostream& out);

// One row of the per-namespace table.
struct NamespaceRow {
  size_t allowed = 0, denied = 0, skipped = 0;
  std::map<std::string, size_t> rules;  // violations by rule ID
};

// Adds a Kubernetes object's result to its namespace's row (image results are not counted).
void CountNamespaceRow(const CheckResult& r, std::map<std::string, NamespaceRow>* rows);

// Prints the table of `rows` (a heading line, then one line per namespace).
void PrintNamespaceRows(const std::map<std::string, NamespaceRow>& rows, std::ostream& out);

// The per-namespace table of the text output (namespace, checked, allowed, denied, skipped,
// violations by rule); prints nothing when the Kubernetes objects span fewer than two
// namespaces.
void PrintNamespaceTable(const CheckReport& report, std::ostream& out);

}  // namespace rootgate::server
