// The registry lookup flags shared by `rootgate serve` and `rootgate check --resolve-images`,
// and the ImageResolver they build (HTTPS transport, DNS, credentials, cache). Parsing is pure;
// building reads the --registry-auth and --registry-ca files.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policy/result.h"
#include "server/util/clock.h"
#include "server/registry/image_manifest.h"
#include "server/registry/image_resolver.h"

namespace rootgate::server {

struct RegistryOptions {
  std::vector<std::string> allow;     // --allow-registry HOST[:PORT] (repeatable)
  std::vector<std::string> insecure;  // --insecure-registry HOST[:PORT] (repeatable)
  std::string auth_file;              // --registry-auth FILE (Docker config.json)
  std::string ca_file;                // --registry-ca FILE (PEM, besides the system CAs)
  std::vector<Platform> platforms;    // --platform OS/ARCH[/VARIANT],... (the nodes' platforms; default any)
  bool offline = false;               // --offline
  size_t cache_entries = 10000;       // --image-cache-size N
  std::chrono::nanoseconds tag_ttl = std::chrono::minutes(5);       // --image-cache-ttl
  std::chrono::nanoseconds failure_ttl = std::chrono::seconds(30);  // --image-failure-ttl
  uint64_t layer_byte_cap = uint64_t{64} << 20;                     // --named-user-max-bytes
  size_t workers = 8;                                               // --registry-workers
};

// If args[*i] is a registry flag (`--flag value` or `--flag=value`), reads it into `o`, moves
// *i to its last argument and returns true; returns false for any other argument; an error
// naming the flag for a missing or bad value.
Result<bool> ConsumeRegistryFlag(const std::vector<std::string>& args, size_t* i,
                                 RegistryOptions* o);

// The flags' help text, one per line, indented for a usage message.
extern const char* const kRegistryFlagsHelp;

// Builds the resolver the options describe: loads the credentials and CA files (errors name the
// file). `background_budget`, `log_fetches`: see ResolverOptions.
Result<std::unique_ptr<ImageResolver>> BuildImageResolver(const RegistryOptions& options,
                                                          const Clock& clock,
                                                          std::chrono::nanoseconds background_budget,
                                                          bool log_fetches = false);

}  // namespace rootgate::server
