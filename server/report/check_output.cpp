// Text and JSON output of `rootgate check`, and the choice of format.
#include <ostream>

#include <nlohmann/json.hpp>

#include "server/report/check.h"
#include "server/report/check_output_formats.h"

namespace rootgate::server {

using nlohmann::json;

namespace {

struct Colours {
  const char* red = "";
  const char* green = "";
  const char* yellow = "";
  const char* dim = "";
  const char* reset = "";
};

Colours MakeColours(bool on) {
  if (!on) return {};
  return {"\033[31m", "\033[32m", "\033[33m", "\033[2m", "\033[0m"};
}

std::string Where(const CheckResult& r) {
  if (r.kind == "Dockerfile" && IsImageResult(r)) return r.source + ":" + std::to_string(r.line);
  if (r.kind == "Image" && IsImageResult(r)) return "registry";
  if (r.kind == "ComposeService") return r.source + ":" + std::to_string(r.line);
  std::string s = r.source + "#" + std::to_string(r.document);
  if (r.item) s += (IsImageResult(r) ? "[" : ".items[") + std::to_string(*r.item) + "]";
  return s;
}

// What a finding is about: the container of a workload, the line of an image input.
std::string FindingPlace(const CheckResult& r, const policy::Finding& f) {
  if (IsImageResult(r)) {
    const int line = FindingLine(r, f);
    return line > 0 ? "line " + std::to_string(line) : "image";
  }
  if (r.kind == "ComposeService") return "service " + f.container;
  return f.container.empty() ? "pod" : "container " + f.container;
}

void PrintFindings(const CheckResult& r, const std::vector<policy::Finding>& findings,
                   const char* label, const char* colour, const Colours& c, std::ostream& out) {
  for (const policy::Finding& f : findings) {
    out << "    " << colour << label << c.reset << " [" << policy::RuleName(f.rule) << "] "
        << FindingPlace(r, f) << ", " << f.field << ": " << f.message << "\n";
  }
}

void PrintText(const CheckReport& report, bool colour, std::ostream& out) {
  size_t allowed = 0, denied = 0, skipped = 0;
  for (const CheckResult& r : report.results) {
    PrintResultText(r, colour, out);
    if (r.skipped) {
      ++skipped;
    } else {
      ++(r.decision.allowed ? allowed : denied);
    }
  }
  PrintNamespaceTable(report, out);
  PrintCheckedLine(allowed, denied, skipped, report.errors.size(), colour, out);
}

json FindingsJson(const CheckResult& r, const std::vector<policy::Finding>& findings) {
  json arr = json::array();
  for (const policy::Finding& f : findings) {
    arr.push_back({{"rule", policy::RuleName(f.rule)},
                   {"container", f.container},
                   {"field", f.field},
                   {"line", FindingLine(r, f)},
                   {"reason", f.reason},
                   {"message", f.message}});
  }
  return arr;
}

}  // namespace

json CheckResultJson(const CheckResult& r) {
  json j = {{"source", r.source},       {"document", r.document},
            {"line", r.line},           {"apiVersion", r.api_version},
            {"kind", r.kind},           {"namespace", r.namespace_name},
            {"name", r.name},           {"allowed", r.decision.allowed},
            {"skipped", r.skipped},     {"violations", FindingsJson(r, r.decision.violations)},
            {"warnings", FindingsJson(r, r.decision.warnings)}};
  if (r.item) j["item"] = *r.item;
  if (!r.profiles.empty()) j["profiles"] = r.profiles;
  if (r.skipped) j["skipReason"] = r.skip_reason;
  if (!r.decision.audits.empty()) j["audit"] = FindingsJson(r, r.decision.audits);
  return j;
}

namespace {

void PrintJson(const CheckReport& report, std::ostream& out) {
  json results = json::array();
  size_t allowed = 0, denied = 0, skipped = 0;
  for (const CheckResult& r : report.results) {
    results.push_back(CheckResultJson(r));
    if (r.skipped) {
      ++skipped;
    } else {
      ++(r.decision.allowed ? allowed : denied);
    }
  }
  json errors = json::array();
  for (const CheckError& e : report.errors) {
    errors.push_back({{"source", e.source}, {"document", e.document}, {"line", e.line},
                      {"message", e.message}});
  }
  json doc = {{"results", std::move(results)},
              {"errors", std::move(errors)},
              {"summary",
               {{"checked", allowed + denied},
                {"allowed", allowed},
                {"denied", denied},
                {"skipped", skipped},
                {"errors", report.errors.size()}}}};
  // Inputs are files in any encoding: a byte that is not UTF-8 (a Latin-1 USER name, a
  // parser message quoting it) is printed as U+FFFD instead of throwing.
  out << doc.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

}  // namespace

void PrintResultText(const CheckResult& r, bool colour, std::ostream& out) {
  const Colours c = MakeColours(colour);
  if (r.skipped) {
    out << c.dim << "SKIP  " << ResultSubject(r) << "  (" << Where(r) << ": " << r.skip_reason << ")" << c.reset
        << "\n";
    return;
  }
  const bool ok = r.decision.allowed;
  out << (ok ? c.green : c.red) << (ok ? "ALLOW " : "DENY  ") << c.reset << ResultSubject(r) << "  " << c.dim
      << "(" << Where(r) << ")" << c.reset << "\n";
  PrintFindingsText(r, colour, out);
}

void PrintCheckedLine(size_t allowed, size_t denied, size_t skipped, size_t errors, bool colour, std::ostream& out) {
  const Colours c = MakeColours(colour);
  out << "\nchecked " << (allowed + denied) << ": " << allowed << " allowed, " << denied << " denied, " << skipped
      << " skipped";
  if (errors > 0) out << ", " << c.red << errors << " errors" << c.reset;
  out << "\n";
}

void PrintFindingsText(const CheckResult& r, bool colour, std::ostream& out) {
  const Colours c = MakeColours(colour);
  PrintFindings(r, r.decision.violations, "deny", c.red, c, out);
  PrintFindings(r, r.decision.warnings, "warn", c.yellow, c, out);
  PrintFindings(r, r.decision.audits, "audit", c.yellow, c, out);
}

bool IsImageResult(const CheckResult& r) {
  return r.api_version.empty() && (r.kind == "Dockerfile" || r.kind == "ImageConfig" || r.kind == "Image");
}

std::string ResultSubject(const CheckResult& r) {
  std::string ns = r.namespace_name.empty() ? "" : r.namespace_name + "/";
  std::string s = r.kind + " " + ns + (r.name.empty() ? "(unnamed)" : r.name);
  for (size_t i = 0; i < r.profiles.size(); ++i) {
    s += (i == 0 ? " (profile " : ", ") + r.profiles[i] + (i + 1 == r.profiles.size() ? ")" : "");
  }
  return s;
}

void PrintReport(const CheckReport& report, OutputFormat format, bool colour, std::ostream& out) {
  switch (format) {
    case OutputFormat::kJson:
      return PrintJson(report, out);
    case OutputFormat::kJunit:
      return PrintJunit(report, out);
    case OutputFormat::kSarif:
      return PrintSarif(report, out);
    case OutputFormat::kText:
      return PrintText(report, colour, out);
  }
}

}  // namespace rootgate::server
