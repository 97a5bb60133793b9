#include "server/inputs/policy_source.h"

#include "policy/policy_parse.h"
#include "server/util/files.h"

namespace rootgate::server {

Result<policy::Policy> LoadPolicyFile(const std::string& path) {
  auto text = ReadInput(path);
  if (!text) return Error{"policy " + path + ": " + text.error()};
  auto parsed = policy::ParsePolicy(text.value());
  if (!parsed) return Error{"policy " + path + ": " + parsed.error()};
  return parsed;
}

Result<policy::Policy> SelectPolicy(const std::string& policy_file, const std::string& preset) {
  if (!policy_file.empty() && !preset.empty()) return Error{"give --policy or --preset, not both"};
  if (!policy_file.empty()) return LoadPolicyFile(policy_file);
  policy::Policy p = policy::BuiltinDefaultPolicy();
  if (preset.empty()) return p;
  auto named = policy::PresetFromName(preset);
  if (!named) return Error{"unknown preset \"" + preset + "\" (known: default, pss-restricted, pss-baseline)"};
  p.preset = *named;
  p.rules = policy::PresetRules(*named);
  return p;
}

}  // namespace rootgate::server
