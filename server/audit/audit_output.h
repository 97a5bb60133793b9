// Output of `rootgate audit`: sinks that print results as they are found (text, JSON in
// `check`'s shape), one that keeps them for the formats that need the whole set (JUnit, SARIF),
// and the per-namespace PolicyReport / OpenReports Report builder. Each sink is used from one
// thread; Finish prints the tail (table, summary, errors) exactly once.
#pragma once

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/audit/audit.h"
#include "server/report/check_output_formats.h"

namespace rootgate::server::audit {

class PrintingSink : public AuditSink {
 public:
  // Prints what follows the results: the summary, notes and errors.
  virtual void Finish(const AuditSummary& summary) = 0;
};

// Text: one line per object ("DENY  Pod demo/web  (owner ReplicaSet web-1)"), its findings and
// observed uids; then the per-namespace table and a summary line.
std::unique_ptr<PrintingSink> MakeTextSink(std::ostream& out, bool colour);

// JSON, streamed: {"results": [...], "errors": [...], "notes": [...], "summary": {...}}; each
// result in `check -o json`'s shape plus "observed" and, for a Pod, "owner".
std::unique_ptr<PrintingSink> MakeJsonSink(std::ostream& out);

// JUnit or SARIF: kept in memory (these formats are documents), printed by Finish.
std::unique_ptr<PrintingSink> MakeDocumentSink(std::ostream& out, OutputFormat format);

// The JSON of one audit result (check's shape + observed + owner).
nlohmann::json AuditResultJson(const AuditResult& r);

enum class ReportApi { kPolicyReport, kOpenReports };  // wgpolicyk8s.io/v1alpha2, openreports.io/v1alpha1

// Builds one report per namespace: for every evaluated object, one result per rule active in
// its namespace (fail: a violation; warn: only warnings; pass: none), a skip for an exempt
// object; the object in `resources`; summary counts.
class ReportBuilder : public AuditSink {
 public:
  ReportBuilder(const policy::Policy& policy, ReportApi api, int64_t unix_seconds);
  void OnResult(const AuditResult& result) override;
  // The reports, by namespace (only namespaces with objects).
  std::map<std::string, nlohmann::json> Reports() const;

 private:
  const policy::Policy& policy_;
  ReportApi api_;
  int64_t now_;
  std::map<std::string, nlohmann::json> results_;  // namespace → results array
};

// The name, group/version and plural of rootgate's reports.
inline constexpr const char* kReportName = "rootgate";
kube::ApiResource ReportResource(ReportApi api);

// Writes `reports` with server-side apply (field manager "rootgate") and deletes rootgate's
// reports (label app.kubernetes.io/managed-by=rootgate) in namespaces not in `reports` (only
// `only_namespace` when set). Returns the errors ("" each line) and what was done in *done.
std::vector<std::string> WriteReports(kube::KubeClient& client, ReportApi api,
                                      const std::map<std::string, nlohmann::json>& reports,
                                      const std::string& only_namespace, std::vector<std::string>* done);

}  // namespace rootgate::server::audit
