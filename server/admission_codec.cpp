#include "server/admission_codec.h"

#include <map>

#include "server/json_prune.h"

namespace rootgate::server {

using nlohmann::json;

namespace {

// A string field of an object; absent or null gives "", another type an error.
bool ReadString(const json& obj, const char* key, const std::string& path, std::string* out,
                std::string* error) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return true;
  if (!it->is_string()) {
    *error = path + "." + key + ": expected a string, got " + it->type_name();
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

bool ReadGvk(const json& req, const char* key, const char* last, policy::GroupVersionKind* out,
             std::string* error) {
  auto it = req.find(key);
  if (it == req.end() || it->is_null()) return true;
  const std::string path = std::string("request.") + key;
  if (!it->is_object()) {
    *error = path + ": expected an object, got " + it->type_name();
    return false;
  }
  return ReadString(*it, "group", path, &out->group, error) &&
         ReadString(*it, "version", path, &out->version, error) &&
         ReadString(*it, last, path, &out->kind, error);
}

json Take(json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) return json();
  return std::move(*it);
}

}  // namespace

Result<DecodedReview> DecodeReview(json&& review) {
  if (!review.is_object()) return Error{std::string("body: expected an AdmissionReview object, got ") + review.type_name()};
  DecodedReview out;
  std::string error, kind;
  if (!ReadString(review, "apiVersion", "body", &out.api_version, &error) ||
      !ReadString(review, "kind", "body", &kind, &error)) {
    return Error{error};
  }
  if (kind != "AdmissionReview") return Error{"body.kind: expected AdmissionReview, got \"" + kind + "\""};
  if (out.api_version != "admission.k8s.io/v1" && out.api_version != "admission.k8s.io/v1beta1") {
    return Error{"body.apiVersion: expected admission.k8s.io/v1 or admission.k8s.io/v1beta1, got \"" +
                 out.api_version + "\""};
  }
  auto req_it = review.find("request");
  if (req_it == review.end() || !req_it->is_object()) return Error{"body.request: missing or not an object"};
  json& req = *req_it;
  policy::Request& r = out.request;
  auto uid = req.find("uid");
  if (uid == req.end() || !uid->is_string() || uid->get_ref<const std::string&>().empty()) {
    return Error{"request.uid: missing, empty or not a string"};
  }
  r.uid = uid->get<std::string>();
  if (!ReadGvk(req, "kind", "kind", &r.kind, &error) ||
      !ReadGvk(req, "resource", "resource", &r.resource, &error) ||
      !ReadString(req, "subResource", "request", &r.sub_resource, &error) ||
      !ReadString(req, "operation", "request", &r.operation, &error) ||
      !ReadString(req, "name", "request", &r.name, &error) ||
      !ReadString(req, "namespace", "request", &r.namespace_name, &error)) {
    return Error{error};
  }
  if (auto ui = req.find("userInfo"); ui != req.end() && ui->is_object()) {
    if (!ReadString(*ui, "username", "request.userInfo", &r.username, &error)) return Error{error};
  }
  if (auto dry = req.find("dryRun"); dry != req.end() && !dry->is_null()) {
    if (!dry->is_boolean()) return Error{std::string("request.dryRun: expected a boolean, got ") + dry->type_name()};
    r.dry_run = dry->get<bool>();
  }
  r.object = Take(req, "object");
  r.old_object = Take(req, "oldObject");
  return out;
}

namespace {

// What DecodeReview reads, and nothing else: managedFields, status, requestKind, userInfo.groups
// and the like are validated as JSON but never built. Everything else of an object is kept: the
// pod spec sits under spec or template, and an UPDATE compares whole pod templates.
const JsonShape kObjectMetadata{{"name"}, {"namespace"}};
const JsonShape kObject{JsonShape::kKeep, {{"metadata", &kObjectMetadata}, {"status", nullptr, true}}};
const JsonShape kUserInfo{{"username"}};
const JsonShape kRequest{{"uid"},         {"kind"},      {"resource"}, {"subResource"},
                         {"operation"},   {"name"},      {"namespace"},
                         {"userInfo", &kUserInfo},       {"dryRun"},
                         {"object", &kObject},           {"oldObject", &kObject}};
const JsonShape kReview{{"apiVersion"}, {"kind"}, {"request", &kRequest}};

}  // namespace

Result<DecodedReview> DecodeReviewText(std::string_view body) {
  if (body.empty()) return Error{"body: empty"};
  auto parsed = ParsePruned(body, &kReview);
  if (!parsed) return Error{"body: invalid JSON: " + parsed.error()};
  return DecodeReview(std::move(parsed).value());
}

json EncodeReply(std::string_view api_version, std::string_view uid,
                 const policy::Decision& decision) {
  json response = {{"uid", uid}, {"allowed", decision.allowed}};
  if (!decision.allowed) {
    const bool bad_object = !decision.error.empty();
    response["status"] = {
        {"code", bad_object ? 400 : 403},
        {"reason", bad_object ? "BadRequest" : "Forbidden"},
        {"message", bad_object ? "rootgate: " + decision.error
                               : "rootgate: " + policy::DenyMessage(decision)}};
  }
  if (!decision.warnings.empty()) {
    json warnings = json::array();
    for (const auto& w : decision.warnings) warnings.push_back("rootgate: " + w.message);
    response["warnings"] = std::move(warnings);
  }
  if (!decision.audits.empty()) {
    std::map<std::string, std::string> by_rule;
    for (const auto& a : decision.audits) {
      std::string& v = by_rule[std::string(policy::RuleName(a.rule))];
      v += (v.empty() ? "" : "; ") + a.message;
    }
    response["auditAnnotations"] = by_rule;
  }
  return {{"apiVersion", api_version}, {"kind", "AdmissionReview"}, {"response", std::move(response)}};
}

}  // namespace rootgate::server
