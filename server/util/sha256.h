// Incremental SHA-256 (OpenSSL EVP) for verifying what a registry sends against its digest.
// Not thread-safe: one hasher per stream.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace rootgate::server {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view bytes);
  // "sha256:<64 lower-case hex>". Call once, after the last Update.
  std::string Digest();

  // The digest of `bytes` in one call.
  static std::string Of(std::string_view bytes);

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace rootgate::server
