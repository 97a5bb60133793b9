#include "server/inputs/compose_project.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>
#include <utility>

#include "server/util/files.h"
#include "server/inputs/compose_read.h"

namespace rootgate::server::compose {

namespace {

template <typename T>
void Apply(const Field<T>& over, compose::Overlay how, Field<T>* base) {
  if (how == Overlay::kReset) *base = {};
  if (over.value) *base = over;
}

compose::Overlay HowOf(const std::map<std::string, compose::Overlay>& overlays,
                       const std::string& field) {
  auto it = overlays.find(field);
  return it == overlays.end() ? Overlay::kMerge : it->second;
}

void MergeBuild(const std::optional<Build>& over, compose::Overlay how, std::optional<Build>* base) {
  if (how == Overlay::kReset) base->reset();
  if (!over) return;
  if (how == Overlay::kOverride || !*base) {
    *base = over;
    return;
  }
  Build& b = **base;
  for (auto [mine, theirs] : {std::pair{&b.context, &over->context},
                              std::pair{&b.dockerfile, &over->dockerfile},
                              std::pair{&b.dockerfile_inline, &over->dockerfile_inline},
                              std::pair{&b.target, &over->target}}) {
    if (theirs->value) *mine = *theirs;
  }
  for (const auto& [key, value] : over->args) b.args[key] = value;
}

// `over` written on top of `base` (13-merge.md): scalars replaced, mappings merged, sequences
// appended; `!reset` clears, `!override` replaces.
void MergeService(const Service& over, const std::map<std::string, compose::Overlay>& overlays,
                  Service* base) {
  Apply(over.user, HowOf(overlays, "user"), &base->user);
  Apply(over.image, HowOf(overlays, "image"), &base->image);
  Apply(over.userns_mode, HowOf(overlays, "userns_mode"), &base->userns_mode);
  Apply(over.privileged, HowOf(overlays, "privileged"), &base->privileged);
  MergeBuild(over.build, HowOf(overlays, "build"), &base->build);
  const compose::Overlay profiles = HowOf(overlays, "profiles");
  if (profiles != Overlay::kMerge) base->profiles.clear();
  for (const std::string& p : over.profiles) {
    if (std::find(base->profiles.begin(), base->profiles.end(), p) == base->profiles.end()) {
      base->profiles.push_back(p);
    }
  }
}

// Resolves `extends` in the files of one load, reading other files as needed.
class ExtendsResolver {
 public:
  ExtendsResolver(const FileSource& source, const Environment& env, std::vector<Problem>* problems)
      : source_(source), env_(env), problems_(problems) {}

  // Resolves every service of `model` (the file `path`), marking failures broken.
  void ResolveAll(const std::string& path, FileModel* model) {
    for (FileService& fs : model->services) Resolve(path, model, &fs);
  }

 private:
  bool Resolve(const std::string& path, FileModel* model, FileService* fs);
  FileModel* Load(const std::string& path, const Origin& from);
  void Fail(FileService* fs, const Origin& at, std::string message) {
    problems_->push_back({at, std::move(message)});
    fs->broken = true;
  }

  const FileSource& source_;
  const Environment& env_;
  std::vector<Problem>* problems_;
  std::map<std::string, FileModel> others_;  // files read only for extends
  std::set<std::string> loading_;            // (file, service) pairs being resolved
};

FileModel* ExtendsResolver::Load(const std::string& path, const Origin& from) {
  auto it = others_.find(path);
  if (it != others_.end()) return it->second.readable ? &it->second : nullptr;
  FileModel& model = others_[path];
  Result<std::string> text = source_.Read(path);
  if (!text.ok()) {
    problems_->push_back({from, "extends: cannot read " + path + ": " + text.error()});
    return nullptr;
  }
  model = ReadComposeFile(path, text.value(), DirectoryOf(path), env_);
  for (Problem& p : model.problems) problems_->push_back(std::move(p));
  model.problems.clear();
  if (model.readable) ResolveAll(path, &model);
  return model.readable ? &model : nullptr;
}

bool ExtendsResolver::Resolve(const std::string& path, FileModel* model, FileService* fs) {
  if (fs->broken) return false;
  if (!fs->service.extends) return true;
  const Extends e = *fs->service.extends;
  const std::string where = "services." + fs->service.name + ".extends";
  const std::string key = path + "\n" + fs->service.name;
  if (!loading_.insert(key).second) {
    Fail(fs, e.at, where + ": services extend each other in a cycle");
    return false;
  }
  const std::string base_path = e.file.empty() ? path : e.file;
  FileModel* base_model = e.file.empty() ? model : Load(e.file, e.at);
  FileService* base = nullptr;
  for (FileService& candidate : base_model ? base_model->services : model->services) {
    if (base_model != nullptr && candidate.service.name == e.service) base = &candidate;
  }
  bool ok = false;
  if (base == nullptr) {
    Fail(fs, e.at, where + ": no service " + e.service + " in " + base_path);
  } else if (!Resolve(base_path, base_model, base)) {
    Fail(fs, e.at, where + ": service " + e.service + " in " + base_path + " cannot be read");
  } else {
    Service merged = base->service;
    MergeService(fs->service, fs->overlays, &merged);
    merged.name = fs->service.name;
    merged.at = fs->service.at;
    merged.extends.reset();
    fs->service = std::move(merged);
    ok = true;
  }
  loading_.erase(key);
  return ok;
}

// Compose's normalisation of a directory name into a project name.
std::string ProjectNameFrom(const std::string& directory) {
  std::error_code ec;
  const std::filesystem::path abs = std::filesystem::absolute(directory, ec).lexically_normal();
  std::string base = abs.filename().string();
  if (base.empty()) base = abs.parent_path().filename().string();
  std::string out;
  for (char c : base) {
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (std::isalnum(static_cast<unsigned char>(lower)) || lower == '_' || lower == '-') out += lower;
  }
  return out;
}

Environment LoadEnvironment(const std::string& directory, const FileSource& source,
                            const LoadOptions& options, std::vector<Problem>* problems) {
  std::vector<std::string> files = options.env_files;
  if (files.empty() && source.Exists(JoinPath(directory, ".env"))) {
    files.push_back(JoinPath(directory, ".env"));
  }
  Environment env;
  for (const std::string& file : files) {
    Result<std::string> text = source.Read(file);
    if (!text.ok()) {
      problems->push_back({{file, 0}, text.error()});
      continue;
    }
    Result<Environment> parsed = ParseDotEnv(text.value(), options.environment);
    if (!parsed.ok()) {
      problems->push_back({{file, 0}, parsed.error()});
      continue;
    }
    for (auto& [k, v] : parsed.value()) env[k] = v;
  }
  for (const auto& [k, v] : options.environment) env[k] = v;
  return env;
}

}  // namespace

Result<std::string> DiskFiles::Read(const std::string& path) const { return ReadInput(path); }

bool DiskFiles::Exists(const std::string& path) const {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

std::string DirectoryOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string JoinPath(const std::string& directory, const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  std::string joined = (std::filesystem::path(directory) / path).lexically_normal().string();
  while (joined.size() > 1 && joined.back() == '/') joined.pop_back();
  return joined.empty() ? "." : joined;
}

Project LoadProject(const std::vector<std::string>& files, const FileSource& source,
                    const LoadOptions& options) {
  Project project;
  if (files.empty()) return project;
  project.directory = DirectoryOf(files[0]);
  const Environment env = LoadEnvironment(project.directory, source, options, &project.problems);
  ExtendsResolver extends(source, env, &project.problems);
  std::map<std::string, size_t> index;
  std::set<std::string> broken;
  for (const std::string& file : files) {
    Result<std::string> text = source.Read(file);
    if (!text.ok()) {
      project.problems.push_back({{file, 0}, text.error()});
      continue;
    }
    FileModel model = ReadComposeFile(file, text.value(), project.directory, env);
    std::move(model.problems.begin(), model.problems.end(), std::back_inserter(project.problems));
    model.problems.clear();
    if (model.name.value) project.name = *model.name.value;
    extends.ResolveAll(file, &model);
    for (FileService& fs : model.services) {
      if (fs.broken) broken.insert(fs.service.name);
      auto it = index.find(fs.service.name);
      if (it == index.end()) {
        index.emplace(fs.service.name, project.services.size());
        project.services.push_back(std::move(fs.service));
      } else if (!fs.broken) {
        MergeService(fs.service, fs.overlays, &project.services[it->second]);
      }
    }
  }
  std::erase_if(project.services, [&](const Service& s) { return broken.contains(s.name); });
  if (project.name.empty()) {
    auto it = env.find("COMPOSE_PROJECT_NAME");
    project.name = it != env.end() && !it->second.empty() ? it->second : ProjectNameFrom(project.directory);
  }
  return project;
}

}  // namespace rootgate::server::compose
