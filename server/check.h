// `rootgate check`: manifests in, one result per workload out. CheckText is the socket- and
// file-free core (tests feed strings); RunCheck adds files, output formats and exit codes.
#pragma once

#include <iosfwd>
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
};

// A document that could not be checked: exit code 2, reported on stderr.
struct CheckError {
  std::string source;
  size_t document = 0;
  int line = 0;
  std::string message;
  bool whole_file = false;  // the file itself could not be read; document/line do not apply

  // "app.yaml: document 1 (line 7): <message>", or "app.yaml: <message>" for a whole file.
  std::string ToString() const;
};

struct CheckReport {
  std::vector<CheckResult> results;
  std::vector<CheckError> errors;
};

// Checks every document of `text` (YAML stream or JSON), appending to `report`. Never throws.
void CheckText(const std::string& source, std::string_view text, const policy::Policy& policy,
               const policy::ImageFacts& facts, CheckReport* report);

enum class OutputFormat { kText, kJson };

// Prints the report in text (colour when `colour`) or JSON (ARCHITECTURE.md's shape).
void PrintReport(const CheckReport& report, OutputFormat format, bool colour, std::ostream& out);

// The exit code of a report: 2 if any input error, else 1 if anything denied, else 0.
int ExitCode(const CheckReport& report);

// The `check` verb: parses its arguments, reads inputs, prints, returns the exit code.
int RunCheck(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace rootgate::server
