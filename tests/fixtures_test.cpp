// Every AdmissionReview recorded from a real kube-apiserver (tests/fixtures/admission, copied
// from ../shared) through the review path, with the verdict each must get written here from
// SEMANTICS.md — not from rootgate's output. Facts: none (registry lookups are off), so an
// image user not fixed by the spec is unknown.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "policy/image_facts.h"
#include "policy/policy_parse.h"
#include "server/cli/review.h"

namespace {

using nlohmann::json;
using rootgate::policy::Policy;

// The rule IDs a deny message names: every "[ruleId]" in it.
std::set<std::string> RuleTags(const std::string& message) {
  std::set<std::string> tags;
  for (size_t open = message.find('['); open != std::string::npos; open = message.find('[', open + 1)) {
    size_t close = message.find(']', open);
    if (close == std::string::npos) break;
    std::string tag = message.substr(open + 1, close - open - 1);
    const bool starts_word = open == 0 || message[open - 1] == ' ';  // not "containers[0]"
    if (starts_word && !tag.empty()) tags.insert(tag);
  }
  return tags;
}

json LoadFixture(const std::string& name) {
  std::ifstream in(std::string(ROOTGATE_FIXTURES_DIR) + "/" + name);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << name);
  return json::parse(in);
}

struct Expect {
  const char* file;
  bool allowed;
  std::set<std::string> rules;  // rule IDs named in the deny message
};

Policy PresetPolicy(const char* preset) {
  auto p = rootgate::policy::ParsePolicy(std::string("preset: ") + preset + "\n");
  REQUIRE(p.ok());
  return p.value();
}

json Review(const json& fixture, const Policy& policy) {
  const rootgate::policy::NoImageFacts facts;
  auto reply = rootgate::server::ReviewBody(fixture["body"].dump(), policy, facts);
  REQUIRE_MESSAGE(reply.ok(), reply.error());
  return reply.value();
}

void CheckAll(const std::vector<Expect>& table, const Policy& policy) {
  for (const Expect& e : table) {
    CAPTURE(e.file);
    json fixture = LoadFixture(e.file);
    json reply = Review(fixture, policy);
    const json& body = fixture["body"];
    CHECK(reply["apiVersion"] == body["apiVersion"]);
    CHECK(reply["kind"] == "AdmissionReview");
    CHECK(reply["response"]["uid"] == body["request"]["uid"]);
    CHECK(reply["response"]["allowed"] == e.allowed);
    if (e.allowed) {
      CHECK_FALSE(reply["response"].contains("status"));
      continue;
    }
    CHECK(reply["response"]["status"]["code"] == 403);
    const std::string message = reply["response"]["status"]["message"];
    CAPTURE(message);
    CHECK(RuleTags(message) == e.rules);
  }
}

}  // namespace

TEST_CASE("recorded fixtures: default preset") {
  // SEMANTICS.md "The default preset" with no image facts.
  const std::vector<Expect> table = {
      {"000-deployment-create.json", false, {"unknownUser"}},   // nginx, no runAsUser/NonRoot
      {"001-job-create.json", false, {"unknownUser"}},          // busybox, nothing set
      {"002-cronjob-v1beta1-create-pod-runasuser-0.json", false, {"rootUser"}},  // pod uid 0
      {"003-pod-create-no-securitycontext.json", false, {"unknownUser"}},
      {"004-pod-update-label-only.json", true, {}},             // label-only update
      {"005-pod-create-runasnonroot-runasuser-1000.json", true, {}},
      {"006-pod-create-privileged-dryrun.json", false, {"privileged", "unknownUser"}},
      {"007-deployment-update-image.json", false, {"unknownUser"}},  // template changed
      {"008-pod-create-pod-uid0-container-uid1000.json", true, {}},  // container overrides
      {"009-replicaset-create-runasgroup-0.json", true, {}},    // rootGroup is off by default
      {"010-statefulset-create-mixed-containers.json", true, {}},  // runAsNonRoot guards exporter
      {"011-daemonset-create-privileged-uid0.json", false, {"rootUser", "privileged"}},
      {"012-replicationcontroller-create-local-registry-image.json", false, {"unknownUser"}},
      {"013-podtemplate-create-runasnonroot-false.json", false, {"unknownUser"}},
      {"014-pod-create-admissionreview-v1beta1.json", true, {}},
      {"015-pod-create-pod-uid0-container-uid1000-v1.json", true, {}},
  };
  CheckAll(table, rootgate::policy::BuiltinDefaultPolicy());
}

TEST_CASE("recorded fixtures: pss-restricted preset gives Pod Security Admission's verdicts") {
  const std::vector<Expect> table = {
      {"000-deployment-create.json", false, {"runAsNonRoot"}},
      {"001-job-create.json", false, {"runAsNonRoot"}},
      {"002-cronjob-v1beta1-create-pod-runasuser-0.json", false, {"runAsNonRoot", "runAsUser"}},
      {"003-pod-create-no-securitycontext.json", false, {"runAsNonRoot"}},
      {"004-pod-update-label-only.json", true, {}},
      {"005-pod-create-runasnonroot-runasuser-1000.json", true, {}},
      {"006-pod-create-privileged-dryrun.json", false, {"privileged", "runAsNonRoot"}},
      {"007-deployment-update-image.json", false, {"runAsNonRoot"}},
      {"008-pod-create-pod-uid0-container-uid1000.json", false, {"runAsNonRoot", "runAsUser"}},
      {"009-replicaset-create-runasgroup-0.json", false, {"runAsNonRoot"}},
      {"010-statefulset-create-mixed-containers.json", true, {}},
      {"011-daemonset-create-privileged-uid0.json", false, {"runAsNonRoot", "runAsUser", "privileged"}},
      {"012-replicationcontroller-create-local-registry-image.json", false, {"runAsNonRoot"}},
      {"013-podtemplate-create-runasnonroot-false.json", false, {"runAsNonRoot"}},
      {"014-pod-create-admissionreview-v1beta1.json", false, {"runAsNonRoot", "runAsUser"}},
      {"015-pod-create-pod-uid0-container-uid1000-v1.json", false, {"runAsNonRoot", "runAsUser"}},
  };
  CheckAll(table, PresetPolicy("pss-restricted"));
}

TEST_CASE("recorded fixtures: pss-baseline preset denies only privileged") {
  const std::vector<Expect> table = {
      {"000-deployment-create.json", true, {}},
      {"003-pod-create-no-securitycontext.json", true, {}},
      {"006-pod-create-privileged-dryrun.json", false, {"privileged"}},
      {"008-pod-create-pod-uid0-container-uid1000.json", true, {}},
      {"011-daemonset-create-privileged-uid0.json", false, {"privileged"}},
      {"013-podtemplate-create-runasnonroot-false.json", true, {}},
  };
  CheckAll(table, PresetPolicy("pss-baseline"));
}
