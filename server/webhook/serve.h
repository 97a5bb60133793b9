// `rootgate serve`: the HTTPS admission webhook. Wires the flags, logs, policy and certificate
// (with hot reload), the HTTPS server, and graceful shutdown together. RunServe is called once
// per process, from the main thread; it starts, owns and joins every thread it uses.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace rootgate::server {

// Runs the webhook until SIGTERM or SIGINT. Exit code 0 after a graceful shutdown; 1 when the
// server could not listen or the grace period ran out; 2 on bad flags or a policy, certificate
// or key that cannot be loaded at start (message on stderr). Prints the local-run help (CA
// location, a curl command) on `out` when it made its own certificates.
int RunServe(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace rootgate::server
