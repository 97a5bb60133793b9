#include "server/cli/image_config_lookup.h"

#include "server/inputs/image_config.h"

namespace rootgate::server {

void CheckImageRefs(const std::vector<std::string>& refs, const policy::Policy& policy,
                    ImageResolver* resolver, const Clock& clock, std::chrono::nanoseconds timeout,
                    CheckReport* report) {
  if (refs.empty()) return;
  ResolvedImages resolved;
  if (resolver != nullptr) {
    resolved = resolver->Resolve(refs, policy, clock.Now() + timeout);
  } else {
    for (const std::string& ref : refs) {
      resolved.facts.Set(ref, policy::ImageFact{false, "", "", "registry lookups are off (--offline)"});
    }
  }
  for (const std::string& ref : refs) CheckImageRef(ref, resolved.facts, policy, report);
}

}  // namespace rootgate::server
