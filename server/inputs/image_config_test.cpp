// Image configs as check inputs: shapes (OCI config, docker inspect, skopeo inspect, manifests),
// the USER rules of SEMANTICS.md on their User, and the lines of findings in the file.
#include "server/inputs/image_config.h"

#include <doctest/doctest.h>

#include <string>

#include "server/inputs/check_text.h"

namespace {

using nlohmann::json;
using rootgate::policy::BuiltinDefaultPolicy;
using rootgate::policy::NoImageFacts;
using rootgate::server::CheckReport;
using rootgate::server::CheckText;
using rootgate::server::DetectImageConfig;
using rootgate::server::FindingLine;
using rootgate::server::ImageConfigShape;

CheckReport Check(const std::string& text) {
  CheckReport report;
  CheckText("img.json", text, BuiltinDefaultPolicy(), NoImageFacts(), &report);
  return report;
}

std::string OciConfig(const std::string& user_field) {
  return R"({"architecture": "amd64", "os": "linux", "config": {)" + user_field +
         R"(}, "rootfs": {"type": "layers", "diff_ids": []}})";
}

// "deny rootUser", "allow", "allow warn unknownUser"
std::string Verdict(const CheckReport& report, size_t i = 0) {
  REQUIRE(report.results.size() > i);
  const auto& r = report.results[i];
  std::string s = r.decision.allowed ? "allow" : "deny";
  for (const auto& f : r.decision.violations) s += " " + std::string(rootgate::policy::RuleName(f.rule));
  for (const auto& f : r.decision.warnings) s += " warn " + std::string(rootgate::policy::RuleName(f.rule));
  return s;
}

TEST_CASE("shapes: configs and docker inspect are recognised; Kubernetes objects are not") {
  CHECK(DetectImageConfig(json::parse(OciConfig(""))) == ImageConfigShape::kConfig);
  CHECK(DetectImageConfig(json::parse(R"([{"Id": "sha256:1", "Config": {"User": ""}}])")) ==
        ImageConfigShape::kDockerInspect);
  CHECK(DetectImageConfig(json::parse(R"({"Id": "sha256:1", "Config": {}})")) == ImageConfigShape::kDockerInspect);
  CHECK(DetectImageConfig(json::parse(R"({"Name": "docker.io/x", "Digest": "sha256:1", "Layers": []})")) ==
        ImageConfigShape::kSkopeoInspect);
  CHECK(DetectImageConfig(json::parse(R"({"schemaVersion": 2, "layers": []})")) == ImageConfigShape::kImageManifest);
  CHECK(DetectImageConfig(json::parse(R"({"apiVersion": "v1", "kind": "Pod", "os": "x", "architecture": "y"})")) ==
        ImageConfigShape::kNone);
  CHECK(DetectImageConfig(json::parse(R"([1, 2])")) == ImageConfigShape::kNone);
  CHECK(DetectImageConfig(json::parse(R"([])")) == ImageConfigShape::kNone);
}

TEST_CASE("an image config's User decides as SEMANTICS.md says") {
  CHECK(Verdict(Check(OciConfig(R"("User": "")"))) == "deny rootUser");
  CHECK(Verdict(Check(OciConfig(""))) == "deny rootUser");  // no User at all
  CHECK(Verdict(Check(R"({"architecture": "amd64", "os": "linux", "rootfs": {}})")) == "deny rootUser");
  CHECK(Verdict(Check(OciConfig(R"("User": "0:1000")"))) == "deny rootUser");
  CHECK(Verdict(Check(OciConfig(R"("User": "root")"))) == "deny rootUser");
  CHECK(Verdict(Check(OciConfig(R"("User": "65532")"))) == "allow");
  CHECK(Verdict(Check(OciConfig(R"("User": "1000:0")"))) == "allow");
  // A config alone has no /etc/passwd: a name is unknown (namedUsers: resolve, the default).
  CHECK(Verdict(Check(OciConfig(R"("User": "nginx")"))) == "deny unknownUser");
  CHECK(Verdict(Check(OciConfig(R"("User": "4294967296")"))) == "deny unknownUser");
}

TEST_CASE("Windows image configs: ContainerAdministrator is root, any case") {
  const std::string admin = R"({"architecture": "amd64", "os": "windows", "config": {"User": "containeradministrator"}, "rootfs": {}})";
  CHECK(Verdict(Check(admin)) == "deny rootUser");
  const std::string user = R"({"architecture": "amd64", "os": "windows", "config": {"User": "ContainerUser"}, "rootfs": {}})";
  CHECK(Verdict(Check(user)) == "allow");
  // Issue 17: Server Core images leave User empty and run as ContainerAdministrator; SYSTEM and
  // the Administrators group are administrators too.
  const std::string none = R"({"architecture": "amd64", "os": "windows", "config": {}, "rootfs": {}})";
  CHECK(Verdict(Check(none)) == "deny rootUser");
  const std::string system = R"({"architecture": "amd64", "os": "windows", "config": {"User": "NT AUTHORITY\\SYSTEM"}, "rootfs": {}})";
  CHECK(Verdict(Check(system)) == "deny rootUser");
  const std::string group = R"({"architecture": "amd64", "os": "windows", "config": {"User": "builtin\\administrators"}, "rootfs": {}})";
  CHECK(Verdict(Check(group)) == "deny rootUser");
}

TEST_CASE("docker inspect output: one result per element, named by its tag, line of its User") {
  const std::string text =
      "[\n"
      "  {\"Id\": \"sha256:a\", \"RepoTags\": [\"nginx:1.25\"],\n"
      "   \"Config\": {\n"
      "     \"User\": \"\"}},\n"
      "  {\"Id\": \"sha256:b\", \"Config\": {\"User\": \"10001\"}}\n"
      "]\n";
  const CheckReport report = Check(text);
  REQUIRE(report.results.size() == 2);
  CHECK(report.results[0].name == "nginx:1.25");
  CHECK(report.results[0].kind == "ImageConfig");
  CHECK(report.results[0].item == 0u);
  CHECK(Verdict(report, 0) == "deny rootUser");
  CHECK(FindingLine(report.results[0], report.results[0].decision.violations[0]) == 4);
  CHECK(report.results[1].name == "sha256:b");
  CHECK(Verdict(report, 1) == "allow");
}

TEST_CASE("wrong types and user-less shapes are input errors") {
  CheckReport bad = Check(OciConfig(R"("User": 0)"));
  CHECK(bad.results.empty());
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].message == "config.User: expected a string, got number");
  CheckReport skopeo = Check(R"({"Name": "docker.io/library/nginx", "Digest": "sha256:1", "Layers": []})");
  REQUIRE(skopeo.errors.size() == 1);
  CHECK(skopeo.errors[0].message.find("skopeo inspect --config") != std::string::npos);
}

}  // namespace
