// The reply encoders: ReplyText writes the bytes nlohmann's compact dump of ReplyJson writes
// (checked against nlohmann itself), and ReplyTo carries a decision into the reply's fields.
#include "server/admission/admission_codec.h"

#include <doctest/doctest.h>

#include <string>

namespace rootgate::server {
namespace {

using nlohmann::json;

std::string NlohmannText(const Reply& reply) {
  return ReplyJson(reply).dump(-1, ' ', false, json::error_handler_t::replace);
}

TEST_CASE("ReplyText writes what nlohmann's dump of ReplyJson writes") {
  Reply allowed;
  allowed.api_version = "admission.k8s.io/v1";
  allowed.uid = "705ab4f5-6393-11e8-b7cc-42010a800002";

  Reply denied = allowed;
  denied.api_version = "admission.k8s.io/v1beta1";
  denied.allowed = false;
  denied.code = 403;
  denied.reason = "Forbidden";
  denied.message = "rootgate: [runAsNonRoot] container \"app\" must set spec.containers[0]\\x";

  Reply everything = denied;
  everything.warnings = {"rootgate: first", "rootgate: second \"quoted\""};
  everything.audit_annotations = {{"unknownUser", "a; b"}, {"allowPrivilegeEscalation", "c"}};

  Reply warned = allowed;
  warned.warnings = {"w"};

  Reply audited = allowed;
  audited.audit_annotations = {{"k", "v"}};

  std::vector<Reply> replies = {allowed, denied, everything, warned, audited};
  // Every escape, and UTF-8 valid and not: each maximal invalid prefix becomes one U+FFFD.
  const std::vector<std::string> strings = {
      "",
      std::string("control \x01\x1f\b\f\n\r\t\x7f end"),
      std::string("nul \0 inside", 12),
      "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80",
      "lone continuation \x80 and \xBF",
      "invalid leads \xC0\xC1\xF5\xFF",
      "truncated at the end \xE2\x82",
      "truncated in the middle \xE2\x82" "A",
      "overlong \xE0\x80\x80 surrogate \xED\xA0\x80 too high \xF4\x90\x80\x80",
      "four-byte cut \xF0\x9F\x98",
      "two leads \xC3\xC3\xA9",
  };
  for (const std::string& s : strings) {
    Reply r = everything;
    r.uid = s;
    r.message = s;
    r.reason = s;
    r.warnings.push_back(s);
    r.audit_annotations[s.empty() ? "empty" : s] = s;
    replies.push_back(r);
  }
  for (const Reply& r : replies) {
    CAPTURE(r.message);
    const std::string text = ReplyText(r);
    CHECK(text == NlohmannText(r));
    CHECK(json::parse(text).is_object());
  }
}

TEST_CASE("ReplyTo: a denial is 403 with the deny message, a malformed object 400") {
  policy::Decision ok;
  Reply r = ReplyTo("admission.k8s.io/v1", "u", ok);
  CHECK(r.allowed);
  CHECK(r.code == 0);
  CHECK(ReplyText(r) == R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"allowed":true,"uid":"u"}})");

  policy::Decision bad;
  bad.allowed = false;
  bad.error = "spec.containers: expected a list, got string";
  r = ReplyTo("admission.k8s.io/v1", "u", bad);
  CHECK_FALSE(r.allowed);
  CHECK(r.code == 400);
  CHECK(r.reason == "BadRequest");
  CHECK(r.message == "rootgate: spec.containers: expected a list, got string");
}

}  // namespace
}  // namespace rootgate::server
