// The build stages of a parsed Dockerfile and what decides their user: each stage's base (an
// earlier stage, `scratch`, or an external image), its USER instructions with ARG/ENV
// substitution done, following BuildKit's rules:
// - ARGs before the first FROM are global: they expand FROM lines only, and a stage sees one
//   only after re-declaring it (`ARG NAME` without a value takes the global value);
// - a `--build-arg` value overrides the default of a declared ARG (undeclared ones are unused);
// - ENV overrides an ARG of the same name; ENV is inherited from a parent stage, ARG is not;
// - USER is inherited from the parent stage (FROM <stage>), never through COPY --from;
// and the users its RUN instructions create (useradd/adduser, dockerfile_useradd.h), with a
// -u/--uid value expanded from the stage's ARG and ENV values as the shell would see them.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/inputs/dockerfile_parse.h"
#include "server/inputs/dockerfile_useradd.h"

namespace rootgate::server::dockerfile {

using BuildArgs = std::map<std::string, std::string>;

// A USER instruction after substitution.
struct UserInstruction {
  int line = 0;
  std::string written;             // as written: "${APP_UID}"
  std::string value;               // after substitution: "1654"
  std::vector<std::string> unset;  // variables it uses that the Dockerfile leaves without value
};

// A user a RUN instruction creates.
struct UserCreation {
  int line = 0;               // the RUN line
  std::string name;
  std::optional<int64_t> uid;  // from -u/--uid; nullopt: allocated above 0, or not known
  std::string uid_problem;     // when -u/--uid was given but its value is not a known integer
  std::string command;         // "useradd -o -u 0 toor"
};

// A RUN command that changes /etc/passwd in a way not followed (usermod, a write to the file).
struct PasswdChange {
  int line = 0;
  std::string command;
};

struct Stage {
  size_t index = 0;
  std::string name;           // lower case, "" when the stage has no `AS name`
  int line = 0;               // its FROM line
  std::string base;           // the base after substitution: "nginx:1.25", "scratch", "build"
  std::optional<size_t> parent;  // the earlier stage it builds on, when `base` names one
  std::vector<UserInstruction> users;  // in order; the last one is the stage's own user
  std::map<std::string, std::string> env;  // ENV values at the end of the stage
  std::vector<UserCreation> created_users;  // in order
  std::vector<PasswdChange> passwd_changes;

  bool IsScratch() const { return !parent && base == "scratch"; }
  // `stage "app"`, or `stage 2` for an unnamed one (COPY --from=2 names it so).
  std::string Describe() const {
    return name.empty() ? "stage " + std::to_string(index) : "stage \"" + name + "\"";
  }
};

struct Stages {
  std::vector<Stage> stages;
  std::vector<ParseError> errors;  // bad ARG/ENV/FROM/USER lines; those instructions are skipped
};

// Builds the stages of `file` with the given build-arg values.
Stages BuildStages(const Dockerfile& file, const BuildArgs& build_args);

// The index of the stage named `target` (compared without regard to case), or nullopt.
std::optional<size_t> FindStage(const Stages& stages, std::string_view target);

}  // namespace rootgate::server::dockerfile
