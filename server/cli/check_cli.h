// The `check` verb's command line: flags, inputs (files, directories, stdin, --image), registry
// lookups, the output format and the exit code. Called once per process by main; thread-
// compatible (it starts and joins its own worker threads).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace rootgate::server {

// The `check` verb: parses its arguments, reads inputs, prints, returns the exit code.
int RunCheck(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace rootgate::server
