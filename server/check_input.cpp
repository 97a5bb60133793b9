#include "server/check_input.h"

#include "server/files.h"
#include "server/image_config.h"
#include "server/manifest_reader.h"

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
  return std::nullopt;
}

void CheckInput(const std::string& source, std::string_view text, const InputOptions& options,
                const policy::Policy& policy, const policy::ImageFacts& facts,
                CheckReport* report) {
  const bool dockerfile = options.type == InputType::kDockerfile ||
                          (options.type == InputType::kAuto && IsDockerfileName(source));
  if (dockerfile) {
    CheckDockerfileText(source, text, options.dockerfile, policy, facts, report);
  } else if (options.type == InputType::kImageConfig) {
    CheckImageConfigText(source, text, policy, report);
  } else {
    CheckText(source, text, policy, facts, report);
  }
}

}  // namespace rootgate::server
