// The per-namespace summary of `rootgate check` text output: the cluster-audit view of
// `kubectl get ... -A -o json | rootgate check -`.
#include <algorithm>
#include <iomanip>
#include <map>
#include <ostream>

#include "server/report/check_output_formats.h"

namespace rootgate::server {

namespace {

std::map<std::string, NamespaceRow> Rows(const CheckReport& report) {
  std::map<std::string, NamespaceRow> rows;
  for (const CheckResult& r : report.results) CountNamespaceRow(r, &rows);
  return rows;
}

std::string RuleCounts(const std::map<std::string, size_t>& rules) {
  std::string s;
  for (const auto& [rule, n] : rules) s += (s.empty() ? "" : ", ") + rule + " " + std::to_string(n);
  return s.empty() ? "-" : s;
}

}  // namespace

void CountNamespaceRow(const CheckResult& r, std::map<std::string, NamespaceRow>* rows) {
  if (IsImageResult(r)) return;
  NamespaceRow& row = (*rows)[r.namespace_name.empty() ? "(none)" : r.namespace_name];
  if (r.skipped) {
    ++row.skipped;
    return;
  }
  ++(r.decision.allowed ? row.allowed : row.denied);
  for (const policy::Finding& f : r.decision.violations) ++row.rules[std::string(policy::RuleName(f.rule))];
}

void PrintNamespaceTable(const CheckReport& report, std::ostream& out) {
  const std::map<std::string, NamespaceRow> rows = Rows(report);
  if (rows.size() < 2) return;
  PrintNamespaceRows(rows, out);
}

void PrintNamespaceRows(const std::map<std::string, NamespaceRow>& rows, std::ostream& out) {
  size_t width = 9;  // "namespace"
  for (const auto& [ns, row] : rows) width = std::max(width, ns.size());
  const auto line = [&](const std::string& ns, const std::string& checked, const std::string& allowed,
                        const std::string& denied, const std::string& skipped, const std::string& rules) {
    out << std::left << std::setw(static_cast<int>(width)) << ns << std::right << "  "
        << std::setw(7) << checked << "  " << std::setw(7) << allowed << "  " << std::setw(6)
        << denied << "  " << std::setw(7) << skipped << "  " << rules << "\n";
  };
  out << "\n";
  line("namespace", "checked", "allowed", "denied", "skipped", "violations");
  for (const auto& [ns, row] : rows) {
    line(ns, std::to_string(row.allowed + row.denied), std::to_string(row.allowed),
         std::to_string(row.denied), std::to_string(row.skipped), RuleCounts(row.rules));
  }
}

}  // namespace rootgate::server
