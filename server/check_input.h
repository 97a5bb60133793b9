// How `rootgate check` reads one input: as manifests (YAML/JSON Kubernetes objects, image
// configs recognised by shape), or as a Dockerfile (by name, or forced with --type). Pure
// dispatch over text already read; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/check.h"
#include "server/dockerfile_check.h"

namespace rootgate::server {

enum class InputType {
  kAuto,         // Dockerfile by name (IsDockerfileName), else manifests and image configs
  kManifest,     // YAML/JSON documents, whatever the name
  kDockerfile,   // every input is a Dockerfile
  kImageConfig,  // every document must be an image config
};

// "auto", "manifest", "dockerfile", "image-config"; nullopt for anything else.
std::optional<InputType> InputTypeFromName(std::string_view name);

struct InputOptions {
  InputType type = InputType::kAuto;
  DockerfileOptions dockerfile;
};

// Checks the text of one input named `source`, appending to `report`.
void CheckInput(const std::string& source, std::string_view text, const InputOptions& options,
                const policy::Policy& policy, const policy::ImageFacts& facts,
                CheckReport* report);

}  // namespace rootgate::server
