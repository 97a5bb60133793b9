// The `check` reports (server/report/check_output*.cpp) on inputs that are not UTF-8: a Dockerfile
// or a manifest in another encoding must still give valid JSON and SARIF, the bytes that are not
// UTF-8 shown as U+FFFD. Found by fuzz/dockerfile_fuzz and fuzz/manifest_reader_fuzz: `check -o
// json` threw nlohmann's type_error 316 and the CLI aborted.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/inputs/check_text.h"
#include "server/inputs/dockerfile_check.h"

namespace {

using nlohmann::json;
using rootgate::server::CheckReport;
using rootgate::server::OutputFormat;

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

std::string Print(const CheckReport& report, OutputFormat format) {
  std::ostringstream out;
  REQUIRE_NOTHROW(rootgate::server::PrintReport(report, format, false, out));
  return out.str();
}

bool Has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST_CASE("a Latin-1 USER name: JSON and SARIF reports are valid, the byte shown as U+FFFD") {
  // "café" in Latin-1: é is the single byte 0xE9, not UTF-8.
  const std::string dockerfile = "FROM alpine\nUSER caf\xE9\n";
  CheckReport report;
  rootgate::server::CheckDockerfileText("Dockerfile", dockerfile, {},
                                        rootgate::policy::BuiltinDefaultPolicy(),
                                        rootgate::policy::NoImageFacts(), &report);
  REQUIRE(report.results.size() == 1);
  for (OutputFormat format : {OutputFormat::kJson, OutputFormat::kSarif}) {
    const std::string text = Print(report, format);
    CHECK(json::accept(text));
    CHECK(Has(text, std::string("caf") + kReplacement));
  }
}

TEST_CASE("a manifest that is not UTF-8: the error is reported in valid JSON and SARIF") {
  CheckReport report;
  rootgate::server::CheckText("bad.json", "[\"\xC5\"]", rootgate::policy::BuiltinDefaultPolicy(),
                              rootgate::policy::NoImageFacts(), &report);
  REQUIRE(report.errors.size() == 1);
  CHECK_FALSE(report.errors[0].message.empty());
  const std::string text = Print(report, OutputFormat::kJson);
  REQUIRE(json::accept(text));
  const json doc = json::parse(text);
  CHECK(doc["errors"].size() == 1);
  CHECK(doc["summary"]["errors"] == 1);
  CHECK(json::accept(Print(report, OutputFormat::kSarif)));
}

}  // namespace
