// Text, JSON and document (JUnit, SARIF) output of `rootgate audit`.
#include <ostream>

#include "server/audit/audit_output.h"

namespace rootgate::server::audit {

using nlohmann::json;

namespace {

std::string Subject(const AuditResult& r) { return ResultSubject(r.check); }

json ErrorsJson(const AuditSummary& s) {
  json errors = json::array();
  for (const KindError& e : s.errors) {
    errors.push_back({{"resource", e.resource}, {"status", e.error.status}, {"reason", e.error.reason},
                      {"message", e.error.message}});
  }
  for (const CheckError& e : s.object_errors) errors.push_back({{"message", e.message}});
  return errors;
}

json SummaryJson(const AuditSummary& s) {
  return {{"checked", s.allowed + s.denied},
          {"allowed", s.allowed},
          {"denied", s.denied},
          {"skipped", s.skipped},
          {"errors", s.errors.size() + s.object_errors.size()},
          {"complete", s.complete()},
          {"observedContainers", s.observed_containers},
          {"observedRoot", s.observed_root},
          {"requests", s.requests.requests},
          {"retries", s.requests.retries},
          {"durationMs", s.duration.count()}};
}

class TextSink final : public PrintingSink {
 public:
  TextSink(std::ostream& out, bool colour) : out_(out), colour_(colour) {}

  void OnResult(const AuditResult& r) override {
    CountNamespaceRow(r.check, &rows_);
    const char* dim = colour_ ? "\033[2m" : "";
    const char* reset = colour_ ? "\033[0m" : "";
    if (r.check.skipped) {
      out_ << dim << "SKIP  " << Subject(r) << "  (" << r.check.skip_reason << ")" << reset << "\n";
      return;
    }
    const bool ok = r.check.decision.allowed;
    out_ << (colour_ ? (ok ? "\033[32m" : "\033[31m") : "") << (ok ? "ALLOW " : "DENY  ") << reset << Subject(r);
    if (!r.owner_kind.empty()) out_ << "  " << dim << "(owner " << r.owner_kind << " " << r.owner_name << ")" << reset;
    out_ << "\n";
    PrintFindingsText(r.check, colour_, out_);
    for (const ObservedUser& o : r.observed) {
      out_ << "    observed container " << o.container << ": uid " << o.uid;
      if (o.gid) out_ << " gid " << *o.gid;
      out_ << " (" << o.field << ")\n";
    }
  }

  void Finish(const AuditSummary& s) override {
    if (!rows_.empty()) PrintNamespaceRows(rows_, out_);
    out_ << "\naudited " << (s.allowed + s.denied) << ": " << s.allowed << " allowed, " << s.denied << " denied, "
         << s.skipped << " skipped; the kubelet reported the uid of " << s.observed_containers << " containers ("
         << s.observed_root << " root)";
    if (!s.complete()) out_ << "; INCOMPLETE: " << s.errors.size() << " kinds could not be listed";
    out_ << "\n";
  }

 private:
  std::ostream& out_;
  bool colour_;
  std::map<std::string, NamespaceRow> rows_;
};

class JsonSink final : public PrintingSink {
 public:
  explicit JsonSink(std::ostream& out) : out_(out) {}

  void OnResult(const AuditResult& r) override {
    out_ << (first_ ? "{\"results\": [\n  " : ",\n  ")
         << AuditResultJson(r).dump(-1, ' ', false, json::error_handler_t::replace);
    first_ = false;
  }

  void Finish(const AuditSummary& s) override {
    out_ << (first_ ? "{\"results\": [" : "\n") << "],\n \"errors\": " << ErrorsJson(s).dump()
         << ",\n \"notes\": " << json(s.notes).dump(-1, ' ', false, json::error_handler_t::replace)
         << ",\n \"summary\": " << SummaryJson(s).dump() << "}\n";
  }

 private:
  std::ostream& out_;
  bool first_ = true;
};

class DocumentSink final : public PrintingSink {
 public:
  DocumentSink(std::ostream& out, OutputFormat format) : out_(out), format_(format) {}
  void OnResult(const AuditResult& r) override { report_.results.push_back(r.check); }
  void Finish(const AuditSummary& s) override {
    for (const KindError& e : s.errors) report_.errors.push_back({"cluster", 0, 0, e.error.message, true});
    for (const CheckError& e : s.object_errors) report_.errors.push_back(e);
    PrintReport(report_, format_, false, out_);
  }

 private:
  std::ostream& out_;
  OutputFormat format_;
  CheckReport report_;
};

}  // namespace

json AuditResultJson(const AuditResult& r) {
  json j = CheckResultJson(r.check);
  j.erase("document");
  j.erase("line");
  if (!r.uid.empty()) j["uid"] = r.uid;
  if (!r.owner_kind.empty()) j["owner"] = {{"kind", r.owner_kind}, {"name", r.owner_name}};
  if (!r.observed.empty()) {
    json observed = json::array();
    for (const ObservedUser& o : r.observed) {
      json e = {{"container", o.container}, {"uid", o.uid}, {"field", o.field}};
      e["gid"] = o.gid ? json(*o.gid) : json(nullptr);
      observed.push_back(std::move(e));
    }
    j["observed"] = std::move(observed);
  }
  return j;
}

std::unique_ptr<PrintingSink> MakeTextSink(std::ostream& out, bool colour) {
  return std::make_unique<TextSink>(out, colour);
}
std::unique_ptr<PrintingSink> MakeJsonSink(std::ostream& out) { return std::make_unique<JsonSink>(out); }
std::unique_ptr<PrintingSink> MakeDocumentSink(std::ostream& out, OutputFormat format) {
  return std::make_unique<DocumentSink>(out, format);
}

}  // namespace rootgate::server::audit
