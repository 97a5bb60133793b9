// What every rule sees, and the registry of rules. A rule is a pure function of a RuleContext
// that appends findings; the evaluator decides what each finding does (deny, warn, audit).
// Thread-safe: rules keep no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/decision.h"
#include "policy/image_user.h"
#include "policy/policy.h"
#include "policy/result.h"
#include "policy/rule_id.h"
#include "policy/workload.h"

namespace rootgate::policy {

// A container's settings after the pod/container merge of SEMANTICS.md, each with the path of
// the field it came from, and the image user when the spec does not fix the user.
struct EffectiveContainer {
  // Where an effective value came from. kContainer also when unset: the container's own field
  // is then the one to set.
  enum class From { kContainer, kPod };

  const WorkloadView* view = nullptr;
  const ContainerView* container = nullptr;
  std::optional<int64_t> run_as_user;
  From run_as_user_from = From::kContainer;
  std::optional<int64_t> run_as_group;
  From run_as_group_from = From::kContainer;
  std::optional<bool> run_as_non_root;
  From run_as_non_root_from = From::kContainer;
  std::optional<std::string> windows_user;  // windowsOptions.runAsUserName
  From windows_user_from = From::kContainer;
  std::optional<bool> host_process;  // windowsOptions.hostProcess
  From host_process_from = From::kContainer;

  // Paths of the fields the effective values came from, built only when a finding needs them:
  // "spec.containers[0].securityContext.runAsUser" or "spec.securityContext.runAsUser".
  std::string FieldPath(std::string_view field, From from) const;
  std::string RunAsUserField() const { return FieldPath("runAsUser", run_as_user_from); }
  std::string RunAsGroupField() const { return FieldPath("runAsGroup", run_as_group_from); }
  std::string RunAsNonRootField() const { return FieldPath("runAsNonRoot", run_as_non_root_from); }
  std::string WindowsUserField() const {
    return FieldPath("windowsOptions.runAsUserName", windows_user_from);
  }
  // A Windows pod (spec.os.name: windows) or a HostProcess container (only Windows nodes run
  // one): the user is a Windows account, not a uid.
  bool Windows() const { return view->windows || host_process == true; }

  // The image's user; read only when the spec leaves the user unset.
  bool image_user_known = false;
  ImageUser image_user;
  std::string image_source;    // "policy imageOverrides", "registry ghcr.io"
  std::string unknown_reason;  // when !image_user_known
  std::string image_display;   // the normalised reference, or the image as written if invalid
};

struct RuleContext {
  const WorkloadView& view;
  const std::vector<EffectiveContainer>& containers;  // not exempt, in spec order
  const Policy& policy;
};

// Findings a rule returns. `violations` follow the rule's action; `advisories` are always
// warnings (e.g. a named image user assumed non-root).
struct RuleOutput {
  std::vector<Finding> violations;
  std::vector<Finding> advisories;
};

using CheckFn = void (*)(const RuleContext&, RuleOutput*);

struct RuleDef {
  RuleId id;
  std::string_view reads;   // the fields it reads, for docs and `rootgate rules`
  std::string_view allows;  // the values it allows
  CheckFn check;
};

// The rules in evaluation order. Built once; checks that every RuleId is registered exactly
// once and in RuleId order, and returns an error otherwise.
class RuleRegistry {
 public:
  static Result<RuleRegistry> Build(std::vector<RuleDef> defs);
  // The registry of all built-in rules. Precondition: Build succeeded on them (a unit test
  // asserts it); a broken build would be a programming error caught by that test.
  static const RuleRegistry& Builtin();

  const std::vector<RuleDef>& rules() const { return rules_; }
  const RuleDef& Get(RuleId id) const { return rules_[static_cast<size_t>(id)]; }

 private:
  std::vector<RuleDef> rules_;
};

// Each rule's definition, from its own file under policy/rules/.
RuleDef RootUserRule();
RuleDef UnknownUserRule();
RuleDef RunAsNonRootRule();
RuleDef RunAsUserRule();
RuleDef PrivilegedRule();
RuleDef AllowPrivilegeEscalationRule();
RuleDef RootGroupRule();
RuleDef UidRangeRule();

// Helpers shared by rules.
std::string Quote(std::string_view s);  // "\"web\""
// `container "web"` or `init container "setup"` / `ephemeral container "debug"`.
std::string DescribeContainer(const ContainerView& c);
// True when the pod runs in a user namespace and the policy lets root there (rootUser and
// unknownUser then do not apply).
bool RootMappedByUserNamespace(const RuleContext& ctx);
// Describes where an image user came from: `image X has no USER` / `image X has USER "0"`.
std::string DescribeImageUser(const EffectiveContainer& ec);

}  // namespace rootgate::policy
