#include <cstdlib>

#include "policy/rules/rule.h"

namespace rootgate::policy {

Result<RuleRegistry> RuleRegistry::Build(std::vector<RuleDef> defs) {
  if (defs.size() != kRuleCount) {
    return Error{"rule registry: " + std::to_string(defs.size()) + " rules registered, " +
                 std::to_string(kRuleCount) + " IDs defined"};
  }
  for (size_t i = 0; i < defs.size(); ++i) {
    if (static_cast<size_t>(defs[i].id) != i) {
      return Error{"rule registry: rule " + std::string(RuleName(defs[i].id)) +
                   " registered at position " + std::to_string(i) + " (duplicate or out of order)"};
    }
    if (defs[i].check == nullptr) {
      return Error{"rule registry: rule " + std::string(RuleName(defs[i].id)) + " has no check"};
    }
  }
  RuleRegistry r;
  r.rules_ = std::move(defs);
  return r;
}

const RuleRegistry& RuleRegistry::Builtin() {
  static const RuleRegistry kRegistry = [] {
    auto built = Build({RootUserRule(), UnknownUserRule(), RunAsNonRootRule(), RunAsUserRule(),
                        PrivilegedRule(), AllowPrivilegeEscalationRule(), RootGroupRule(),
                        UidRangeRule()});
    if (!built) std::abort();  // programming error; registry_test asserts Build succeeds
    return std::move(built).value();
  }();
  return kRegistry;
}

std::string EffectiveContainer::FieldPath(std::string_view field, From from) const {
  const std::string& base = from == From::kPod ? view->spec_path : container->path;
  std::string path;
  path.reserve(base.size() + 18 + field.size());
  return path.append(base).append(".securityContext.").append(field);
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string DescribeContainer(const ContainerView& c) {
  switch (c.kind) {
    case ContainerKind::kInit:
      return (c.restartable ? "sidecar container " : "init container ") + Quote(c.name);
    case ContainerKind::kEphemeral:
      return "ephemeral container " + Quote(c.name);
    case ContainerKind::kRegular:
      break;
  }
  return "container " + Quote(c.name);
}

bool RootMappedByUserNamespace(const RuleContext& ctx) {
  return ctx.view.host_users == false && ctx.policy.allow_root_in_user_namespaces;
}

std::string DescribeImageUser(const EffectiveContainer& ec) {
  std::string s = "image " + ec.image_display;
  if (ec.image_user.kind == ImageUser::Kind::kRootByDefault && ec.image_user.raw.empty()) {
    s += " has no USER";
  } else {
    s += " has USER " + Quote(ec.image_user.raw);
  }
  if (!ec.image_source.empty()) s += " (" + ec.image_source + ")";
  return s;
}

}  // namespace rootgate::policy
