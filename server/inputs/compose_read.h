// One Compose file read into its services (compose_project.h says which fields and how), before
// `extends` and before files are merged. Internal to server/inputs/compose_*. Pure apart from
// nothing: text in, model out; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/inputs/compose_project.h"

namespace rootgate::server::compose {

// What a written field does to the value below it when files are merged.
enum class Overlay { kMerge, kReset, kOverride };

struct FileService {
  Service service;
  std::map<std::string, Overlay> overlays;  // by field name ("user", "build", "profiles", ...)
  bool broken = false;                      // a problem was found: not checked
};

struct FileModel {
  Field<std::string> name;  // `name:`
  std::vector<FileService> services;
  std::vector<Problem> problems;
  bool readable = false;  // the text parsed as YAML and its root is a mapping
};

// Reads `text` (the file `path`); relative build contexts are resolved against `base_directory`.
FileModel ReadComposeFile(const std::string& path, std::string_view text,
                          const std::string& base_directory, const Environment& env);

}  // namespace rootgate::server::compose
