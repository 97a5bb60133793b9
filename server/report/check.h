// The results of checking inputs against a policy (`rootgate check`, `rootgate test`, and the
// cluster audit to come): one CheckResult per workload, Dockerfile or image, the CheckErrors of
// what could not be checked, and the writers of a report (text, JSON, JUnit XML, SARIF). Pure
// data and functions of their arguments: thread-safe for concurrent const use. Producers:
// CheckText (server/inputs/check_text.h), CheckInputs (server/inputs/check_input.h).
#pragma once

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/decision.h"
#include "policy/image_facts.h"
#include "policy/policy.h"

namespace rootgate::server {

struct CheckResult {
  std::string source;                 // file name, or "-" for stdin
  size_t document = 0;                // 0-based document index in the file
  std::optional<size_t> item;         // index in a `kind: List`
  int line = 0;                       // 1-based line where the document starts
  std::string api_version;
  std::string kind;
  std::string namespace_name;
  std::string name;
  bool skipped = false;               // not a pod-bearing kind, or allowed without evaluation
  std::string skip_reason;
  policy::Decision decision;
  // Where the object sits in its document: "" (the document itself), "items[2]",
  // "request.object", "[0]" (an element of a top-level array).
  std::string object_path;
  // The 1-based file line of each finding's field (Finding::field), when known.
  std::map<std::string, int> field_lines;
  std::vector<std::string> profiles;  // a Compose service's profiles (it starts only with them)
};

// The file line of a finding of `r`: its field's line, else the object's line.
int FindingLine(const CheckResult& r, const policy::Finding& f);

// A document that could not be checked: exit code 2, reported on stderr.
struct CheckError {
  std::string source;
  size_t document = 0;
  int line = 0;
  std::string message;
  bool whole_file = false;  // the file itself could not be read; document/line do not apply
  bool line_only = false;   // a file without documents (a Dockerfile): "Dockerfile: line 7: ..."

  // "app.yaml: document 1 (line 7): <message>", or "app.yaml: <message>" for a whole file.
  std::string ToString() const;
};

struct CheckReport {
  std::vector<CheckResult> results;
  std::vector<CheckError> errors;
};

enum class OutputFormat { kText, kJson, kJunit, kSarif };

// Prints the report in text (colour when `colour`), JSON (ARCHITECTURE.md's shape), JUnit XML
// (one test case per workload) or SARIF 2.1.0 (one result per finding, with file and line).
void PrintReport(const CheckReport& report, OutputFormat format, bool colour, std::ostream& out);

// The exit code of a report: 2 if any input error, else 1 if anything denied, else 0.
int ExitCode(const CheckReport& report);

}  // namespace rootgate::server
