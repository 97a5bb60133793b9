// Parses a policy file (YAML) into a Policy. Strict: an unknown field, a wrong type, an unknown
// rule ID or a bad value is an error naming the line and the field; nothing is defaulted
// silently. Pure (text in); thread-safe.
#pragma once

#include <string_view>

#include "policy/policy.h"
#include "policy/image_user.h"
#include "policy/result.h"

namespace rootgate::policy {

// On success, the policy; on failure, e.g.
// `line 7: rules.rootUsr: unknown rule ID (known: rootUser, unknownUser, ...)`.
Result<Policy> ParsePolicy(std::string_view yaml_text);

// The built-in default policy as YAML text (what `BuiltinDefaultPolicy()` holds).
std::string_view BuiltinDefaultPolicyYaml();

}  // namespace rootgate::policy
