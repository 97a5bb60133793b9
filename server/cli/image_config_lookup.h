// `rootgate check --image REF`: an image checked straight from its registry — its config User
// read by the registry client (issue 4) and judged as an image config is (image_config.h). Thread-
// compatible (one call at a time; the resolver is thread-safe).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "server/report/check.h"
#include "server/util/clock.h"
#include "server/registry/image_resolver.h"

namespace rootgate::server {

// Looks every reference up (in parallel, all within `timeout`) and appends one result per
// reference (kind "Image") to `report`. Without a resolver (--offline) every user is unknown.
void CheckImageRefs(const std::vector<std::string>& refs, const policy::Policy& policy,
                    ImageResolver* resolver, const Clock& clock, std::chrono::nanoseconds timeout,
                    CheckReport* report);

}  // namespace rootgate::server
