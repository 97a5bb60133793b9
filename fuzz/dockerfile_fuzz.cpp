// Fuzzes the Dockerfile reader: ParseDockerfile (directives, continuations, heredocs),
// BuildStages (ARG/ENV substitution, FROM chains), CheckDockerfileText under the default policy
// with and without --target, and the report in every output format (`rootgate check -o ...`).
// Invariants: lines are 1-based and ordered, keywords are known and upper case, every error has
// a message, a stage's parent comes before it, and every report prints without throwing.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/report/check.h"
#include "server/inputs/dockerfile_check.h"
#include "server/inputs/dockerfile_parse.h"
#include "server/inputs/dockerfile_stages.h"

namespace rs = rootgate::server;
namespace df = rootgate::server::dockerfile;

namespace {

void CheckParse(const df::Dockerfile& file) {
  for (const auto& ins : file.instructions) {
    FUZZ_CHECK(ins.line >= 1);
    FUZZ_CHECK(ins.end_line >= ins.line);
    FUZZ_CHECK(df::IsKnownInstruction(ins.keyword));
    for (unsigned char c : ins.keyword) FUZZ_CHECK(!std::islower(c));
  }
  for (const auto& e : file.errors) {
    FUZZ_CHECK(e.line >= 0);
    FUZZ_CHECK(!e.message.empty());
  }
}

void CheckReportPrints(const rs::CheckReport& report) {
  for (auto format : {rs::OutputFormat::kText, rs::OutputFormat::kJson, rs::OutputFormat::kJunit,
                      rs::OutputFormat::kSarif}) {
    std::ostringstream out;
    rs::PrintReport(report, format, false, out);  // throws on text nlohmann cannot write
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  df::Dockerfile file = df::ParseDockerfile(text);
  CheckParse(file);

  const df::BuildArgs args{{"UID", "0"}, {"BASE", "alpine:3"}, {"USER", "app"}};
  df::Stages stages = df::BuildStages(file, args);
  for (const auto& s : stages.stages) {
    if (s.parent) FUZZ_CHECK(*s.parent < s.index);
  }
  for (const auto& e : stages.errors) FUZZ_CHECK(!e.message.empty());

  rootgate::policy::ImageFactMap facts;
  facts.Set("alpine:3", {true, "", "fuzz", ""});
  facts.Set("nginx", {true, "nginx", "fuzz", "", 101});
  rs::CheckReport report;
  rs::DockerfileOptions options;
  options.build_args = args;
  rs::CheckDockerfileText("Dockerfile", text, options, rootgate::policy::BuiltinDefaultPolicy(),
                          facts, &report);
  if (!stages.stages.empty()) {
    options.target = stages.stages.front().name.empty() ? "0" : stages.stages.front().name;
    rs::CheckDockerfileText("Dockerfile", text, options, rootgate::policy::BuiltinDefaultPolicy(),
                            facts, &report);
  }
  (void)rs::DockerfileBaseImages(text, options);
  CheckReportPrints(report);
  return 0;
}
