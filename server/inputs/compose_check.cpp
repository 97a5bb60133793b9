#include "server/inputs/compose_check.h"

#include <map>
#include <utility>

#include "policy/compose_service.h"
#include "server/inputs/dockerfile_check.h"
#include "server/inputs/image_config_verdict.h"

extern char** environ;

namespace rootgate::server {

namespace {

using compose::Origin;
using compose::Service;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Answers one path with text already read, every other path from `next`.
class TextOverlay final : public compose::FileSource {
 public:
  TextOverlay(std::string path, std::string_view text, const compose::FileSource& next)
      : path_(std::move(path)), text_(text), next_(next) {}
  Result<std::string> Read(const std::string& path) const override {
    return path == path_ ? Result<std::string>(std::string(text_)) : next_.Read(path);
  }
  bool Exists(const std::string& path) const override { return path == path_ || next_.Exists(path); }

 private:
  std::string path_;
  std::string_view text_;
  const compose::FileSource& next_;
};

struct ServiceContext {
  const compose::Project& project;
  const compose::FileSource& source;
  const policy::Policy& policy;
  const policy::ImageFacts& facts;
  CheckReport* report;

  void AddError(const Origin& at, const std::string& message) const {
    CheckError e{at.file, 0, at.line, message};
    e.line_only = at.line > 0;
    e.whole_file = at.line == 0;
    report->errors.push_back(std::move(e));
  }
};

// The Dockerfile a build reads: its path (for messages) and text; false after an error.
bool ReadDockerfile(const ServiceContext& ctx, const Service& s, std::string* path,
                    std::string* text) {
  const compose::Build& b = *s.build;
  if (b.dockerfile_inline.value) {
    *path = b.dockerfile_inline.at.file + ":" + std::to_string(b.dockerfile_inline.at.line) +
            " (dockerfile_inline)";
    *text = *b.dockerfile_inline.value;
    return true;
  }
  const std::string context = b.context.value.value_or(b.directory);
  *path = compose::JoinPath(context, b.dockerfile.value.value_or("Dockerfile"));
  Result<std::string> read = ctx.source.Read(*path);
  if (!read.ok()) {
    const Origin& at = b.dockerfile.value ? b.dockerfile.at : b.context.value ? b.context.at : b.at;
    ctx.AddError(at, "services." + s.name + ".build: cannot read the Dockerfile " + *path + ": " +
                         read.error());
    return false;
  }
  *text = std::move(read).value();
  return true;
}

bool IsRemote(const std::string& context) {
  return context.find("://") != std::string::npos || context.rfind("git@", 0) == 0 ||
         context.rfind("github.com/", 0) == 0;
}

// The image user from `build:`; false when the service cannot be judged (error reported).
bool FromBuild(const ServiceContext& ctx, const Service& s, policy::ServiceView* v) {
  const compose::Build& b = *s.build;
  v->image_field = "build";
  if (!b.dockerfile_inline.value && b.context.value && IsRemote(*b.context.value)) {
    v->image_found = "build context " + *b.context.value + " is remote";
    v->unknown_reason = "rootgate reads only local build contexts";
    v->image_found += " (" + v->unknown_reason + ")";
    return true;
  }
  std::string path, text;
  if (!ReadDockerfile(ctx, s, &path, &text)) return false;
  DockerfileOptions options;
  for (const auto& [name, arg] : b.args) options.build_args[name] = arg.value.value_or("");
  options.target = b.target.value.value_or("");
  const DockerfileUser du = ReadDockerfileUser(path, text, options, ctx.policy, ctx.facts, ctx.report);
  if (!du.found) return false;
  v->image_user_known = du.evidence.known;
  v->image_user = du.evidence.user;
  v->unknown_reason = du.evidence.unknown_reason;
  v->image_found = "the image built from " + path + " (its " + du.wording.subject + "): " + du.wording.found;
  if (!du.evidence.known) v->image_found += " (" + du.evidence.unknown_reason + ")";
  v->image_fix = du.wording.fix + " in " + path;
  return true;
}

void FromImage(const ServiceContext& ctx, const Service& s, policy::ServiceView* v) {
  std::string display;
  const UserEvidence e = LookupImageUser(*s.image.value, ctx.facts, ctx.policy, &display);
  v->image_field = "image";
  v->image_user_known = e.known;
  v->image_user = e.user;
  v->unknown_reason = e.unknown_reason;
  if (e.known) {
    v->image_found = "image " + display +
                     (e.user.raw.empty() ? " has no USER" : " has USER " + Quote(e.user.raw)) +
                     " (" + e.source + ")";
  } else {
    v->image_found = "the USER of image " + display + " is not known (" + e.unknown_reason + ")";
  }
  v->image_fix = "use an image whose USER is a non-zero UID";
}

// The file and line of a finding's field: where it was written, else the service's key.
Origin OriginOf(const Service& s, const std::string& field) {
  const std::string name = field.substr(field.rfind('.') + 1);
  if (name == "user" && s.user.value) return s.user.at;
  if (name == "privileged" && s.privileged.value) return s.privileged.at;
  if (name == "image" && s.image.value) return s.image.at;
  if (name == "build" && s.build) return s.build->at;
  return s.at;
}

void Place(const Service& s, CheckResult* r) {
  const policy::Decision& d = r->decision;
  const policy::Finding* first = !d.violations.empty() ? &d.violations[0]
                                 : !d.warnings.empty() ? &d.warnings[0]
                                 : !d.audits.empty()   ? &d.audits[0]
                                                       : nullptr;
  const Origin at = first ? OriginOf(s, first->field) : s.at;
  r->source = at.file;
  r->line = at.file == s.at.file ? s.at.line : at.line;
  for (const auto* list : {&d.violations, &d.warnings, &d.audits}) {
    for (const policy::Finding& f : *list) {
      const Origin o = OriginOf(s, f.field);
      if (o.file == r->source) r->field_lines[f.field] = o.line;
    }
  }
}

void CheckService(const ServiceContext& ctx, const Service& s) {
  policy::ServiceView v;
  v.name = s.name;
  v.project = ctx.project.name;
  v.path = "services." + s.name;
  v.user = s.user.value;
  v.image = s.image.value.value_or("");
  v.privileged = s.privileged.value.value_or(false);
  v.userns_host = s.userns_mode.value.value_or("") == "host";
  if (!v.user) {
    if (s.build) {
      if (!FromBuild(ctx, s, &v)) return;
    } else if (s.image.value) {
      FromImage(ctx, s, &v);
    } else {
      ctx.AddError(s.at, "services." + s.name + ": has neither image nor build");
      return;
    }
  }
  CheckResult r;
  r.kind = "ComposeService";
  r.name = s.name;
  r.namespace_name = ctx.project.name;
  r.profiles = s.profiles;
  r.decision = policy::EvaluateService(v, ctx.policy);
  r.skipped = !r.decision.evaluated;
  r.skip_reason = r.decision.skip_reason;
  Place(s, &r);
  ctx.report->results.push_back(std::move(r));
}

constexpr std::string_view kStems[] = {"compose", "docker-compose"};
constexpr std::string_view kExtensions[] = {".yaml", ".yml"};

// The base name of a path.
std::string_view NameOf(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Compose's default pair: for a base file (compose.yaml, docker-compose.yml, ...) the
// `<stem>.override.y(a)ml` beside it when there is one; "" otherwise.
std::string OverrideBeside(const std::string& path, const compose::FileSource& source) {
  const std::string_view name = NameOf(path);
  for (std::string_view stem : kStems) {
    for (std::string_view ext : kExtensions) {
      if (name != std::string(stem) + std::string(ext)) continue;
      for (std::string_view oext : kExtensions) {
        const std::string candidate = compose::JoinPath(
            compose::DirectoryOf(path), std::string(stem) + ".override" + std::string(oext));
        if (source.Exists(candidate)) return candidate;
      }
    }
  }
  return "";
}

// True for `<stem>.override.y(a)ml` with its base file beside it: read with the base.
bool HasBaseBeside(const std::string& path, const compose::FileSource& source) {
  const std::string_view name = NameOf(path);
  for (std::string_view stem : kStems) {
    for (std::string_view ext : kExtensions) {
      if (name != std::string(stem) + ".override" + std::string(ext)) continue;
      for (std::string_view bext : kExtensions) {
        const std::string base = compose::JoinPath(compose::DirectoryOf(path), std::string(stem) + std::string(bext));
        if (source.Exists(base)) return true;
      }
    }
  }
  return false;
}

}  // namespace

bool IsComposeFileName(std::string_view path) {
  const size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  for (std::string_view stem : kStems) {
    if (name.substr(0, stem.size()) != stem) continue;
    const std::string_view rest = name.substr(stem.size());
    for (std::string_view ext : kExtensions) {
      if (rest == ext) return true;
      // compose.<anything>.yaml: a dot, at least one character, then the extension.
      if (rest.size() > ext.size() + 1 && rest[0] == '.' && rest.ends_with(ext)) return true;
    }
  }
  return false;
}

void CheckComposeProject(const std::vector<std::string>& files, const ComposeOptions& options,
                         const compose::FileSource& source, const policy::Policy& policy,
                         const policy::ImageFacts& facts, CheckReport* report) {
  const compose::Project project =
      compose::LoadProject(files, source, {options.env_files, options.environment});
  const ServiceContext ctx{project, source, policy, facts, report};
  for (const compose::Problem& p : project.problems) ctx.AddError(p.at, p.message);
  for (const Service& s : project.services) CheckService(ctx, s);
}

void CheckComposeText(const std::string& source_name, std::string_view text,
                      const ComposeOptions& options, const policy::Policy& policy,
                      const policy::ImageFacts& facts, CheckReport* report) {
  const compose::DiskFiles disk;
  const TextOverlay source(source_name, text, disk);
  if (source_name == "-") {
    CheckComposeProject({source_name}, options, source, policy, facts, report);
    return;
  }
  // Without -f, docker compose reads compose.yaml and the compose.override.yaml beside it.
  if (HasBaseBeside(source_name, source)) return;  // checked with its base
  std::vector<std::string> files = {source_name};
  if (std::string over = OverrideBeside(source_name, source); !over.empty()) files.push_back(over);
  CheckComposeProject(files, options, source, policy, facts, report);
}

compose::Environment ProcessEnvironment() {
  compose::Environment env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const size_t eq = entry.find('=');
    if (eq != std::string::npos && eq > 0) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

}  // namespace rootgate::server
