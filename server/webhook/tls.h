// TLS for the webhook. TlsMaterial is one loaded serving identity (certificate and chain, key,
// optional client CAs for mTLS). ConfigureServerContext prepares the server's single SSL_CTX so
// that every new connection gets the material current at its handshake, read from a Snapshot:
// replacing the Snapshot's value is how a certificate reload reaches new connections, with no
// restart and no change to the shared SSL_CTX while other threads use it.
#pragma once

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "policy/result.h"
#include "server/util/snapshot.h"

namespace rootgate::server {

// Immutable once loaded; safe to share between threads (OpenSSL only reads it, and takes its
// own references when a connection uses it).
class TlsMaterial {
 public:
  TlsMaterial() = default;
  ~TlsMaterial();
  TlsMaterial(const TlsMaterial&) = delete;
  TlsMaterial& operator=(const TlsMaterial&) = delete;

  X509* cert() const { return cert_; }
  EVP_PKEY* key() const { return key_; }
  STACK_OF(X509)* chain() const { return chain_; }           // may be null: no intermediates
  X509_STORE* client_ca() const { return client_ca_; }        // null: no mTLS
  STACK_OF(X509_NAME)* client_ca_names() const { return client_ca_names_; }

  const std::string& subject() const { return subject_; }        // "CN=rootgate.rootgate.svc"
  const std::string& serial() const { return serial_; }          // upper-case hex
  const std::string& fingerprint() const { return fingerprint_; }  // SHA-256, lower-case hex
  int64_t not_after() const { return not_after_; }              // Unix seconds
  // The TLS session id context of connections served with this material: SHA-256 of the client
  // CA PEM (of "" without mTLS), so a session is only resumed under the client CAs it was made under.
  const std::string& session_context() const { return session_context_; }

 private:
  friend Result<std::shared_ptr<const TlsMaterial>> LoadTlsMaterial(std::string_view,
                                                                    std::string_view,
                                                                    std::string_view);
  X509* cert_ = nullptr;
  EVP_PKEY* key_ = nullptr;
  STACK_OF(X509)* chain_ = nullptr;
  X509_STORE* client_ca_ = nullptr;
  STACK_OF(X509_NAME)* client_ca_names_ = nullptr;
  std::string subject_, serial_, fingerprint_, session_context_;
  int64_t not_after_ = 0;
};

// Loads PEM text: the serving certificate (first block) and any chain after it; the private key
// (PKCS#8 or traditional, unencrypted); and, when client_ca_pem is not empty, one or more CA
// certificates that client certificates must chain to. Fails with a message naming the part
// (cert, key, client CA) on bad PEM, or when the key does not match the certificate.
Result<std::shared_ptr<const TlsMaterial>> LoadTlsMaterial(std::string_view cert_pem,
                                                           std::string_view key_pem,
                                                           std::string_view client_ca_pem);

// The TLS 1.2 cipher list: ECDHE key exchange with AES-GCM or ChaCha20-Poly1305 only. TLS 1.3
// keeps OpenSSL's default suites (all AEAD).
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Sets up a server context: TLS 1.2 minimum, kTls12Ciphers, no compression or renegotiation,
// and a certificate callback installing store->Get() into each new connection. With
// require_client_cert, a client must present a certificate that chains to the current
// material's client CAs, or the handshake fails; a session is resumed (without a certificate)
// only while the client CAs are those it was made under. `store` must outlive the context.
// Returns false with *error set when OpenSSL refuses a setting.
bool ConfigureServerContext(SSL_CTX* ctx, const Snapshot<TlsMaterial>* store,
                            bool require_client_cert, std::string* error);

// The queued OpenSSL errors as one line (and the queue cleared); "unknown error" when empty.
std::string OpenSslErrors();

}  // namespace rootgate::server
