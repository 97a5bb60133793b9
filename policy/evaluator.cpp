#include "policy/evaluator.h"

#include <algorithm>

#include "policy/image_ref.h"
#include "policy/platform_fact.h"
#include "policy/rules/rule.h"
#include "policy/utf8.h"

namespace rootgate::policy {

namespace {

// The reference as written and, when it parses, its normalised form.
struct ImageNames {
  std::string_view written;
  std::optional<std::string> normalised;
  std::string parse_error;
};

ImageNames NamesOf(std::string_view image) {
  ImageNames n{image, std::nullopt, {}};
  auto ref = ParseImageRef(image);
  if (ref) {
    n.normalised = ref.value().String();
  } else {
    n.parse_error = ref.error();
  }
  return n;
}

bool MatchesImage(const std::vector<std::string>& patterns, const ImageNames& names) {
  for (const std::string& p : patterns) {
    if (GlobMatch(p, names.written)) return true;
    if (names.normalised && GlobMatch(p, *names.normalised)) return true;
  }
  return false;
}

const ImageOverride* FindOverride(const Policy& policy, const ImageNames& names) {
  for (const ImageOverride& o : policy.image_overrides) {
    if (GlobMatch(o.image, names.written)) return &o;
    if (names.normalised && GlobMatch(o.image, *names.normalised)) return &o;
  }
  return nullptr;
}

bool NeedsImageUser(const EffectiveContainer& ec) {
  return ec.Windows() ? !ec.windows_user.has_value() : !ec.run_as_user.has_value();
}

void ResolveImageUser(const ImageNames& names, const ImageFacts& facts, const Policy& policy,
                      const WorkloadView& view, EffectiveContainer* ec) {
  ec->image_display = names.normalised.value_or(std::string(names.written));
  if (!names.normalised) {
    ec->unknown_reason = names.parse_error;
    return;
  }
  if (const ImageOverride* o = FindOverride(policy, names)) {
    ec->image_user_known = true;
    ec->image_user = ImageUserOfOverride(o->image, o->user);
    ec->image_source = "policy imageOverrides " + Quote(o->image);
    return;
  }
  std::optional<ImageFact> fact = facts.Find(names.written);
  // A multi-platform image: the entries this pod can land on, the most privileged applying.
  if (fact && !fact->platforms.empty()) fact = FactForPod(*fact, &view.placement, view.windows);
  if (!fact) {
    ec->unknown_reason = "no image facts; registry lookups are off";
    return;
  }
  if (!fact->known) {
    ec->unknown_reason = fact->reason;
    return;
  }
  ec->image_user_known = true;
  ec->image_user = ImageUserOf(*fact);
  ec->image_source = fact->source;
}

// Container value over pod value, remembering which it came from.
template <typename T>
void Merge(const std::optional<T>& container, const std::optional<T>& pod, std::optional<T>* out,
           EffectiveContainer::From* from) {
  *out = container ? container : pod;
  *from = container || !pod ? EffectiveContainer::From::kContainer : EffectiveContainer::From::kPod;
}

EffectiveContainer MergeContainer(const WorkloadView& view, const ContainerView& c) {
  EffectiveContainer ec;
  ec.view = &view;
  ec.container = &c;
  const SecurityFields& pod = view.pod_security;
  Merge(c.security.run_as_user, pod.run_as_user, &ec.run_as_user, &ec.run_as_user_from);
  Merge(c.security.run_as_group, pod.run_as_group, &ec.run_as_group, &ec.run_as_group_from);
  Merge(c.security.run_as_non_root, pod.run_as_non_root, &ec.run_as_non_root,
        &ec.run_as_non_root_from);
  Merge(c.security.windows_run_as_user_name, pod.windows_run_as_user_name, &ec.windows_user,
        &ec.windows_user_from);
  Merge(c.security.windows_host_process, pod.windows_host_process, &ec.host_process,
        &ec.host_process_from);
  return ec;
}

bool Selected(const ContainerView& c, const EvalContext& ctx) {
  if (ctx.only_ephemeral == nullptr) return true;
  if (c.kind != ContainerKind::kEphemeral) return false;
  const auto& names = *ctx.only_ephemeral;
  return std::find(names.begin(), names.end(), c.name) != names.end();
}

std::vector<EffectiveContainer> EffectiveContainers(const WorkloadView& view,
                                                    const ImageFacts& facts,
                                                    const Policy& policy, const EvalContext& ctx) {
  std::vector<EffectiveContainer> out;
  out.reserve(view.containers.size());
  const bool image_exemptions = !policy.exemptions.images.empty();
  for (const ContainerView& c : view.containers) {
    if (!Selected(c, ctx)) continue;
    EffectiveContainer ec = MergeContainer(view, c);
    const bool needs_user = NeedsImageUser(ec);
    if (!image_exemptions && !needs_user) {
      out.push_back(std::move(ec));
      continue;
    }
    ImageNames names = NamesOf(c.image);
    if (image_exemptions && MatchesImage(policy.exemptions.images, names)) continue;
    if (needs_user) ResolveImageUser(names, facts, policy, view, &ec);
    out.push_back(std::move(ec));
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

std::string ExemptionReason(const WorkloadView& view, const Policy& policy,
                            const EvalContext& ctx) {
  for (const std::string& p : policy.exemptions.namespaces) {
    if (GlobMatch(p, ctx.namespace_name)) {
      return "namespace " + std::string(ctx.namespace_name) + " is exempt";
    }
  }
  if (!ctx.username.empty() && Contains(policy.exemptions.usernames, ctx.username)) {
    return "user " + std::string(ctx.username) + " is exempt";
  }
  if (!view.runtime_class_name.empty() &&
      Contains(policy.exemptions.runtime_class_names, view.runtime_class_name)) {
    return "runtimeClassName " + view.runtime_class_name + " is exempt";
  }
  return "";
}

}  // namespace

Decision Evaluate(const WorkloadView& view, const ImageFacts& facts, const Policy& policy,
                  const EvalContext& ctx) {
  Decision d;
  d.skip_reason = ExemptionReason(view, policy, ctx);
  if (!d.skip_reason.empty()) return d;
  d.evaluated = true;
  Mode mode;
  RuleActions actions;
  policy.ForNamespace(ctx.namespace_name, &mode, &actions);
  const std::vector<EffectiveContainer> containers = EffectiveContainers(view, facts, policy, ctx);
  const RuleContext rule_ctx{view, containers, policy};
  for (const RuleDef& rule : RuleRegistry::Builtin().rules()) {
    Action action = ResolveAction(actions[static_cast<size_t>(rule.id)], mode);
    if (action == Action::kOff) continue;
    if (action == Action::kDeny && !view.is_pod && !policy.enforce_controllers) {
      action = Action::kWarn;
    }
    RuleOutput out;
    rule.check(rule_ctx, &out);
    auto& sink = action == Action::kDeny   ? d.violations
                 : action == Action::kWarn ? d.warnings
                                           : d.audits;
    std::move(out.violations.begin(), out.violations.end(), std::back_inserter(sink));
    std::move(out.advisories.begin(), out.advisories.end(), std::back_inserter(d.warnings));
  }
  d.allowed = d.violations.empty();
  d.code = d.allowed ? 0 : 403;
  return d;
}

std::vector<std::string> ImagesNeedingFacts(const WorkloadView& view, const Policy& policy) {
  std::vector<std::string> out;
  for (const ContainerView& c : view.containers) {
    EffectiveContainer ec = MergeContainer(view, c);
    if (!NeedsImageUser(ec) || Contains(out, c.image)) continue;
    ImageNames names = NamesOf(c.image);
    if (!names.normalised || FindOverride(policy, names) != nullptr) continue;
    if (MatchesImage(policy.exemptions.images, names)) continue;
    out.push_back(c.image);
  }
  return out;
}

std::string DenyMessage(const Decision& d) {
  constexpr size_t kLimit = 1000;
  std::string msg;
  for (size_t i = 0; i < d.violations.size(); ++i) {
    const std::string next =
        "[" + std::string(RuleName(d.violations[i].rule)) + "] " + d.violations[i].message;
    const std::string more = "; … and " + std::to_string(d.violations.size() - i) + " more";
    if (msg.size() + 2 + next.size() + more.size() > kLimit && i > 0) return msg + more;
    if (!msg.empty()) msg += "; ";
    msg += next;
  }
  if (msg.size() > kLimit) msg = CutUtf8(msg, kLimit - 3) + "…";  // "…" is 3 bytes
  return msg;
}

}  // namespace rootgate::policy

namespace rootgate::policy {

std::vector<PredictedUser> PredictUsers(const WorkloadView& view, const ImageFacts& facts,
                                        const Policy& policy) {
  std::vector<PredictedUser> out;
  if (view.windows) return out;
  for (const ContainerView& c : view.containers) {
    EffectiveContainer ec = MergeContainer(view, c);
    PredictedUser p{c.name, c.kind, std::nullopt, ""};
    if (ec.run_as_user) {
      p.uid = ec.run_as_user;
      p.source = ec.RunAsUserField();
    } else {
      ResolveImageUser(NamesOf(c.image), facts, policy, view, &ec);
      p.source = "image " + ec.image_display;
      const ImageUser& u = ec.image_user;
      if (!ec.image_user_known || u.kind == ImageUser::Kind::kInvalid) {
        // unknown
      } else if (u.IsRoot()) {
        p.uid = 0;
      } else if (u.kind == ImageUser::Kind::kUid) {
        p.uid = u.uid;
      } else if (u.passwd_uid) {
        p.uid = *u.passwd_uid;
      }
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace rootgate::policy
