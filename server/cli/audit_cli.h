// `rootgate audit`: flag parsing, building the API client, running the engine, printing, and
// the exit code (0 nothing denied, 1 something denied, 2 bad usage, the API unreachable, or a
// kind that could not be listed). Thread-compatible.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace rootgate::server::audit {

int RunAudit(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace rootgate::server::audit
