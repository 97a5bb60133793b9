#include "server/admission/image_lookup.h"

#include <algorithm>

#include "policy/evaluator.h"
#include "server/admission/admission_codec.h"

namespace rootgate::server {

namespace {

// The rules whose findings depend on an image's user.
bool ReadsImageUsers(const policy::Policy& policy, std::string_view namespace_name) {
  policy::Mode mode;
  policy::RuleActions rules;
  policy.ForNamespace(namespace_name, &mode, &rules);
  for (policy::RuleId id : {policy::RuleId::kRootUser, policy::RuleId::kUnknownUser, policy::RuleId::kUidRange}) {
    if (rules[static_cast<size_t>(id)] != policy::Action::kOff) return true;
  }
  return false;
}

// The images whose user the plan's decision reads.
std::vector<std::string> PlanImages(const policy::Plan& plan, const policy::Policy& policy) {
  if (!plan.restrict_to_ephemeral) return policy::ImagesNeedingFacts(plan.view, policy);
  policy::WorkloadView only = plan.view;  // an ephemeralcontainers UPDATE: the new ones only
  std::erase_if(only.containers, [&plan](const policy::ContainerView& c) {
    return c.kind != policy::ContainerKind::kEphemeral ||
           std::find(plan.only_ephemeral.begin(), plan.only_ephemeral.end(), c.name) == plan.only_ephemeral.end();
  });
  return policy::ImagesNeedingFacts(only, policy);
}

// onTimeout: allow — an unknownUser violation of a container whose image lookup timed out is
// moved to the warnings, saying so.
void AllowTimedOut(const policy::Plan& plan, const std::vector<std::string>& timed_out,
                   policy::Decision* d) {
  auto timed_out_container = [&](const std::string& name) {
    for (const policy::ContainerView& c : plan.view.containers) {
      if (c.name == name) {
        return std::find(timed_out.begin(), timed_out.end(), c.image) != timed_out.end();
      }
    }
    return false;
  };
  auto moved = std::stable_partition(d->violations.begin(), d->violations.end(), [&](const policy::Finding& f) {
    return !(f.rule == policy::RuleId::kUnknownUser && timed_out_container(f.container));
  });
  for (auto it = moved; it != d->violations.end(); ++it) {
    it->message += " (allowed: the registry lookup timed out and the policy sets onTimeout: allow)";
    d->warnings.push_back(std::move(*it));
  }
  d->violations.erase(moved, d->violations.end());
  d->allowed = d->violations.empty() && d->error.empty();
  if (d->allowed) d->code = 0;
}

}  // namespace

policy::Decision DecidePlanWithLookups(const policy::Plan& plan, const policy::Request& request,
                                       const policy::Policy& policy, ImageResolver& resolver,
                                       Clock::TimePoint answer_by, const Clock& clock,
                                       PullKeyringSource* secrets) {
  static const policy::NoImageFacts kNoFacts;
  if (!plan.evaluate || !plan.error.empty() || !ReadsImageUsers(policy, request.namespace_name)) {
    return policy::DecidePlan(plan, request, kNoFacts, policy);
  }
  const std::vector<std::string> images = PlanImages(plan, policy);
  if (images.empty()) return policy::DecidePlan(plan, request, kNoFacts, policy);
  // Exempt requests (namespace, user, runtime class) need no lookups: the first, fact-free
  // evaluation costs microseconds and tells.
  policy::Decision unlooked = policy::DecidePlan(plan, request, kNoFacts, policy);
  if (!unlooked.evaluated) return unlooked;
  const auto now = clock.Now();
  const auto left = std::max<Clock::TimePoint::duration>(answer_by - now, Clock::TimePoint::duration::zero());
  const auto margin = std::min<Clock::TimePoint::duration>(left / 20, std::chrono::milliseconds(50));
  std::optional<PullKeyring> keyring;
  if (secrets != nullptr && plan.view.pod_spec != nullptr) {
    keyring = secrets->For(request.namespace_name, *plan.view.pod_spec);
  }
  ResolvedImages resolved = resolver.Resolve(images, policy, answer_by - margin, keyring ? &*keyring : nullptr);
  policy::Decision d = policy::DecidePlan(plan, request, resolved.facts, policy);
  if (policy.on_timeout == policy::OnTimeout::kAllowWithWarning && !resolved.timed_out.empty()) {
    AllowTimedOut(plan, resolved.timed_out, &d);
  }
  return d;
}

policy::Decision DecidePlanWithFacts(const policy::Plan& plan, const policy::Request& request,
                                     const policy::ImageFacts& facts, const policy::Policy& policy,
                                     Clock::TimePoint answer_by, const Clock& clock) {
  if (const auto* registry = dynamic_cast<const RegistryFacts*>(&facts)) {
    return DecidePlanWithLookups(plan, request, policy, registry->resolver(), answer_by, clock,
                                 registry->secrets());
  }
  return policy::DecidePlan(plan, request, facts, policy);
}

Result<nlohmann::json> ReviewBodyWithResolver(std::string_view body, const policy::Policy& policy,
                                              ImageResolver& resolver, Clock::TimePoint answer_by,
                                              const Clock& clock, PullKeyringSource* secrets) {
  auto decoded = DecodeReviewText(body);
  if (!decoded) return Error{decoded.error()};
  const DecodedReview& review = decoded.value();
  const policy::Plan plan = policy::PlanRequest(review.request, policy);
  const policy::Decision decision =
      DecidePlanWithLookups(plan, review.request, policy, resolver, answer_by, clock, secrets);
  return EncodeReply(review.api_version, review.request.uid, decision);
}

}  // namespace rootgate::server
