// Result<T>: a value or an error message. Errors cross module boundaries as values, never as
// exceptions (see STYLE.md). Not thread-safe for concurrent mutation; safe to copy and share
// read-only.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace rootgate {

struct Error {
  std::string message;
};

template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  // Precondition: ok().
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  // Precondition: !ok().
  const std::string& error() const { return std::get<Error>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

}  // namespace rootgate
