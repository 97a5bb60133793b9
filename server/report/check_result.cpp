// The small functions of the results model (server/report/check.h).
#include "server/report/check.h"

#include <string>

namespace rootgate::server {

std::string CheckError::ToString() const {
  if (whole_file) return source + ": " + message;
  if (line_only) return source + ": line " + std::to_string(line) + ": " + message;
  std::string s = source + ": document " + std::to_string(document);
  if (line > 0) s += " (line " + std::to_string(line) + ")";
  return s + ": " + message;
}

int FindingLine(const CheckResult& r, const policy::Finding& f) {
  auto it = r.field_lines.find(f.field);
  return it != r.field_lines.end() ? it->second : r.line;
}

int ExitCode(const CheckReport& report) {
  if (!report.errors.empty()) return 2;
  for (const CheckResult& r : report.results) {
    if (!r.decision.allowed) return 1;
  }
  return 0;
}

}  // namespace rootgate::server
