#include "server/webhook/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <ctime>

namespace rootgate::server {

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

TlsMaterial::~TlsMaterial() {
  X509_free(cert_);
  EVP_PKEY_free(key_);
  sk_X509_pop_free(chain_, X509_free);
  X509_STORE_free(client_ca_);
  sk_X509_NAME_pop_free(client_ca_names_, X509_NAME_free);
}

namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr MemoryBio(std::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// Every certificate in a PEM text, in order; an empty stack when there is none. Clears the
// "no more PEM blocks" error that ends the read.
STACK_OF(X509)* ReadCertificates(std::string_view pem) {
  STACK_OF(X509)* certs = sk_X509_new_null();
  BioPtr bio = MemoryBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    sk_X509_push(certs, cert);
  }
  ERR_clear_error();
  return certs;
}

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

std::string Subject(X509* cert) {
  char* line = X509_NAME_oneline(X509_get_subject_name(cert), nullptr, 0);
  std::string out = line ? line : "";
  OPENSSL_free(line);
  return out;
}

std::string Serial(X509* cert) {
  BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  char* hex = bn ? BN_bn2hex(bn) : nullptr;
  std::string out = hex ? hex : "";
  OPENSSL_free(hex);
  BN_free(bn);
  return out;
}

int64_t NotAfter(X509* cert) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) return "";
  return Hex(md, n);
}

std::string Sha256Bytes(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), md, &n, EVP_sha256(), nullptr) != 1) return "";
  return std::string(reinterpret_cast<const char*>(md), n);
}

// The client CA store and the names sent in the CertificateRequest.
bool LoadClientCa(std::string_view pem, X509_STORE** store, STACK_OF(X509_NAME)** names,
                  std::string* error) {
  STACK_OF(X509)* cas = ReadCertificates(pem);
  if (sk_X509_num(cas) == 0) {
    sk_X509_pop_free(cas, X509_free);
    *error = "client CA: no PEM certificate found";
    return false;
  }
  *store = X509_STORE_new();
  *names = sk_X509_NAME_new_null();
  for (int i = 0; i < sk_X509_num(cas); ++i) {
    X509* ca = sk_X509_value(cas, i);
    X509_STORE_add_cert(*store, ca);
    sk_X509_NAME_push(*names, X509_NAME_dup(X509_get_subject_name(ca)));
  }
  sk_X509_pop_free(cas, X509_free);
  return true;
}

}  // namespace

Result<std::shared_ptr<const TlsMaterial>> LoadTlsMaterial(std::string_view cert_pem,
                                                           std::string_view key_pem,
                                                           std::string_view client_ca_pem) {
  ERR_clear_error();
  auto m = std::make_shared<TlsMaterial>();
  STACK_OF(X509)* certs = ReadCertificates(cert_pem);
  if (sk_X509_num(certs) == 0) {
    sk_X509_pop_free(certs, X509_free);
    return Error{"certificate: no PEM certificate found"};
  }
  m->cert_ = sk_X509_shift(certs);
  m->chain_ = certs;  // what follows the leaf, possibly nothing
  BioPtr key_bio = MemoryBio(key_pem);
  m->key_ = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
  if (m->key_ == nullptr) return Error{"key: no usable PEM private key: " + OpenSslErrors()};
  if (X509_check_private_key(m->cert_, m->key_) != 1) {
    ERR_clear_error();
    return Error{"key: does not match the certificate"};
  }
  if (!client_ca_pem.empty()) {
    std::string error;
    if (!LoadClientCa(client_ca_pem, &m->client_ca_, &m->client_ca_names_, &error)) return Error{error};
  }
  m->subject_ = Subject(m->cert_);
  m->serial_ = Serial(m->cert_);
  m->fingerprint_ = Fingerprint(m->cert_);
  m->not_after_ = NotAfter(m->cert_);
  m->session_context_ = Sha256Bytes(client_ca_pem);
  if (m->session_context_.empty()) return Error{"session context: " + OpenSslErrors()};
  return std::shared_ptr<const TlsMaterial>(std::move(m));
}

namespace {

// SSL_CTX_set_cert_cb: runs in each handshake before the cipher is chosen. Installs the current
// material into this connection only. Returning 0 fails the handshake.
int InstallCurrentMaterial(SSL* ssl, void* arg) {
  const auto* store = static_cast<const Snapshot<TlsMaterial>*>(arg);
  const std::shared_ptr<const TlsMaterial> m = store->Get();
  if (!m) return 0;
  if (SSL_use_certificate(ssl, m->cert()) != 1 || SSL_use_PrivateKey(ssl, m->key()) != 1) return 0;
  if (sk_X509_num(m->chain()) > 0 && SSL_set1_chain(ssl, m->chain()) != 1) return 0;
  if (m->client_ca() != nullptr) {
    if (SSL_set1_verify_cert_store(ssl, m->client_ca()) != 1) return 0;
    SSL_set_client_CA_list(ssl, SSL_dup_CA_list(m->client_ca_names()));
  }
  return 1;
}

// SSL_CTX_set_client_hello_cb: runs first in each handshake, before OpenSSL looks for a session
// to resume, which it does only for a session made under the connection's session id context.
// Setting that to the current material's session_context() keeps a session whose client
// certificate was checked against client CAs since replaced from being resumed (for up to the
// ticket lifetime) without the client showing a certificate the current CAs accept.
int BindSessionsToClientCa(SSL* ssl, int* alert, void* arg) {
  const auto* store = static_cast<const Snapshot<TlsMaterial>*>(arg);
  const std::shared_ptr<const TlsMaterial> m = store->Get();
  const std::string context = m ? m->session_context() : std::string();
  if (context.empty() ||
      SSL_set_session_id_context(ssl, reinterpret_cast<const unsigned char*>(context.data()),
                                 static_cast<unsigned int>(context.size())) != 1) {
    *alert = SSL_AD_INTERNAL_ERROR;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

}  // namespace

bool ConfigureServerContext(SSL_CTX* ctx, const Snapshot<TlsMaterial>* store,
                            bool require_client_cert, std::string* error) {
  ERR_clear_error();
  static constexpr unsigned char kSessionContext[] = "rootgate";
  const bool ok =
      SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) == 1 &&
      // Sessions resumed across a client-certificate check need a session id context.
      SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1) == 1;
  if (!ok) {
    *error = "TLS setup: " + OpenSslErrors();
    return false;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_client_hello_cb(ctx, BindSessionsToClientCa, const_cast<Snapshot<TlsMaterial>*>(store));
  SSL_CTX_set_cert_cb(ctx, InstallCurrentMaterial, const_cast<Snapshot<TlsMaterial>*>(store));
  if (require_client_cert) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  } else {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  }
  return true;
}

}  // namespace rootgate::server
