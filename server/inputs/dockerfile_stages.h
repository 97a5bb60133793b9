// The build stages of a parsed Dockerfile and what decides their user: each stage's base (an
// earlier stage, `scratch`, or an external image), its USER instructions with ARG/ENV
// substitution done, following BuildKit's rules:
// - ARGs before the first FROM are global: they expand FROM lines only, and a stage sees one
//   only after re-declaring it (`ARG NAME` without a value takes the global value);
// - a `--build-arg` value overrides the default of a declared ARG (undeclared ones are unused);
// - ENV overrides an ARG of the same name; ENV is inherited from a parent stage, ARG is not;
// - USER is inherited from the parent stage (FROM <stage>), never through COPY --from.
// Pure; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/inputs/dockerfile_parse.h"

namespace rootgate::server::dockerfile {

using BuildArgs = std::map<std::string, std::string>;

// A USER instruction after substitution.
struct UserInstruction {
  int line = 0;
  std::string written;             // as written: "${APP_UID}"
  std::string value;               // after substitution: "1654"
  std::vector<std::string> unset;  // variables it uses that the Dockerfile leaves without value
};

struct Stage {
  size_t index = 0;
  std::string name;           // lower case, "" when the stage has no `AS name`
  int line = 0;               // its FROM line
  std::string base;           // the base after substitution: "nginx:1.25", "scratch", "build"
  std::optional<size_t> parent;  // the earlier stage it builds on, when `base` names one
  std::vector<UserInstruction> users;  // in order; the last one is the stage's own user
  std::map<std::string, std::string> env;  // ENV values at the end of the stage

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
