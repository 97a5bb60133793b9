// `rootgate check --resolve-images`: the check with image users read from registries. Every
// input is read once; a first pass with a recording ImageFacts finds the images whose user a
// decision reads (what the evaluator asks for: not exempt, no runAsUser, no static override)
// and the user names a Dockerfile's base image must resolve (ImageFacts::FindUserName);
// those are looked up in parallel under one deadline; a second pass decides with the answers.
// Thread-compatible (one call at a time; the resolver itself is thread-safe).
#pragma once

#include <vector>

#include "policy/policy.h"
#include "server/report/check.h"
#include "server/inputs/check_input.h"
#include "server/util/clock.h"
#include "server/util/files.h"
#include "server/registry/image_resolver.h"
#include "server/registry/pull_keyring.h"

namespace rootgate::server {

// Like CheckInputs, with facts from `resolver` (nullptr: lookups are off, and the reply says
// so); the lookups together get `timeout`. Unreadable inputs become whole-file errors. With
// `secrets` (cluster access), each workload's images are looked up with its pod's pull secrets
// from its namespace (`default_namespace` when the manifest names none); the pods of one
// namespace with the same secrets share one lookup.
void CheckInputsWithLookups(const std::vector<InputPath>& inputs, const InputOptions& options,
                            const policy::Policy& policy, ImageResolver* resolver,
                            const Clock& clock, std::chrono::nanoseconds timeout,
                            CheckReport* report, PullKeyringSource* secrets = nullptr,
                            const std::string& default_namespace = "default");

}  // namespace rootgate::server
