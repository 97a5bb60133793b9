// How `rootgate check` reads its inputs: as manifests (YAML/JSON Kubernetes objects, image
// configs recognised by shape), or as Dockerfiles (by name, or forced with --type). CheckInput
// is pure dispatch over text already read; CheckInputs reads the files, several at a time.
// Both are thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/report/check.h"
#include "server/inputs/dockerfile_check.h"
#include "server/util/files.h"
#include "server/inputs/compose_check.h"

namespace rootgate::server {

enum class InputType {
  kAuto,         // Dockerfile by name (IsDockerfileName), else manifests and image configs
  kManifest,     // YAML/JSON documents, whatever the name
  kDockerfile,   // every input is a Dockerfile
  kImageConfig,  // every document must be an image config
  kCompose,      // every input is a Compose file (auto: by name, IsComposeFileName)
};

// "auto", "manifest", "dockerfile", "image-config", "compose"; nullopt for anything else.
std::optional<InputType> InputTypeFromName(std::string_view name);

struct InputOptions {
  InputType type = InputType::kAuto;
  DockerfileOptions dockerfile;
  ComposeOptions compose;  // -f files (one project, checked after the other inputs), --env-file
};

// Checks the text of one input named `source`, appending to `report`.
void CheckInput(const std::string& source, std::string_view text, const InputOptions& options,
                const policy::Policy& policy, const policy::ImageFacts& facts,
                CheckReport* report);

// Reads and checks every input (an unreadable one becomes a whole-file error), on up to
// `threads` threads (0: one per CPU), appending results and errors to `report` in input order.
// `facts` is used from several threads at once (ImageFacts promises concurrent const use).
void CheckInputs(const std::vector<InputPath>& inputs, const InputOptions& options,
                 const policy::Policy& policy, const policy::ImageFacts& facts,
                 CheckReport* report, unsigned threads = 0);

// The Compose project of the -f files (options.compose.files), if any, as one more input.
void CheckComposeFlagFiles(const InputOptions& options, const policy::Policy& policy,
                           const policy::ImageFacts& facts, CheckReport* report);

}  // namespace rootgate::server
