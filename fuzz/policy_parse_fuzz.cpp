// Fuzzes the strict policy YAML parser (policy::ParsePolicy). Invariants: a refusal has a
// message (not checked for UTF-8: yaml-cpp quotes single bytes, and policy errors only reach
// stderr and the logger, which replaces invalid UTF-8); an accepted policy has sane UID ranges
// and evaluates a fixed AdmissionReview (a pod with a root container and a named-user image)
// without throwing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "policy/admission.h"
#include "policy/image_facts.h"
#include "policy/policy_parse.h"
#include "server/admission/admission_codec.h"

namespace {

constexpr std::string_view kReview = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
 "request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},
 "resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE",
 "namespace":"dev-a","userInfo":{"username":"alice"},
 "object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"dev-a"},
  "spec":{"runtimeClassName":"kata","securityContext":{"runAsGroup":0},
   "containers":[{"name":"a","image":"nginx","securityContext":{"runAsUser":0,"privileged":true}},
                 {"name":"b","image":"ghcr.io/example/app:1"}]}}}})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = rootgate::policy::ParsePolicy(text);
  if (!policy) {
    FUZZ_CHECK(!policy.error().empty());
    return 0;
  }
  for (const auto& range : policy.value().allowed_uid_ranges) FUZZ_CHECK(range.min <= range.max);
  static const auto review = rootgate::server::DecodeReviewText(kReview);
  FUZZ_CHECK(review.ok());
  rootgate::policy::ImageFactMap facts;
  facts.Set("ghcr.io/example/app:1", {true, "app", "fuzz", "", 0});
  auto decision = rootgate::policy::Validate(review.value().request, facts, policy.value());
  FUZZ_CHECK(decision.allowed == decision.violations.empty());
  return 0;
}
