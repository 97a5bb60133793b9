// `--help`, `-h` and `rootgate help VERB`, shared by main.cpp and the verbs: usage goes to
// stdout with exit code 0, as kubectl and helm do. Each verb keeps its own usage text beside its
// flag parsing and answers AsksForHelp itself. Pure functions; thread-safe.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace rootgate::server {

// True when the arguments ask for usage: "--help" or "-h" anywhere among them.
bool AsksForHelp(const std::vector<std::string>& args);

// Turns `rootgate help VERB [...]` into `rootgate VERB --help`, so the verb prints its own usage.
// Leaves anything else as it is. `help` alone stays `help` (the top-level usage).
void HelpToVerbFlag(std::string* verb, std::vector<std::string>* args);

// `rootgate version [--help]`: the version line to `out`, 0; an unknown argument: usage to `err`, 2.
int RunVersion(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace rootgate::server
