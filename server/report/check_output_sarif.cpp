// SARIF 2.1.0 output of `rootgate check`, for code scanning (GitHub, GitLab, Azure DevOps):
// the rule IDs as the driver's rules, each finding a result located at its file and line.
#include <array>
#include <cctype>
#include <ostream>

#include <nlohmann/json.hpp>

#include "policy/rules/rule.h"
#include "server/report/check_output_formats.h"

namespace rootgate::server {

namespace {

using nlohmann::json;
using policy::RuleId;

struct RuleText {
  const char* name;      // PascalCase, SARIF reportingDescriptor.name
  const char* summary;   // shortDescription
  const char* fix;       // help
  const char* severity;  // GitHub's security-severity (0.0-10.0): rootgate's own ranking
};

// By RuleId order.
constexpr std::array<RuleText, policy::kRuleCount> kRuleTexts = {{
    {"RootUser", "A container would run as root (UID 0, or a Windows administrator account)",
     "Set securityContext.runAsUser to a non-zero UID (with runAsNonRoot: true), or build the "
     "image with USER set to a non-zero numeric UID (USER 10001). On Windows, set "
     "windowsOptions.runAsUserName to ContainerUser (NT AUTHORITY\\Local service for "
     "HostProcess).",
     "8.0"},
    {"UnknownUser", "A container's user cannot be known and nothing guarantees non-root",
     "Set securityContext.runAsUser to the numeric UID the container should run as, or "
     "runAsNonRoot: true so that the kubelet refuses to start it as root; in a Dockerfile, set "
     "USER to a numeric UID.",
     "6.0"},
    {"RunAsNonRoot", "runAsNonRoot is not true for the pod or every container (PSS restricted)",
     "Set spec.securityContext.runAsNonRoot: true (or on every container).", "5.0"},
    {"RunAsUser", "runAsUser is 0 at pod or container level (PSS restricted)",
     "Remove runAsUser: 0 or set it to a non-zero UID.", "8.0"},
    {"Privileged",
     "A container is privileged or a Windows HostProcess: root on the host in all but name",
     "Remove securityContext.privileged: true (grant only the capabilities it needs) and "
     "windowsOptions.hostProcess: true (run a normal Windows container).",
     "9.0"},
    {"AllowPrivilegeEscalation", "allowPrivilegeEscalation is not explicitly false",
     "Set securityContext.allowPrivilegeEscalation: false on every container.", "5.0"},
    {"RootGroup", "A container would run with GID 0 (runAsGroup: 0)",
     "Set securityContext.runAsGroup to a non-zero GID.", "4.0"},
    {"UidRange", "A container's UID is outside the policy's allowedUIDRanges",
     "Set securityContext.runAsUser (or the image's USER) to a UID inside the allowed ranges.",
     "4.0"},
}};

json RulesJson() {
  json rules = json::array();
  for (const policy::RuleDef& def : policy::RuleRegistry::Builtin().rules()) {
    const RuleText& t = kRuleTexts[static_cast<size_t>(def.id)];
    const std::string full = std::string(t.summary) + ". Reads: " + std::string(def.reads) +
                             ". Allows: " + std::string(def.allows) + ".";
    rules.push_back(
        {{"id", std::string(policy::RuleName(def.id))},
         {"name", t.name},
         {"shortDescription", {{"text", t.summary}}},
         {"fullDescription", {{"text", full}}},
         {"help", {{"text", t.fix}, {"markdown", std::string("**Fix:** ") + t.fix}}},
         {"defaultConfiguration", {{"level", "error"}}},
         {"properties", {{"tags", {"security", "kubernetes", "containers"}},
                         {"security-severity", t.severity}}}});
  }
  return rules;
}

// A file path as a URI reference: relative paths stay relative (to %SRCROOT%), absolute ones
// become file:// URIs; characters outside RFC 3986's unreserved set and '/' are %-encoded.
std::string PathUri(std::string_view path, bool* relative) {
  if (path == "-") path = "stdin";
  while (path.starts_with("./")) path.remove_prefix(2);
  *relative = !path.starts_with("/");
  std::string out = *relative ? "" : "file://";
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
  }
  return out;
}

json PhysicalLocation(const std::string& source, int line) {
  bool relative = true;
  json artifact = {{"uri", PathUri(source, &relative)}};
  if (relative) artifact["uriBaseId"] = "%SRCROOT%";
  json location = {{"artifactLocation", std::move(artifact)}};
  if (line > 0) location["region"] = {{"startLine", line}};
  return location;
}

json ResultJson(const CheckResult& r, const policy::Finding& f, const char* level) {
  json location = json::object();
  if (r.kind != "Image" || !IsImageResult(r)) location["physicalLocation"] = PhysicalLocation(r.source, FindingLine(r, f));
  std::string logical = ResultSubject(r);
  if (!f.container.empty()) logical += " container " + f.container;
  location["logicalLocations"] = json::array({{{"fullyQualifiedName", logical}, {"kind", "object"}}});
  return {{"ruleId", std::string(policy::RuleName(f.rule))},
          {"ruleIndex", static_cast<size_t>(f.rule)},
          {"level", level},
          {"message", {{"text", f.message}}},
          {"locations", json::array({std::move(location)})},
          {"properties", {{"field", f.field}, {"reason", f.reason}}}};
}

json NotificationJson(const CheckError& e) {
  return {{"level", "error"},
          {"message", {{"text", e.ToString()}}},
          {"locations",
           json::array({{{"physicalLocation", PhysicalLocation(e.source, e.whole_file ? 0 : e.line)}}})}};
}

}  // namespace

void PrintSarif(const CheckReport& report, std::ostream& out) {
  json results = json::array();
  for (const CheckResult& r : report.results) {
    for (const policy::Finding& f : r.decision.violations) results.push_back(ResultJson(r, f, "error"));
    for (const policy::Finding& f : r.decision.warnings) results.push_back(ResultJson(r, f, "warning"));
    for (const policy::Finding& f : r.decision.audits) results.push_back(ResultJson(r, f, "note"));
  }
  json notifications = json::array();
  for (const CheckError& e : report.errors) notifications.push_back(NotificationJson(e));
  json invocation = {{"executionSuccessful", report.errors.empty()}};
  if (!notifications.empty()) invocation["toolExecutionNotifications"] = std::move(notifications);
  json driver = {{"name", "rootgate"},
                 {"version", ROOTGATE_VERSION},
                 {"semanticVersion", ROOTGATE_VERSION},
                 {"rules", RulesJson()}};
  json log = {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
              {"version", "2.1.0"},
              {"runs", json::array({{{"tool", {{"driver", std::move(driver)}}},
                                     {"invocations", json::array({std::move(invocation)})},
                                     {"results", std::move(results)}}})}};
  // Inputs are files in any encoding: a byte that is not UTF-8 (a Latin-1 USER name, a
  // parser message quoting it) is printed as U+FFFD instead of throwing.
  out << log.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

}  // namespace rootgate::server
