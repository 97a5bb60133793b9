#include "server/inputs/pod_facts.h"

namespace rootgate::server {

const policy::ImageFacts& FactsForPod(const policy::ImageFacts& facts, const std::string& namespace_name,
                                      const policy::WorkloadView& view) {
  if (const auto* scoped = dynamic_cast<const PodScopedFacts*>(&facts)) return scoped->ForPod(namespace_name, view);
  return facts;
}

}  // namespace rootgate::server
