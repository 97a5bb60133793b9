// `rootgate check` on manifest text: every document of a YAML stream or JSON text (Kubernetes
// objects, `kind: List`, AdmissionReview objects, image configs recognised by shape) in, one
// CheckResult per workload out. The socket- and file-free core: tests feed strings. Thread-safe:
// a function of its arguments (`facts` is only read).
#pragma once

#include <string>
#include <string_view>

#include "policy/image_facts.h"
#include "policy/policy.h"
#include "server/report/check.h"

namespace rootgate::server {

// Checks every document of `text` (YAML stream or JSON), appending to `report`. Never throws.
void CheckText(const std::string& source, std::string_view text, const policy::Policy& policy,
               const policy::ImageFacts& facts, CheckReport* report);

}  // namespace rootgate::server
