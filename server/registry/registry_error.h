// How a registry lookup fails, as a value: a kind (for metrics labels and onTimeout) and a
// message for the admission reply. Messages never hold credentials or tokens. Plain data:
// thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace rootgate::server {

struct LookupError {
  enum class Kind {
    kNotFound,      // 404: no such repository, tag or digest; or no manifest for the platform
    kUnauthorized,  // 401/403, or credentials refused
    kTimeout,       // the deadline passed
    kRefused,       // rootgate's own limits: allow/deny lists, forbidden addresses, redirects
    kTooLarge,      // a manifest or config over its size cap
    kInvalid,       // a document that does not parse, or a digest that does not match
    kNetwork,       // cannot connect, TLS failure, 5xx, broken exchange
  };
  Kind kind = Kind::kNetwork;
  std::string message;  // e.g. "manifest unknown (404)"; the caller prefixes "registry HOST: "
};

// The metrics label of an error kind: "not_found", "unauthorized", "timeout", "refused",
// "too_large", "invalid", "network".
std::string_view LookupErrorLabel(LookupError::Kind kind);

// A value or a LookupError.
template <typename T>
class Fetched {
 public:
  Fetched(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Fetched(LookupError error) : v_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  // Precondition: ok().
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  // Precondition: !ok().
  const LookupError& error() const { return std::get<LookupError>(v_); }

 private:
  std::variant<T, LookupError> v_;
};

inline LookupError LookupFailure(LookupError::Kind kind, std::string message) {
  return LookupError{kind, std::move(message)};
}

}  // namespace rootgate::server
