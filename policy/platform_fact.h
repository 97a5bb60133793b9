// The image user of a multi-platform image for one pod (SEMANTICS.md, "The image's user"): the
// index entries the pod can land on are judged one by one as ordinary image facts and the most
// privileged applies — root over unknown over non-root — with the platform named in the answer.
// Pure; thread-safe.
#pragma once

#include <string>

#include "policy/image_facts.h"
#include "policy/placement.h"

namespace rootgate::policy {

// How privileged one (single-platform) fact makes a container, most privileged last: kNonRoot
// for a known non-zero uid, kName for a name whose uid is unknown (assumed non-root with a
// warning), kInvalid for a uid out of range, kUnknown when the user could not be read, kRoot.
enum class FactPrivilege { kNonRoot, kName, kInvalid, kUnknown, kRoot };
FactPrivilege PrivilegeOf(const ImageFact& fact);

// The entries of `index` a pod can land on: Windows entries for a Windows pod (spec.os.name:
// windows), the others for any other pod, each allowed by `placement` (null: no constraint; an
// entry naming no platform always counts). Indexes as in index.platforms.
std::vector<size_t> PlatformsForPod(const ImageFact& index, const Placement* placement, bool windows);

// The fact that applies to the pod: for an index fact (non-empty `platforms`), the most privileged
// of the entries the pod can land on (the first of equals), its `source` or `reason` naming the
// platform ("linux/arm64 runs as root"); unknown when no entry is one the pod can land on. Any
// other fact is returned as is.
ImageFact FactForPod(const ImageFact& fact, const Placement* placement, bool windows);

}  // namespace rootgate::policy
