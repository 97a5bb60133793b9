// Fuzzes `rootgate check` on a Compose file (issue 15): YAML with merge keys, interpolation,
// the fields rootgate reads, extends within the file, a build: whose Dockerfile and .env come
// from memory, then the report in every output format.
// Invariants: every error has a message and a source; every result is a ComposeService with a
// service name, a source and a line >= 1; every report prints without throwing.
#include <cstddef>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>

#include "fuzz/fuzz_check.h"
#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/report/check.h"
#include "server/inputs/compose_check.h"

namespace rs = rootgate::server;

namespace {

class MemoryFiles final : public rs::compose::FileSource {
 public:
  explicit MemoryFiles(std::map<std::string, std::string> files) : files_(std::move(files)) {}
  rootgate::Result<std::string> Read(const std::string& path) const override {
    auto it = files_.find(path);
    if (it == files_.end()) return rootgate::Error{"no such file"};
    return it->second;
  }
  bool Exists(const std::string& path) const override { return files_.count(path) > 0; }

 private:
  std::map<std::string, std::string> files_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const MemoryFiles files({{"p/compose.yaml", text},
                           {"p/.env", "UID=1001\nIMAGE=nginx\n"},
                           {"p/Dockerfile", "FROM nginx\nARG UID\nUSER ${UID}\n"},
                           {"p/app/Dockerfile", "FROM scratch\n"}});
  rootgate::policy::ImageFactMap facts;
  facts.Set("nginx", {true, "", "fuzz", ""});
  rs::ComposeOptions options;
  options.environment = {{"HOME", "/root"}};
  rs::CheckReport report;
  rs::CheckComposeProject({"p/compose.yaml"}, options, files, rootgate::policy::BuiltinDefaultPolicy(),
                          facts, &report);
  for (const auto& e : report.errors) FUZZ_CHECK(!e.message.empty() && !e.source.empty());
  for (const auto& r : report.results) {
    FUZZ_CHECK(r.kind == "ComposeService" && !r.name.empty() && !r.source.empty() && r.line >= 1);
  }
  for (auto format : {rs::OutputFormat::kText, rs::OutputFormat::kJson, rs::OutputFormat::kJunit,
                      rs::OutputFormat::kSarif}) {
    std::ostringstream out;
    rs::PrintReport(report, format, false, out);  // throws on text nlohmann cannot write
  }
  return 0;
}
