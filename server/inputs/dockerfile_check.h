// `rootgate check` on Dockerfiles: the user the image built from the final stage (or --target)
// would start as, following FROM chains between stages, with the USER rules of SEMANTICS.md
// (see image_config_verdict.h). A named USER is resolved through the useradd/adduser of the
// stages the target builds on (root only when created with uid 0), else through the base
// image's /etc/passwd (ImageFacts::FindUserName, under namedUsers: resolve), else it is unknown
// with the reason. Findings name the line of the USER instruction, or of the final stage's FROM
// when no USER applies. Parse errors name their line; the rest of the file is still
// checked. Thread-safe: pure functions of their arguments (no file I/O here).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/report/check.h"
#include "server/inputs/dockerfile_stages.h"
#include "server/inputs/image_config_verdict.h"

namespace rootgate::server {

struct DockerfileOptions {
  dockerfile::BuildArgs build_args;  // --build-arg NAME=VALUE
  std::string target;                // --target STAGE; "" checks the last stage
};

// Checks one Dockerfile, appending one result (kind "Dockerfile", name = the stage) and any
// errors (line_only) to `report`. External base images are looked up in the policy's
// imageOverrides, then in `facts`; without either their user is unknown.
void CheckDockerfileText(const std::string& source, std::string_view text,
                         const DockerfileOptions& options, const policy::Policy& policy,
                         const policy::ImageFacts& facts, CheckReport* report);

// What CheckDockerfileText decides from: the user the target stage starts as, with the words
// for messages (wording.line is the line of the USER, or of the stage's FROM). For callers that
// judge that user themselves (Compose services built from the Dockerfile). Parse errors are
// appended to `report` as CheckDockerfileText appends them; `found` is false when there is no
// stage to check (also reported).
struct DockerfileUser {
  bool found = false;
  std::string stage;   // the stage's name, or "stage N"
  int stage_line = 0;  // the line of its FROM
  UserEvidence evidence;
  UserWording wording;
};
DockerfileUser ReadDockerfileUser(const std::string& source, std::string_view text,
                                  const DockerfileOptions& options, const policy::Policy& policy,
                                  const policy::ImageFacts& facts, CheckReport* report);

// The external base images (as written after substitution) whose user the check of `text`
// would read: what to look up before calling CheckDockerfileText. Empty when a numeric USER
// decides.
std::vector<std::string> DockerfileBaseImages(std::string_view text,
                                              const DockerfileOptions& options);

}  // namespace rootgate::server
