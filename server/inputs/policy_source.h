// Where the CLI and the server get their policy: a file, a named preset, or the built-in one.
// Thread-safe: functions of their arguments and the file they read.
#pragma once

#include <string>

#include "policy/policy.h"
#include "policy/result.h"

namespace rootgate::server {

// Reads and parses a policy file. Error: "policy FILE: line N: field: what".
Result<policy::Policy> LoadPolicyFile(const std::string& path);

// The policy for --policy FILE / --preset NAME (at most one given) or the built-in default.
Result<policy::Policy> SelectPolicy(const std::string& policy_file, const std::string& preset);

}  // namespace rootgate::server
