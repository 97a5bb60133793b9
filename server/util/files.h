// File input for the CLI: reading a file or stdin whole, and expanding directories into the
// YAML/JSON files below them. Thread-compatible (stdin is shared).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "policy/result.h"

namespace rootgate::server {

// The whole content of `path`, or of stdin for "-". The error is the reason only
// ("No such file or directory"); callers name the path.
Result<std::string> ReadInput(const std::string& path);

// A file to read, or an error to report for a path that cannot be used.
struct InputPath {
  std::string path;
  std::string error;  // non-empty: unreadable (e.g. "no such file or directory")
};

// Expands each argument: a directory gives every *.yaml, *.yml and *.json file and every
// Dockerfile (IsDockerfileName) below it (recursively, sorted), anything else is kept as given
// ("-" included).
std::vector<InputPath> ExpandInputs(const std::vector<std::string>& args);

// True for the file names read as Dockerfiles: `Dockerfile`, `Containerfile`, `*.Dockerfile`,
// `*.dockerfile`, `*.Containerfile` (the directory part of `path` is ignored).
bool IsDockerfileName(std::string_view path);

}  // namespace rootgate::server
