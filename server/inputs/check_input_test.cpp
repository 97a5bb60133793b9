// Input dispatch of `rootgate check`: Dockerfile names (issue 6), --type, and CheckInputs giving
// the same report on several threads as on one, in input order.
#include "server/inputs/check_input.h"

#include <doctest/doctest.h>

#include <string>

namespace {

using rootgate::policy::BuiltinDefaultPolicy;
using rootgate::policy::NoImageFacts;
using rootgate::server::CheckInput;
using rootgate::server::CheckInputs;
using rootgate::server::CheckReport;
using rootgate::server::ExpandInputs;
using rootgate::server::InputOptions;
using rootgate::server::InputType;
using rootgate::server::IsDockerfileName;

std::string Summary(const CheckReport& report) {
  std::string s;
  for (const auto& r : report.results) {
    s += r.source + "#" + std::to_string(r.document) + ":" + r.kind + "/" + r.name + ":" +
         (r.skipped ? "skip" : r.decision.allowed ? "allow" : "deny") + "\n";
  }
  for (const auto& e : report.errors) s += "error " + e.ToString() + "\n";
  return s;
}

TEST_CASE("Dockerfile names") {
  for (const char* yes : {"Dockerfile", "dir/Dockerfile", "Containerfile", "x/api.Dockerfile",
                          "web.dockerfile", "a.Containerfile"}) {
    CAPTURE(yes);
    CHECK(IsDockerfileName(yes));
  }
  for (const char* no : {"Dockerfile.yaml", "dockerfile", ".Dockerfile", "x.yaml", "Dockerfile/x.yaml",
                         "MyDockerfile"}) {
    CAPTURE(no);
    CHECK_FALSE(IsDockerfileName(no));
  }
}

TEST_CASE("--type decides over the name") {
  const std::string dockerfile = "FROM scratch\nUSER 0\n";
  CheckReport by_name, forced, as_manifest;
  CheckInput("x/Dockerfile", dockerfile, {}, BuiltinDefaultPolicy(), NoImageFacts(), &by_name);
  CHECK(Summary(by_name) == "x/Dockerfile#0:Dockerfile/stage 0:deny\n");
  InputOptions o;
  o.type = InputType::kDockerfile;
  CheckInput("-", dockerfile, o, BuiltinDefaultPolicy(), NoImageFacts(), &forced);
  CHECK(Summary(forced) == "-#0:Dockerfile/stage 0:deny\n");
  o.type = InputType::kManifest;
  CheckInput("x/Dockerfile", dockerfile, o, BuiltinDefaultPolicy(), NoImageFacts(), &as_manifest);
  CHECK(as_manifest.results.empty());
  CHECK(as_manifest.errors.size() == 1);
}

TEST_CASE("CheckInputs: same report, same order, on one thread and on four") {
  const std::string root = ROOTGATE_SOURCE_DIR;
  const auto inputs = ExpandInputs({root + "/examples/manifests", root + "/examples/dockerfiles",
                                    root + "/examples/image-configs", root + "/no/such/file.yaml"});
  REQUIRE(inputs.size() > 10);
  CheckReport one, four;
  CheckInputs(inputs, {}, BuiltinDefaultPolicy(), NoImageFacts(), &one, 1);
  CheckInputs(inputs, {}, BuiltinDefaultPolicy(), NoImageFacts(), &four, 4);
  CHECK(Summary(one) == Summary(four));
  CHECK(one.errors.size() == 1);
  REQUIRE(!one.results.empty());
  CHECK(one.results.front().source.ends_with("01-pod-image-default-user.yaml"));
}

}  // namespace
