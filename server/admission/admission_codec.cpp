#include "server/admission/admission_codec.h"

#include <map>

#include "server/util/json_prune.h"
#include "server/util/json_text.h"

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
// and the like are validated as JSON but never built.
const JsonShape kObjectMetadata{{"name"}, {"namespace"}};
// Of an object, by default only what BuildWorkloadView, the pull secrets and the pod UPDATE comparison read (see
// policy::ComparesWholeTemplates): the pod spec sits under spec, spec.template,
// spec.jobTemplate.spec.template or template, and the one shape serves every level.
extern const JsonShape kSpec;
const JsonShape kContainer{{"name"}, {"image"}, {"restartPolicy"}, {"securityContext"}};
const JsonShape kTemplate{{"spec", &kSpec}};
// The platforms a pod can land on (policy/placement.h): required node affinity only.
const JsonShape kNodeAffinity{{"requiredDuringSchedulingIgnoredDuringExecution"}};
const JsonShape kAffinity{{"nodeAffinity", &kNodeAffinity}};
const JsonShape kSpec{{"securityContext"},  {"hostUsers"},
                      {"runtimeClassName"}, {"os"},
                      {"nodeSelector"},     {"affinity", &kAffinity},
                      // The pull secrets --kube-api reads (server/kube/pull_secrets.h).
                      {"imagePullSecrets"}, {"serviceAccountName"}, {"serviceAccount"},
                      {"initContainers", &kContainer},
                      {"containers", &kContainer},
                      {"ephemeralContainers", &kContainer},
                      {"template", &kTemplate},
                      {"jobTemplate", &kTemplate}};
const JsonShape kObjectFields{{"metadata", &kObjectMetadata}, {"spec", &kSpec}, {"template", &kTemplate}};
// An UPDATE of a workload compares whole pod templates: everything but status is kept.
const JsonShape kObjectWhole{JsonShape::kKeep, {{"metadata", &kObjectMetadata}, {"status", nullptr, true}}};

const JsonShape kUserInfo{{"username"}};

JsonShape RequestShape(const JsonShape* object) {
  return {{"uid"},       {"kind"},     {"resource"},          {"subResource"},
          {"operation"}, {"name"},     {"namespace"},         {"userInfo", &kUserInfo},
          {"dryRun"},    {"object", object}, {"oldObject", object}};
}
const JsonShape kRequestFields = RequestShape(&kObjectFields);
const JsonShape kRequestWhole = RequestShape(&kObjectWhole);
const JsonShape kReviewFields{{"apiVersion"}, {"kind"}, {"request", &kRequestFields}};
const JsonShape kReviewWhole{{"apiVersion"}, {"kind"}, {"request", &kRequestWhole}};

Result<DecodedReview> DecodeWith(std::string_view body, const JsonShape& shape) {
  auto parsed = ParsePruned(body, &shape);
  if (!parsed) return Error{"body: invalid JSON: " + parsed.error()};
  return DecodeReview(std::move(parsed).value());
}

}  // namespace

Result<DecodedReview> DecodeReviewText(std::string_view body) {
  if (body.empty()) return Error{"body: empty"};
  auto decoded = DecodeWith(body, kReviewFields);
  // Rare (a controller's update): parse again, keeping the whole objects this time.
  if (decoded && policy::ComparesWholeTemplates(decoded.value().request)) {
    return DecodeWith(body, kReviewWhole);
  }
  return decoded;
}

Reply ReplyTo(std::string_view api_version, std::string_view uid, const policy::Decision& decision) {
  Reply r;
  r.api_version = std::string(api_version);
  r.uid = std::string(uid);
  r.allowed = decision.allowed;
  if (!decision.allowed) {
    const bool bad_object = !decision.error.empty();
    r.code = bad_object ? 400 : 403;
    r.reason = bad_object ? "BadRequest" : "Forbidden";
    r.message = "rootgate: " + (bad_object ? decision.error : policy::DenyMessage(decision));
  }
  for (const auto& w : decision.warnings) r.warnings.push_back("rootgate: " + w.message);
  for (const auto& a : decision.audits) {
    std::string& v = r.audit_annotations[std::string(policy::RuleName(a.rule))];
    v += (v.empty() ? "" : "; ") + a.message;
  }
  return r;
}

json ReplyJson(const Reply& reply) {
  json response = {{"uid", reply.uid}, {"allowed", reply.allowed}};
  if (reply.code != 0) {
    response["status"] = {{"code", reply.code}, {"reason", reply.reason}, {"message", reply.message}};
  }
  if (!reply.warnings.empty()) response["warnings"] = reply.warnings;
  if (!reply.audit_annotations.empty()) response["auditAnnotations"] = reply.audit_annotations;
  return {{"apiVersion", reply.api_version}, {"kind", "AdmissionReview"}, {"response", std::move(response)}};
}


std::string ReplyText(const Reply& reply) {
  // Members in nlohmann's order (std::map: sorted by key).
  std::string out;
  out.reserve(256 + reply.message.size());
  out.append("{\"apiVersion\":");
  AppendJsonString(&out, reply.api_version);
  out.append(",\"kind\":\"AdmissionReview\",\"response\":{\"allowed\":");
  out.append(reply.allowed ? "true" : "false");
  if (!reply.audit_annotations.empty()) {
    out.append(",\"auditAnnotations\":{");
    bool first = true;
    for (const auto& [key, value] : reply.audit_annotations) {
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(&out, key);
      out.push_back(':');
      AppendJsonString(&out, value);
    }
    out.push_back('}');
  }
  if (reply.code != 0) {
    out.append(",\"status\":{\"code\":");
    out.append(std::to_string(reply.code));
    out.append(",\"message\":");
    AppendJsonString(&out, reply.message);
    out.append(",\"reason\":");
    AppendJsonString(&out, reply.reason);
    out.push_back('}');
  }
  out.append(",\"uid\":");
  AppendJsonString(&out, reply.uid);
  if (!reply.warnings.empty()) {
    out.append(",\"warnings\":[");
    for (size_t i = 0; i < reply.warnings.size(); ++i) {
      if (i > 0) out.push_back(',');
      AppendJsonString(&out, reply.warnings[i]);
    }
    out.push_back(']');
  }
  out.append("}}");
  return out;
}

json EncodeReply(std::string_view api_version, std::string_view uid,
                 const policy::Decision& decision) {
  return ReplyJson(ReplyTo(api_version, uid, decision));
}

}  // namespace rootgate::server
