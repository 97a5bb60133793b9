// Image facts that depend on the pod: `check --resolve-images --kubeconfig` looks images up with
// each pod's own pull secrets, so the facts for one pod may differ from another's. A
// PodScopedFacts passed where plain ImageFacts go is asked, per workload object, for that pod's
// facts (FactsForPod); inputs without a pod (Dockerfiles, Compose files, image configs,
// AdmissionReviews) use its own Find. Implementations are thread-safe.
#pragma once

#include <string>

#include "policy/image_facts.h"
#include "policy/workload.h"

namespace rootgate::server {

class PodScopedFacts : public policy::ImageFacts {
 public:
  // The facts for the pod of `view`, an object of namespace `namespace_name` ("" when the
  // manifest names none). The reference stays valid as long as this object.
  virtual const policy::ImageFacts& ForPod(const std::string& namespace_name,
                                           const policy::WorkloadView& view) const = 0;
};

// `facts` itself, or its ForPod answer when it is a PodScopedFacts.
const policy::ImageFacts& FactsForPod(const policy::ImageFacts& facts, const std::string& namespace_name,
                                      const policy::WorkloadView& view);

}  // namespace rootgate::server
