// ParsePruned: the same acceptance and values as nlohmann::json::parse (checked against it, case
// by case), its two documented differences, and the pruning itself. The AdmissionReview decoder
// built on it is checked against the full-tree decoder over every recorded fixture.
#include "server/util/json_prune.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>
#include <string>

#include "policy/admission.h"
#include "policy/image_facts.h"
#include "policy/policy_parse.h"
#include "server/admission/admission_codec.h"
#include "server/cli/review.h"

namespace rootgate::server {
namespace {

using nlohmann::json;

bool NlohmannAccepts(const std::string& text, json* out) {
  try {
    *out = json::parse(text);
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

TEST_CASE("ParsePruned without a shape builds what nlohmann builds") {
  const std::vector<std::string> valid = {
      "{}", "[]", " \t\r\n{ } ", "null", "true", "false", "0", "-0", "7", "-7",
      "18446744073709551615",                       // the largest uint64: unsigned
      "18446744073709551616",                       // one more: a double
      "9223372036854775807", "-9223372036854775808",  // int64 limits
      "-9223372036854775809",                       // below int64: a double
      "1.5", "-0.0", "1e3", "1E+3", "2.5e-3", "1e-400",  // underflow is 0, as strtod gives
      R"("")", R"("plain")", R"("\"\\\/\b\f\n\r\t")", R"("\u0041\u00e9\u20AC")",
      R"("\ud83d\ude00")",                          // a surrogate pair
      R"("\u0000 nul")", "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"",  // raw UTF-8
      R"({"a":1,"b":[1,2,{"c":null}],"d":{"e":"f"}})",
      R"({"a":1,"a":2})",                           // a repeated key: the last wins
      "\xEF\xBB\xBF{\"bom\":true}",                 // a UTF-8 byte order mark
      "[[[[[[[[[[1]]]]]]]]]]",
  };
  for (const std::string& text : valid) {
    CAPTURE(text);
    json expected;
    REQUIRE(NlohmannAccepts(text, &expected));
    auto got = ParsePruned(text, nullptr);
    REQUIRE_MESSAGE(got.ok(), got.error());
    CHECK(got.value() == expected);
    CHECK(got.value().type() == expected.type());  // unsigned, signed and double kept apart
  }
}

TEST_CASE("ParsePruned rejects what nlohmann rejects, naming the line and column") {
  struct Case {
    std::string text;
    const char* error;  // a part of the message
  };
  const std::vector<Case> invalid = {
      {"", "unexpected end"},
      {"   ", "unexpected end"},
      {"{", "expected a string as an object key"},
      {R"({"a")", "expected ':'"},
      {R"({"a":})", "expected a value"},
      {R"({"a":1,})", "expected a string as an object key"},
      {R"({"a":1 "b":2})", "expected ',' or '}'"},
      {"[1,]", "expected a value"},
      {"[1 2]", "expected ',' or ']'"},
      {"{} {}", "expected the end of the document"},
      {"tru", "invalid literal"},
      {"nul", "invalid literal"},
      {"True", "unexpected character"},
      {"01", "expected the end of the document"},
      {"+1", "unexpected character"},
      {"-", "expected a digit"},
      {"1.", "after '.'"},
      {"1e", "in the exponent"},
      {".5", "unexpected character"},
      {"1e400", "too large"},
      {"-1e400", "too large"},
      {std::string("1") + std::string(400, '0'), "too large"},
      {R"("abc)", "unterminated string"},
      {"\"a\nb\"", "control character"},
      {"\"a\tb\"", "control character"},
      {R"("\x")", "invalid escape"},
      {R"("\u12")", "four hex digits"},
      {R"("\u12G4")", "four hex digits"},
      {R"("\ud83d")", "followed by a low one"},
      {R"("\ud83d\u0041")", "followed by a low one"},
      {R"("\ude00")", "low surrogate"},
      {"\"\xC3\"", "invalid UTF-8"},            // truncated sequence
      {"\"\xC0\xAF\"", "invalid UTF-8"},        // overlong
      {"\"\xED\xA0\x80\"", "invalid UTF-8"},    // an encoded surrogate
      {"\"\xF4\x90\x80\x80\"", "invalid UTF-8"},  // past U+10FFFF
      {"\"\xFF\"", "invalid UTF-8"},
      {"\xEF\xBB{}", "unexpected character"},   // half a byte order mark
      {"{\n  \"a\": ?\n}", "line 2, column 8"},
  };
  for (const Case& c : invalid) {
    CAPTURE(c.text);
    json ignored;
    CHECK_FALSE(NlohmannAccepts(c.text, &ignored));
    auto got = ParsePruned(c.text, nullptr);
    REQUIRE_FALSE(got.ok());
    CHECK_MESSAGE(got.error().find(c.error) != std::string::npos, got.error());
  }
}

TEST_CASE("ParsePruned's two differences from nlohmann: a nesting limit, nothing after a NUL") {
  const std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  json ignored;
  CHECK(NlohmannAccepts(deep, &ignored));
  auto too_deep = ParsePruned(deep, nullptr);
  REQUIRE_FALSE(too_deep.ok());
  CHECK(too_deep.error().find("nested deeper than 512") != std::string::npos);
  const std::string at_limit = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  CHECK(ParsePruned(at_limit, nullptr).ok());
  // The limit holds in pruned-away members too, where nothing is built.
  const JsonShape keep_a{{"a"}};
  CHECK_FALSE(ParsePruned("{\"b\":" + deep + "}", &keep_a).ok());

  const std::string after_nul = std::string("{}\0garbage", 10);
  CHECK(NlohmannAccepts(after_nul, &ignored));  // nlohmann stops at the NUL
  CHECK_FALSE(ParsePruned(after_nul, nullptr).ok());
}

TEST_CASE("ParsePruned builds the members a shape names and validates the rest") {
  const JsonShape inner{{"keep"}};
  const JsonShape shape{{"a"}, {"b", &inner}};
  const std::string text =
      R"({"a":{"x":[1,2]},"b":{"keep":"yes","drop":{"deep":[true]}},"c":"dropped"})";
  auto got = ParsePruned(text, &shape);
  REQUIRE_MESSAGE(got.ok(), got.error());
  CHECK(got.value() == json::parse(R"({"a":{"x":[1,2]},"b":{"keep":"yes"}})"));

  // Keep everything but what is named to drop.
  const JsonShape all_but{JsonShape::kKeep, {{"b", &inner}, {"c", nullptr, true}}};
  auto kept = ParsePruned(text, &all_but);
  REQUIRE(kept.ok());
  CHECK(kept.value() == json::parse(R"({"a":{"x":[1,2]},"b":{"keep":"yes"}})"));

  // A shape applies only to objects: a member of another type is built whole.
  auto not_object = ParsePruned(R"({"b":["keep","drop"]})", &shape);
  REQUIRE(not_object.ok());
  CHECK(not_object.value() == json::parse(R"({"b":["keep","drop"]})"));

  // A dropped member is still checked: an error in it fails the document.
  for (const char* bad : {R"({"c":[1,}, "a":1})", "{\"c\":\"\xFF\",\"a\":1}", R"({"c":1e999})"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParsePruned(bad, &shape).ok());
  }
}

std::vector<std::filesystem::path> FixtureFiles() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(ROOTGATE_FIXTURES_DIR)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST_CASE("the pruned AdmissionReview decoder gives the full-tree decoder's reply on every fixture") {
  const std::vector<std::filesystem::path> files = FixtureFiles();
  REQUIRE(files.size() >= 16);
  const policy::NoImageFacts facts;
  for (const char* preset : {"default", "pss-restricted", "pss-baseline"}) {
    auto policy = policy::ParsePolicy(std::string("preset: ") + preset + "\n");
    REQUIRE(policy.ok());
    for (const auto& file : files) {
      CAPTURE(preset);
      CAPTURE(file.filename().string());
      std::ifstream in(file);
      const std::string body = json::parse(in)["body"].dump();

      auto full = DecodeReview(json::parse(body));
      REQUIRE_MESSAGE(full.ok(), full.error());
      const json expected = EncodeReply(full.value().api_version, full.value().request.uid,
                                        policy::Validate(full.value().request, facts, policy.value()));
      auto pruned = ReviewBody(body, policy.value(), facts);
      REQUIRE_MESSAGE(pruned.ok(), pruned.error());
      CHECK(pruned.value() == expected);

      // What was left out is what nothing reads.
      auto decoded = DecodeReviewText(body);
      REQUIRE(decoded.ok());
      const json& object = decoded.value().request.object;
      CHECK(object["metadata"].size() <= 2);  // name and namespace
      CHECK_FALSE(object.contains("status"));
    }
  }
}

// A pod spec with every field the decision reads set, in a kind's wrapper.
json Wrap(const std::string& kind, const json& pod_spec) {
  const json pod_template = {{"metadata", {{"labels", {{"app", "x"}}}}}, {"spec", pod_spec}};
  json object = {{"metadata", {{"name", "w"}, {"namespace", "demo"}, {"managedFields", json::array()}}},
                 {"status", {{"phase", "Pending"}}}};
  if (kind == "Pod") object["spec"] = pod_spec;
  if (kind == "Deployment") object["spec"] = {{"replicas", 2}, {"template", pod_template}};
  if (kind == "CronJob") {
    object["spec"] = {{"schedule", "* * * * *"},
                      {"jobTemplate", {{"spec", {{"backoffLimit", 1}, {"template", pod_template}}}}}};
  }
  if (kind == "PodTemplate") object["template"] = pod_template;
  return object;
}

std::string ReviewText(const std::string& kind, const std::string& operation, const json& object,
                       const json& old_object) {
  static const std::map<std::string, std::pair<std::string, std::string>> kGroups = {
      {"Pod", {"", "pods"}}, {"Deployment", {"apps", "deployments"}},
      {"CronJob", {"batch", "cronjobs"}}, {"PodTemplate", {"", "podtemplates"}}};
  const auto& [group, resource] = kGroups.at(kind);
  json request = {{"uid", "u-1"},
                  {"kind", {{"group", group}, {"version", "v1"}, {"kind", kind}}},
                  {"resource", {{"group", group}, {"version", "v1"}, {"resource", resource}}},
                  {"operation", operation}, {"namespace", "demo"}, {"name", "w"},
                  {"userInfo", {{"username", "alice"}, {"groups", {"g"}}}},
                  {"object", object}};
  if (!old_object.is_null()) request["oldObject"] = old_object;
  return json{{"apiVersion", "admission.k8s.io/v1"}, {"kind", "AdmissionReview"}, {"request", request}}.dump();
}

TEST_CASE("the pruned decoder decides like the full-tree one for every field the decision reads") {
  const json base = {
      {"securityContext", {{"runAsNonRoot", true}}},
      {"initContainers", {{{"name", "init"}, {"image", "busybox"}, {"restartPolicy", "Always"}}}},
      {"containers", {{{"name", "app"}, {"image", "ghcr.io/o/app:1"}, {"resources", {{"limits", {{"cpu", "1"}}}}},
                       {"securityContext", {{"runAsUser", 1000}, {"allowPrivilegeEscalation", false}}}}}},
      {"volumes", {{{"name", "v"}, {"emptyDir", json::object()}}}},
      {"nodeSelector", {{"kubernetes.io/arch", "amd64"}, {"disk", "ssd"}}}};
  const json arch_not_in = {
      {"nodeAffinity",
       {{"requiredDuringSchedulingIgnoredDuringExecution",
         {{"nodeSelectorTerms",
           {{{"matchExpressions", {{{"key", "kubernetes.io/arch"}, {"operator", "NotIn"}, {"values", {"amd64"}}}}}}}}}}}}};
  // Each edit changes one field the decision reads (or, last, ones it does not read).
  const std::vector<std::pair<json::json_pointer, json>> edits = {
      {json::json_pointer("/securityContext/runAsNonRoot"), false},
      {json::json_pointer("/securityContext/runAsUser"), 0},
      {json::json_pointer("/securityContext/runAsGroup"), 0},
      {json::json_pointer("/securityContext/windowsOptions"), {{"runAsUserName", "ContainerAdministrator"}}},
      {json::json_pointer("/securityContext"), "not an object"},
      {json::json_pointer("/hostUsers"), false},
      {json::json_pointer("/hostUsers"), "false"},
      {json::json_pointer("/runtimeClassName"), "kata"},
      {json::json_pointer("/os"), {{"name", "windows"}}},
      {json::json_pointer("/os"), 7},
      {json::json_pointer("/initContainers/0/restartPolicy"), "OnFailure"},
      {json::json_pointer("/initContainers/0/securityContext"), {{"privileged", true}}},
      {json::json_pointer("/containers/0/image"), "ghcr.io/o/app:2"},
      {json::json_pointer("/containers/0/name"), 5},
      {json::json_pointer("/containers/0/securityContext/runAsUser"), 0},
      {json::json_pointer("/containers/0/securityContext/privileged"), true},
      {json::json_pointer("/containers/0/securityContext/allowPrivilegeEscalation"), true},
      {json::json_pointer("/containers/0/securityContext/runAsUser"), "1000"},
      {json::json_pointer("/containers/1"), {{"name", "side"}, {"image", "nginx"}}},
      {json::json_pointer("/containers/1"), "not a container"},
      {json::json_pointer("/containers"), {{"k", "v"}}},
      {json::json_pointer("/ephemeralContainers"), {{{"name", "dbg"}, {"image", "busybox"}}}},
      {json::json_pointer("/nodeSelector/kubernetes.io~1arch"), "arm64"},
      {json::json_pointer("/nodeSelector/kubernetes.io~1os"), "windows"},
      {json::json_pointer("/nodeSelector"), 5},
      {json::json_pointer("/affinity"), arch_not_in},
      {json::json_pointer("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms"),
       {{{"matchExpressions", {{{"key", "kubernetes.io/arch"}, {"operator", "Near"}}}}}}},
      {json::json_pointer("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution"), "x"},
      {json::json_pointer("/affinity/nodeAffinity/preferredDuringSchedulingIgnoredDuringExecution"), "x"},  // not read
      {json::json_pointer("/affinity/podAffinity"), "x"},                                                    // not read
      {json::json_pointer("/containers/0/resources/limits/cpu"), "2"},  // not read
      {json::json_pointer("/volumes/0/name"), "w"},                     // not read
  };
  // busybox is a multi-platform image whose arm64 entry runs as root: the pod's platform
  // constraints change the decision.
  policy::ImageFactMap facts;
  policy::ImageFact busybox{false, "", "registry docker.io", ""};
  busybox.platforms = {{policy::Platform{"linux", "amd64", ""}, {true, "1000", "registry docker.io", ""}},
                       {policy::Platform{"linux", "arm64", ""}, {true, "0", "registry docker.io", ""}}};
  facts.Set("busybox", busybox);
  auto policy = policy::ParsePolicy("preset: pss-restricted\nrules:\n  rootUser: deny\n");
  REQUIRE(policy.ok());
  for (const char* kind : {"Pod", "Deployment", "CronJob", "PodTemplate"}) {
    for (const auto& [pointer, value] : edits) {
      json edited = base;
      edited[pointer] = value;
      // CREATE of the edited object, and UPDATEs from the base to it and back.
      const std::vector<std::tuple<const char*, json, json>> requests = {
          {"CREATE", Wrap(kind, edited), nullptr},
          {"UPDATE", Wrap(kind, edited), Wrap(kind, base)},
          {"UPDATE", Wrap(kind, base), Wrap(kind, edited)}};
      for (const auto& [operation, object, old_object] : requests) {
        const std::string body = ReviewText(kind, operation, object, old_object);
        CAPTURE(kind);
        CAPTURE(operation);
        CAPTURE(pointer.to_string());
        CAPTURE(value.dump());
        auto full = DecodeReview(json::parse(body));
        REQUIRE_MESSAGE(full.ok(), full.error());
        const json expected = EncodeReply("admission.k8s.io/v1", "u-1",
                                          policy::Validate(full.value().request, facts, policy.value()));
        auto pruned = ReviewBody(body, policy.value(), facts);
        REQUIRE_MESSAGE(pruned.ok(), pruned.error());
        CHECK(pruned.value() == expected);
      }
    }
  }
}

TEST_CASE("a workload UPDATE keeps whole objects; everything else only the fields read") {
  const json spec = {{"containers", {{{"name", "a"}, {"image", "i"}, {"ports", {{{"containerPort", 80}}}}}}}};
  auto pod = DecodeReviewText(ReviewText("Pod", "UPDATE", Wrap("Pod", spec), Wrap("Pod", spec)));
  REQUIRE(pod.ok());
  CHECK(pod.value().request.object["spec"] == json::parse(R"({"containers":[{"name":"a","image":"i"}]})"));
  auto deployment = DecodeReviewText(ReviewText("Deployment", "UPDATE", Wrap("Deployment", spec),
                                                Wrap("Deployment", spec)));
  REQUIRE(deployment.ok());
  CHECK(deployment.value().request.old_object["spec"] == Wrap("Deployment", spec)["spec"]);
  CHECK_FALSE(deployment.value().request.old_object.contains("status"));
  auto created = DecodeReviewText(ReviewText("Deployment", "CREATE", Wrap("Deployment", spec), nullptr));
  REQUIRE(created.ok());
  CHECK_FALSE(created.value().request.object["spec"].contains("replicas"));
}

}  // namespace
}  // namespace rootgate::server
