#include "server/inputs/check_text.h"

#include <unistd.h>

#include <ostream>

#include "policy/admission.h"
#include "policy/evaluator.h"
#include "policy/workload.h"
#include "server/admission/admission_codec.h"
#include "server/util/files.h"
#include "server/inputs/image_config.h"
#include "server/inputs/manifest_lines.h"
#include "server/inputs/manifest_reader.h"
#include "server/inputs/pod_facts.h"
#include "server/inputs/policy_source.h"

namespace rootgate::server {

using nlohmann::json;

namespace {

std::string StringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string MetaField(const json& obj, const char* key) {
  auto it = obj.find("metadata");
  return it != obj.end() && it->is_object() ? StringField(*it, key) : std::string();
}

struct DocContext {
  const std::string& source;
  const Document& doc;
  const policy::Policy& policy;
  const policy::ImageFacts& facts;
  CheckReport* report;

  void AddError(const std::string& message) const {
    report->errors.push_back({source, doc.index, doc.line, message});
  }
  CheckResult NewResult(const json& obj) const {
    CheckResult r;
    r.source = source;
    r.document = doc.index;
    r.line = doc.line;
    r.api_version = StringField(obj, "apiVersion");
    r.kind = StringField(obj, "kind");
    r.namespace_name = MetaField(obj, "namespace");
    r.name = MetaField(obj, "name");
    return r;
  }
};

void CheckReviewObject(const DocContext& ctx, json obj) {
  CheckResult r = ctx.NewResult(obj);
  auto decoded = DecodeReview(std::move(obj));
  if (!decoded) {
    ctx.AddError(decoded.error());
    return;
  }
  const policy::Request& req = decoded.value().request;
  r.kind = req.kind.kind;
  r.api_version = req.kind.group.empty() ? req.kind.version : req.kind.group + "/" + req.kind.version;
  r.namespace_name = req.namespace_name;
  r.name = req.name;
  r.object_path = "request.object";
  r.decision = policy::Validate(req, ctx.facts, ctx.policy);
  if (!r.decision.error.empty()) {
    ctx.AddError(r.decision.error);
    return;
  }
  r.skipped = !r.decision.evaluated;
  r.skip_reason = r.decision.skip_reason;
  ctx.report->results.push_back(std::move(r));
}

void CheckObject(const DocContext& ctx, const json& obj, std::optional<size_t> item) {
  const std::string where = item ? "items[" + std::to_string(*item) + "]: " : "";
  if (!obj.is_object()) {
    ctx.AddError(where + "expected a Kubernetes object (a mapping), got " + obj.type_name());
    return;
  }
  CheckResult r = ctx.NewResult(obj);
  r.item = item;
  if (item) r.object_path = "items[" + std::to_string(*item) + "]";
  if (r.kind.empty()) {
    ctx.AddError(where + "document has no kind");
    return;
  }
  const std::string_view group = policy::GroupOf(r.api_version);
  if (!policy::IsPodBearingKind(group, r.kind)) {
    r.skipped = true;
    r.skip_reason = "not a pod-bearing kind";
    ctx.report->results.push_back(std::move(r));
    return;
  }
  auto view = policy::BuildWorkloadView(group, r.kind, obj);
  if (!view) {
    ctx.AddError(where + r.kind + " " + r.name + ": " + view.error());
    return;
  }
  const std::string ns = r.namespace_name.empty() ? "default" : r.namespace_name;
  policy::EvalContext eval{ns, "", nullptr};
  r.decision = policy::Evaluate(view.value(), FactsForPod(ctx.facts, r.namespace_name, view.value()),
                                ctx.policy, eval);
  r.skipped = !r.decision.evaluated;
  r.skip_reason = r.decision.skip_reason;
  ctx.report->results.push_back(std::move(r));
}

void CheckDocument(const DocContext& ctx, json value) {
  if (const ImageConfigShape shape = DetectImageConfig(value); shape != ImageConfigShape::kNone) {
    CheckImageConfig(ctx.source, ctx.doc.index, ctx.doc.line, value, shape, ctx.policy, ctx.report);
    return;
  }
  if (!value.is_object()) {
    ctx.AddError(std::string("expected a Kubernetes object (a mapping), got ") + value.type_name());
    return;
  }
  const std::string kind = StringField(value, "kind");
  if (kind == "AdmissionReview") {
    CheckReviewObject(ctx, std::move(value));
    return;
  }
  if (kind == "List" || (kind.size() > 4 && kind.ends_with("List") && value.contains("items"))) {
    auto items = value.find("items");
    if (items == value.end() || !items->is_array()) {
      ctx.AddError(kind + ": items: missing or not a list");
      return;
    }
    for (size_t i = 0; i < items->size(); ++i) CheckObject(ctx, (*items)[i], i);
    return;
  }
  CheckObject(ctx, value, std::nullopt);
}

}  // namespace

void CheckText(const std::string& source, std::string_view text, const policy::Policy& policy,
               const policy::ImageFacts& facts, CheckReport* report) {
  ForEachDocument(text, [&](Document&& doc) {
    DocContext ctx{source, doc, policy, facts, report};
    if (!doc.error.empty()) {
      ctx.AddError(doc.error);
      return;
    }
    const size_t first_result = report->results.size();
    CheckDocument(ctx, std::move(doc.value));
    AddFieldLines(doc, text, report, first_result);
  });
}

}  // namespace rootgate::server
