// Fuzzes `rootgate check` on a manifest file: ParseDocuments (YAML streams and JSON, go-yaml v2
// scalar resolution, limits) and CheckInput as the CLI calls it (workload views, kind: List,
// AdmissionReviews, image configs), then the report in every output format.
// Invariants: every document has a value or an error message, never both; indexes count up from
// 0; lines are 1-based; every report prints without throwing.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/report/check.h"
#include "server/inputs/check_input.h"
#include "server/inputs/manifest_reader.h"

namespace rs = rootgate::server;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto documents = rs::ParseDocuments(text);
  for (size_t i = 0; i < documents.size(); ++i) {
    const auto& d = documents[i];
    FUZZ_CHECK(d.index == i);
    FUZZ_CHECK(d.line >= 1);
    if (!d.error.empty()) FUZZ_CHECK(d.value.is_null());
  }

  rootgate::policy::ImageFactMap facts;
  facts.Set("nginx", {true, "", "fuzz", ""});
  rs::InputOptions options;
  options.type = rs::InputType::kManifest;
  rs::CheckReport report;
  rs::CheckInput("fuzz.yaml", text, options, rootgate::policy::BuiltinDefaultPolicy(), facts,
                 &report);
  for (const auto& e : report.errors) FUZZ_CHECK(!e.message.empty());
  for (auto format : {rs::OutputFormat::kText, rs::OutputFormat::kJson, rs::OutputFormat::kJunit,
                      rs::OutputFormat::kSarif}) {
    std::ostringstream out;
    rs::PrintReport(report, format, false, out);  // throws on text nlohmann cannot write
  }
  return 0;
}
