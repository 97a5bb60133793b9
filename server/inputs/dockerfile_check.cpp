#include "server/inputs/dockerfile_check.h"

#include <algorithm>
#include <cctype>

#include "server/inputs/image_config_verdict.h"

namespace rootgate::server {

namespace {

using dockerfile::Stage;
using dockerfile::Stages;
using dockerfile::UserInstruction;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string LineOf(int line) { return "line " + std::to_string(line); }

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// The stage checked, the USER that decides its user (if any) and the stage at the chain's root.
struct Chain {
  const Stage* target = nullptr;
  const Stage* user_stage = nullptr;  // the stage holding `user`
  const UserInstruction* user = nullptr;
  const Stage* root = nullptr;        // the first stage of the FROM chain: its base is not a stage
  std::vector<size_t> members;        // indexes of every stage in the chain
};

Chain ResolveChain(const Stages& stages, size_t target) {
  Chain c;
  c.target = &stages.stages[target];
  for (const Stage* s = c.target; s != nullptr;
       s = s->parent ? &stages.stages[*s->parent] : nullptr) {
    c.members.push_back(s->index);
    c.root = s;
    if (c.user == nullptr && !s->users.empty()) {
      c.user = &s->users.back();
      c.user_stage = s;
    }
  }
  return c;
}

// The last USER of a stage outside the chain: set there only, not inherited by the target.
std::string EarlierStageNote(const Stages& stages, const Chain& c) {
  const UserInstruction* last = nullptr;
  const Stage* where = nullptr;
  for (const Stage& s : stages.stages) {
    if (s.users.empty() || std::find(c.members.begin(), c.members.end(), s.index) != c.members.end()) {
      continue;
    }
    last = &s.users.back();
    where = &s;
  }
  if (last == nullptr) return "";
  return " (USER " + last->written + " at " + LineOf(last->line) + " is set only in " +
         where->Describe() + ", which the final stage does not build on; COPY --from copies "
         "files, not the user)";
}

std::string DescribeUser(const UserInstruction& u) {
  std::string s = "USER " + u.written;
  if (u.value != u.written) s += " (= " + Quote(u.value) + ")";
  return s + " at " + LineOf(u.line);
}

// The chain's stages in build order (root first).
std::vector<const Stage*> BuildOrder(const Stages& stages, const Chain& c) {
  std::vector<const Stage*> order;
  for (auto it = c.members.rbegin(); it != c.members.rend(); ++it) order.push_back(&stages.stages[*it]);
  return order;
}

// A named USER (not root): its uid from the useradd/adduser that creates it in the chain, else
// from the base image's /etc/passwd (ImageFacts::FindUserName, namedUsers: resolve), else
// unknown with the reason.
void ResolveName(const Stages& stages, const Chain& c, const policy::Policy& policy,
                 const policy::ImageFacts& facts, UserEvidence* e, UserWording* w) {
  policy::ImageUser& u = e->user;
  const std::vector<const Stage*> order = BuildOrder(stages, c);
  for (const Stage* s : order) {
    for (const dockerfile::PasswdChange& ch : s->passwd_changes) {
      u.passwd_note = "RUN at " + LineOf(ch.line) + " changes /etc/passwd (" + ch.command +
                      "), which rootgate does not follow";
      return;
    }
  }
  for (const Stage* s : order) {
    for (const dockerfile::UserCreation& made : s->created_users) {
      if (made.name != u.name) continue;
      w->found += ", created by RUN " + made.command + " at " + LineOf(made.line);
      if (!made.uid_problem.empty()) {
        u.passwd_note = made.uid_problem;
      } else if (made.uid) {
        u.passwd_uid = made.uid;
      } else {
        u.name_non_root = true;  // the tool allocates a uid above 0
      }
      return;
    }
  }
  if (c.root->IsScratch() || c.root->parent || c.root->base.empty()) {
    u.passwd_note = "USER " + u.name + " is not created in this Dockerfile (useradd/adduser) and " +
                    (c.root->IsScratch() ? "FROM scratch has no /etc/passwd" : "its base could not be read") +
                    "; the container would not start";
    return;
  }
  const std::string not_created = "USER " + u.name + " is not created in this Dockerfile (useradd/adduser), so "
                                  "its uid comes from the /etc/passwd of base image ";
  std::string display;
  if (policy.named_users != policy::NamedUsers::kResolve) {
    u.passwd_note = not_created + c.root->base + ", which namedUsers: assume does not read";
    return;
  }
  const UserEvidence base = LookupImageUserName(c.root->base, u.name, facts, policy, &display);
  if (base.known && base.user.passwd_uid) {
    u.passwd_uid = base.user.passwd_uid;
    w->found += ", from the /etc/passwd of base image " + display + " (" + base.source + ")";
    return;
  }
  const std::string& note = base.user.passwd_note;
  u.passwd_note = not_created + display +
                  (!base.known ? ", which was not read (" + base.unknown_reason + ")"
                               : " (" + base.source + "): " + (note.empty() ? "it does not give the uid" : note));
}

// Evidence and wording when a USER instruction decides.
void FromUser(const Chain& c, UserEvidence* e, UserWording* w) {
  const UserInstruction& u = *c.user;
  w->found = DescribeUser(u);
  if (c.user_stage != c.target) {
    w->found += " in " + c.user_stage->Describe() + ", which it builds on";
  }
  w->line = u.line;
  const bool external_root = !c.root->parent && !c.root->IsScratch();
  if (!u.unset.empty() && external_root) {
    std::string names;
    for (const std::string& n : u.unset) names += (names.empty() ? "" : ", ") + n;
    e->unknown_reason = names + " has no value in this Dockerfile (no ARG value, --build-arg or "
                        "ENV), so it would come from the environment of base image " +
                        c.root->base + ", which is not known";
    w->fix = "give it a value with ARG or ENV, or write the numeric UID";
    return;
  }
  e->known = true;
  e->user = policy::ParseImageUser(u.value);
  // A Windows image's administrator; no Linux image has a user by that name.
  e->windows = EqualsNoCase(u.value, "ContainerAdministrator");
}

// Evidence and wording when no USER applies: the base of the chain decides.
void FromBase(const Stages& stages, const Chain& c, const policy::Policy& policy,
              const policy::ImageFacts& facts, UserEvidence* e, UserWording* w) {
  const std::string none = c.members.size() > 1
                               ? "it has no USER (nor do the stages it builds on)"
                               : "it has no USER";
  w->line = c.target->line;
  w->fix += EarlierStageNote(stages, c);
  if (c.root->base.empty()) {
    w->found = none + " and the FROM at " + LineOf(c.root->line) + " could not be read";
    e->unknown_reason = "see the error for that line";
    return;
  }
  if (c.root->IsScratch()) {
    w->found = none + " and builds FROM scratch (" + LineOf(c.root->line) + "), which has no user";
    e->known = true;
    e->user = policy::ParseImageUser("");
    return;
  }
  std::string display;
  *e = LookupImageUser(c.root->base, facts, policy, &display);
  const std::string base = "base image " + display + " (" + LineOf(c.root->line) + ")";
  if (!e->known) {
    w->found = none + " and the user of its " + base + " is unknown";
    w->fix += ", or look the base image up with --resolve-images";
    return;
  }
  const std::string has = e->user.raw.empty() ? "has no USER" : "has USER " + Quote(e->user.raw);
  w->found = none + " and its " + base + " " + has + " (" + e->source + ")";
}

// Adds the errors of both passes, in line order.
void AddErrors(const std::string& source, std::vector<dockerfile::ParseError> errors,
               const std::vector<dockerfile::ParseError>& more, CheckReport* report) {
  errors.insert(errors.end(), more.begin(), more.end());
  std::stable_sort(errors.begin(), errors.end(),
                   [](const auto& a, const auto& b) { return a.line < b.line; });
  for (const dockerfile::ParseError& e : errors) {
    CheckError error{source, 0, e.line, e.message};
    error.line_only = true;
    report->errors.push_back(std::move(error));
  }
}

// The stage to check: --target, else the last. nullopt (with an error added) when there is none.
std::optional<size_t> TargetStage(const std::string& source, const Stages& stages,
                                  const DockerfileOptions& options, CheckReport* report) {
  if (stages.stages.empty()) {
    report->errors.push_back({source, 0, 0, "no build stage: a Dockerfile needs a FROM", true});
    return std::nullopt;
  }
  if (options.target.empty()) return stages.stages.size() - 1;
  std::optional<size_t> found = dockerfile::FindStage(stages, options.target);
  if (!found) {
    report->errors.push_back({source, 0, 0, "target stage " + Quote(options.target) + " not found", true});
  }
  return found;
}

}  // namespace

DockerfileUser ReadDockerfileUser(const std::string& source, std::string_view text,
                                  const DockerfileOptions& options, const policy::Policy& policy,
                                  const policy::ImageFacts& facts, CheckReport* report) {
  const dockerfile::Dockerfile file = dockerfile::ParseDockerfile(text);
  const Stages stages = dockerfile::BuildStages(file, options.build_args);
  AddErrors(source, file.errors, stages.errors, report);
  DockerfileUser out;
  const std::optional<size_t> target = TargetStage(source, stages, options, report);
  if (!target) return out;
  const Chain chain = ResolveChain(stages, *target);
  out.found = true;
  out.stage = chain.target->name.empty() ? "stage " + std::to_string(chain.target->index)
                                         : chain.target->name;
  out.stage_line = chain.target->line;
  UserWording& wording = out.wording;
  wording.subject = (options.target.empty() ? "final " : "target ") + chain.target->Describe();
  wording.fix = "add USER 10001 (any non-zero UID) to the final stage";
  wording.field = "USER";
  if (chain.user != nullptr) {
    wording.fix = "set USER to a non-zero UID, e.g. USER 10001";
    FromUser(chain, &out.evidence, &wording);
    if (out.evidence.known && out.evidence.user.kind == policy::ImageUser::Kind::kName &&
        out.evidence.user.name != "root" && !out.evidence.windows) {
      ResolveName(stages, chain, policy, facts, &out.evidence, &wording);
    }
  } else {
    FromBase(stages, chain, policy, facts, &out.evidence, &wording);
  }
  return out;
}

void CheckDockerfileText(const std::string& source, std::string_view text,
                         const DockerfileOptions& options, const policy::Policy& policy,
                         const policy::ImageFacts& facts, CheckReport* report) {
  const DockerfileUser user = ReadDockerfileUser(source, text, options, policy, facts, report);
  if (!user.found) return;
  CheckResult r;
  r.source = source;
  r.kind = "Dockerfile";
  r.name = user.stage;
  r.line = user.stage_line;
  DecideImageUser(user.evidence, user.wording, policy, &r);
  report->results.push_back(std::move(r));
}

std::vector<std::string> DockerfileBaseImages(std::string_view text,
                                              const DockerfileOptions& options) {
  const Stages stages = dockerfile::BuildStages(dockerfile::ParseDockerfile(text), options.build_args);
  CheckReport ignored;
  const std::optional<size_t> target = TargetStage("", stages, options, &ignored);
  if (!target) return {};
  const Chain chain = ResolveChain(stages, *target);
  const bool external = !chain.root->parent && !chain.root->IsScratch() && !chain.root->base.empty();
  if (!external) return {};
  // A named USER not created in the Dockerfile comes from the base image's /etc/passwd.
  const bool named = chain.user != nullptr &&
                     policy::ParseImageUser(chain.user->value).kind == policy::ImageUser::Kind::kName;
  if (chain.user != nullptr && !named) return {};
  return {chain.root->base};
}

}  // namespace rootgate::server
