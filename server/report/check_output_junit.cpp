// JUnit XML output of `rootgate check`, for CI systems that show test reports (GitLab, Jenkins,
// Azure DevOps): each input file is a <testsuite>, each workload, Dockerfile or image config a
// <testcase> that fails when it is denied.
#include <map>
#include <ostream>
#include <vector>

#include "server/report/check_output_formats.h"

namespace rootgate::server {

namespace {

// Escapes text for XML attributes and content. Characters XML 1.0 cannot hold (controls other
// than tab, newline and carriage return) become '?'.
std::string Xml(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\n': out += "&#10;"; break;
      case '\r': out += "&#13;"; break;
      case '\t': out += "&#9;"; break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    }
  }
  return out;
}

std::string FindingText(const CheckResult& r, const policy::Finding& f, std::string_view label) {
  std::string s = std::string(label) + " [" + std::string(policy::RuleName(f.rule)) + "] ";
  if (!f.container.empty()) s += "container " + f.container + ", ";
  return s + f.field + " (" + r.source + ":" + std::to_string(FindingLine(r, f)) + "): " + f.message;
}

// The results and errors of one input file, in report order.
struct Suite {
  std::vector<const CheckResult*> results;
  std::vector<const CheckError*> errors;
  size_t failures = 0, skipped = 0;
};

void PrintCase(const CheckResult& r, std::ostream& out) {
  out << "    <testcase classname=\"" << Xml(r.source) << "\" name=\"" << Xml(ResultSubject(r))
      << "\" file=\"" << Xml(r.source) << "\" line=\"" << r.line << "\"";
  const policy::Decision& d = r.decision;
  if (!r.skipped && d.allowed && d.warnings.empty() && d.audits.empty()) {
    out << "/>\n";
    return;
  }
  out << ">\n";
  if (r.skipped) out << "      <skipped message=\"" << Xml(r.skip_reason) << "\"/>\n";
  if (!r.skipped && !d.allowed) {
    const policy::Finding& first = d.violations.front();
    std::string body;
    for (const policy::Finding& f : d.violations) body += FindingText(r, f, "deny") + "\n";
    out << "      <failure type=\"" << policy::RuleName(first.rule) << "\" message=\""
        << Xml(first.message) << "\">" << Xml(body) << "</failure>\n";
  }
  std::string notes;
  for (const policy::Finding& f : d.warnings) notes += FindingText(r, f, "warn") + "\n";
  for (const policy::Finding& f : d.audits) notes += FindingText(r, f, "audit") + "\n";
  if (!notes.empty()) out << "      <system-out>" << Xml(notes) << "</system-out>\n";
  out << "    </testcase>\n";
}

void PrintErrorCase(const CheckError& e, std::ostream& out) {
  const std::string name = e.whole_file  ? "read " + e.source
                           : e.line_only ? "line " + std::to_string(e.line)
                                         : "document " + std::to_string(e.document);
  out << "    <testcase classname=\"" << Xml(e.source) << "\" name=\"" << Xml(name) << "\">\n"
      << "      <error type=\"input\" message=\"" << Xml(e.ToString()) << "\"/>\n"
      << "    </testcase>\n";
}

}  // namespace

void PrintJunit(const CheckReport& report, std::ostream& out) {
  std::vector<std::string> order;
  std::map<std::string, Suite> suites;
  const auto suite = [&](const std::string& source) -> Suite& {
    if (suites.count(source) == 0) order.push_back(source);
    return suites[source];
  };
  size_t failures = 0, skipped = 0;
  for (const CheckResult& r : report.results) {
    Suite& s = suite(r.source);
    s.results.push_back(&r);
    if (r.skipped) ++s.skipped, ++skipped;
    if (!r.skipped && !r.decision.allowed) ++s.failures, ++failures;
  }
  for (const CheckError& e : report.errors) suite(e.source).errors.push_back(&e);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"rootgate check\" tests=\"" << report.results.size() + report.errors.size()
      << "\" failures=\"" << failures << "\" errors=\"" << report.errors.size() << "\" skipped=\""
      << skipped << "\">\n";
  for (const std::string& source : order) {
    const Suite& s = suites[source];
    out << "  <testsuite name=\"" << Xml(source) << "\" tests=\"" << s.results.size() + s.errors.size()
        << "\" failures=\"" << s.failures << "\" errors=\"" << s.errors.size() << "\" skipped=\""
        << s.skipped << "\">\n";
    for (const CheckResult* r : s.results) PrintCase(*r, out);
    for (const CheckError* e : s.errors) PrintErrorCase(*e, out);
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
}

}  // namespace rootgate::server
