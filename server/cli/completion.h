// `rootgate completion bash|zsh|fish`: a shell completion script for rootgate's verbs, their
// flags, the values of --preset, -o, --type, --log-level and --log-format, and file names where
// a verb or flag takes files. All three scripts are written from one table (completion.cpp);
// tests/cli_test.sh checks that table against every verb's --help. Pure; thread-safe.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace rootgate::server {

// The script for `shell` (bash, zsh or fish), or nullopt for another shell.
std::optional<std::string> CompletionScript(std::string_view shell);

// The verb: the script to `out` and 0; --help: usage to `out`, 0; anything else: usage to `err`, 2.
int RunCompletion(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace rootgate::server
