#include "server/inputs/check_input.h"
#include "server/inputs/check_text.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "server/util/files.h"
#include "server/inputs/image_config.h"
#include "server/inputs/manifest_reader.h"

namespace rootgate::server {

namespace {

// --type image-config: every document must have an image config's shape.
void CheckImageConfigText(const std::string& source, std::string_view text,
                          const policy::Policy& policy, CheckReport* report) {
  for (const Document& doc : ParseDocuments(text)) {
    if (!doc.error.empty()) {
      report->errors.push_back({source, doc.index, doc.line, doc.error});
      continue;
    }
    const ImageConfigShape shape = DetectImageConfig(doc.value);
    if (shape == ImageConfigShape::kNone) {
      report->errors.push_back({source, doc.index, doc.line,
                                "not an image config: expected an OCI image config (`skopeo "
                                "inspect --config`) or `docker inspect` output"});
      continue;
    }
    CheckImageConfig(source, doc.index, doc.line, doc.value, shape, policy, report);
  }
}

}  // namespace

std::optional<InputType> InputTypeFromName(std::string_view name) {
  if (name == "auto") return InputType::kAuto;
  if (name == "manifest") return InputType::kManifest;
  if (name == "dockerfile") return InputType::kDockerfile;
  if (name == "image-config") return InputType::kImageConfig;
  if (name == "compose") return InputType::kCompose;
  return std::nullopt;
}

void CheckInput(const std::string& source, std::string_view text, const InputOptions& options,
                const policy::Policy& policy, const policy::ImageFacts& facts,
                CheckReport* report) {
  const bool dockerfile = options.type == InputType::kDockerfile ||
                          (options.type == InputType::kAuto && IsDockerfileName(source));
  const bool compose = options.type == InputType::kCompose ||
                       (options.type == InputType::kAuto && IsComposeFileName(source));
  if (compose) {
    CheckComposeText(source, text, options.compose, policy, facts, report);
  } else if (dockerfile) {
    CheckDockerfileText(source, text, options.dockerfile, policy, facts, report);
  } else if (options.type == InputType::kImageConfig) {
    CheckImageConfigText(source, text, policy, report);
  } else {
    CheckText(source, text, policy, facts, report);
  }
}

namespace {

void ReadAndCheck(const InputPath& in, const InputOptions& options, const policy::Policy& policy,
                  const policy::ImageFacts& facts, CheckReport* report) {
  auto text = in.error.empty() ? ReadInput(in.path) : Result<std::string>(Error{in.error});
  if (!text) {
    report->errors.push_back({in.path, 0, 0, text.error(), true});
    return;
  }
  CheckInput(in.path, text.value(), options, policy, facts, report);
}

void Append(CheckReport&& part, CheckReport* report) {
  std::move(part.results.begin(), part.results.end(), std::back_inserter(report->results));
  std::move(part.errors.begin(), part.errors.end(), std::back_inserter(report->errors));
}

}  // namespace

void CheckInputs(const std::vector<InputPath>& inputs, const InputOptions& options,
                 const policy::Policy& policy, const policy::ImageFacts& facts,
                 CheckReport* report, unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, inputs.size()));
  if (threads <= 1) {
    for (const InputPath& in : inputs) ReadAndCheck(in, options, policy, facts, report);
    CheckComposeFlagFiles(options, policy, facts, report);
    return;
  }
  std::vector<CheckReport> parts(inputs.size());  // one per input, merged in order below
  std::atomic<size_t> next{0};
  const auto work = [&] {
    for (size_t i = next++; i < inputs.size(); i = next++) {
      ReadAndCheck(inputs[i], options, policy, facts, &parts[i]);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  for (CheckReport& part : parts) Append(std::move(part), report);
  CheckComposeFlagFiles(options, policy, facts, report);
}

void CheckComposeFlagFiles(const InputOptions& options, const policy::Policy& policy,
                           const policy::ImageFacts& facts, CheckReport* report) {
  if (options.compose.files.empty()) return;
  CheckComposeProject(options.compose.files, options.compose, compose::DiskFiles(), policy, facts,
                      report);
}

}  // namespace rootgate::server
