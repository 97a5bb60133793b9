// `rootgate check` on Compose files: one result per service (kind ComposeService, name the
// service, namespace the project), judged by policy::EvaluateService (policy/compose_service.h)
// from the service's `user:`, else the user of its image: built from `build:` through the
// Dockerfile analysis (server/inputs/dockerfile_check.h), or `image:` from the policy's imageOverrides
// and the image facts (the registry with --resolve-images). Findings carry the file and line of
// the field to change (for a service merged from several files, the file that wrote it).
// Problems in the files are CheckErrors naming file and line; the other services are still
// checked. Thread-compatible; `facts` is used as ImageFacts promises (concurrent const use).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/report/check.h"
#include "server/inputs/compose_project.h"

namespace rootgate::server {

struct ComposeOptions {
  std::vector<std::string> files;      // -f FILE...: checked together as one project
  std::vector<std::string> env_files;  // --env-file; empty: `.env` beside the first file
  compose::Environment environment;    // for interpolation (the process environment)
};

// True for the names Compose looks for and their variants: compose.yaml, compose.yml,
// docker-compose.yaml, docker-compose.yml, compose.*.yaml, compose.*.yml,
// docker-compose.*.yaml, docker-compose.*.yml (the directory part is ignored).
bool IsComposeFileName(std::string_view path);

// Checks the project made of `files` (read through `source`), appending to `report`.
void CheckComposeProject(const std::vector<std::string>& files, const ComposeOptions& options,
                         const compose::FileSource& source, const policy::Policy& policy,
                         const policy::ImageFacts& facts, CheckReport* report);

// Checks one Compose file whose text is already read (`source_name` is its path; other files it
// names — .env, extends, Dockerfiles — are read from disk). As docker compose without -f, a base
// file (compose.yaml, docker-compose.yml, ...) is read together with the `<same>.override.yaml`
// (or .yml) beside it, and that override file, checked on its own, adds nothing.
void CheckComposeText(const std::string& source_name, std::string_view text,
                      const ComposeOptions& options, const policy::Policy& policy,
                      const policy::ImageFacts& facts, CheckReport* report);

// The process environment, for ComposeOptions::environment.
compose::Environment ProcessEnvironment();

}  // namespace rootgate::server
