// Reading Compose files into the few service fields rootgate judges: `user`, `image`, `build`
// (context, dockerfile, dockerfile_inline, target, args), `privileged`, `userns_mode`,
// `profiles`, with the file and line each came from. Follows the Compose specification:
// - YAML merge keys (go-yaml v3: a mapping's own keys win; policy/yaml_merge.h);
// - interpolation of the fields read (compose_interpolate.h) from the process environment over
//   the `.env` file beside the first file (or the --env-file files instead);
// - several files merged as `docker compose -f a -f b` does (13-merge.md): mappings merged,
//   scalars overridden by the later file, sequences (profiles) appended, `!reset` clears a
//   field and `!override` replaces it; relative paths are relative to the first file's directory;
// - `extends` (05-services.md) from the same file or another file, resolved in each file before
//   files are merged; paths of a service from another file stay relative to that file;
// - `x-` fields are ignored at every level; any other field the specification does not define
//   is an error naming the file and line, and so is a field rootgate reads with a bad type. The
//   service holding it is left out; the other services are still read.
// File access goes through FileSource so tests run in memory. Thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/result.h"
#include "server/inputs/compose_interpolate.h"

namespace rootgate::server::compose {

struct Origin {
  std::string file;
  int line = 0;  // 1-based
};

template <typename T>
struct Field {
  std::optional<T> value;  // unset: not written, or cleared with !reset
  Origin at;
};

struct Build {
  Origin at;
  std::string directory;       // the base directory of the file that wrote it: the default context
  Field<std::string> context;  // a directory (resolved against the base directory) or a URL
  Field<std::string> dockerfile;         // as written: relative to the context
  Field<std::string> dockerfile_inline;  // the Dockerfile's text
  Field<std::string> target;
  std::map<std::string, Field<std::string>> args;  // an arg without a value is left out
};

struct Extends {
  std::string service;
  std::string file;  // "" for the same file
  Origin at;
};

struct Service {
  std::string name;
  Origin at;  // the service's key in the first file that defines it
  Field<std::string> user, image, userns_mode;
  Field<bool> privileged;
  std::optional<Build> build;
  std::vector<std::string> profiles;
  std::optional<Extends> extends;  // resolved (and cleared) by the loader
};

struct Problem {
  Origin at;  // line 0: the file as a whole
  std::string message;
};

struct Project {
  std::string name;  // `name:`, else COMPOSE_PROJECT_NAME, else the first file's directory name
  std::string directory;          // the first file's directory: relative paths start there
  std::vector<Service> services;  // in the order they first appear
  std::vector<Problem> problems;
};

// Where Compose files, .env files and Dockerfiles come from.
class FileSource {
 public:
  virtual ~FileSource() = default;
  // The file's text, or why it cannot be read.
  virtual Result<std::string> Read(const std::string& path) const = 0;
  virtual bool Exists(const std::string& path) const = 0;
};

// The local file system.
class DiskFiles final : public FileSource {
 public:
  Result<std::string> Read(const std::string& path) const override;
  bool Exists(const std::string& path) const override;
};

struct LoadOptions {
  std::vector<std::string> env_files;  // --env-file; empty: `.env` beside the first file
  Environment environment;             // the process environment (wins over env files)
};

// Reads and merges `files` (in -f order) into one project. Never throws; every problem is in
// Project::problems, and the services that could be read are still there.
Project LoadProject(const std::vector<std::string>& files, const FileSource& source,
                    const LoadOptions& options);

// The directory part of a path ("." when there is none) and a path joined to a directory
// (unchanged when absolute).
std::string DirectoryOf(const std::string& path);
std::string JoinPath(const std::string& directory, const std::string& path);

}  // namespace rootgate::server::compose
