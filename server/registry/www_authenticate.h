// WWW-Authenticate challenges (RFC 7235 §4.1), as registries send them on a 401:
//   Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
//          scope="repository:library/nginx:pull"
// Quoted strings may hold commas and backslash escapes; one header may carry several
// challenges. Pure; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace rootgate::server {

struct AuthChallenge {
  std::string scheme;                         // lower case: "bearer", "basic"
  std::map<std::string, std::string> params;  // parameter names in lower case; values as sent
  std::string token68;                        // the token68 form (rare for registries)

  // The parameter's value, or "" when absent.
  std::string Param(const std::string& name) const;
};

// Parses one WWW-Authenticate header value into its challenges, in order. Never fails: on
// malformed input it returns the challenges parsed before the damage (possibly none).
std::vector<AuthChallenge> ParseWwwAuthenticate(std::string_view header);

// The first challenge with this scheme (lower case), or nullptr.
const AuthChallenge* FindChallenge(const std::vector<AuthChallenge>& challenges,
                                   std::string_view scheme);

}  // namespace rootgate::server
