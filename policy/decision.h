// The outcome of evaluating one workload or one admission request. Plain data.
#pragma once

#include <string>
#include <vector>

#include "policy/rule_id.h"

namespace rootgate::policy {

struct Finding {
  RuleId rule = RuleId::kRootUser;
  std::string container;  // container name; empty for pod-level findings
  std::string field;      // the field to change, as a real path
  std::string reason;     // short, machine-usable: "runAsUser=0", "image user root"
  std::string message;    // one line: what was found, where from, and the fix
};

struct Decision {
  bool allowed = true;
  int code = 0;                    // HTTP-style status code when !allowed (403; 400 bad object)
  std::vector<Finding> violations;  // denied findings
  std::vector<Finding> warnings;    // findings to warn about (mode warn, action warn, advisories)
  std::vector<Finding> audits;      // findings for audit annotations
  bool evaluated = false;           // false: allowed without looking (exempt, unchanged, ...)
  std::string skip_reason;          // why not evaluated: "namespace kube-system is exempt"
  std::string error;                // a malformed object: what and where
};

// The deny message of a decision: every violation as "[ruleId] message", joined by "; ", cut to
// under 1 KiB with "… and N more".
std::string DenyMessage(const Decision& d);

}  // namespace rootgate::policy
