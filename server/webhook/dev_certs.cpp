#include "server/webhook/dev_certs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "server/util/files.h"
#include "server/webhook/tls.h"

namespace rootgate::server {

namespace {

constexpr long kCaDays = 3650;
constexpr long kCertDays = 365;
constexpr int64_t kRenewBeforeSeconds = 30 * 24 * 3600;

struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyDeleter {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyDeleter>;

// A file's content, or "" when it cannot be read.
std::string ReadOrEmpty(const std::string& path) {
  auto text = ReadInput(path);
  return text ? text.value() : "";
}

// Writes via a temporary file and rename, so a reader never sees half a file.
bool WriteFileAtomic(const std::string& path, const std::string& content, mode_t mode,
                     std::string* error) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  bool ok = fd >= 0;
  for (size_t done = 0; ok && done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fchmod(fd, mode) == 0 && ::fsync(fd) == 0;
  if (fd >= 0) ok = ::close(fd) == 0 && ok;
  ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0;
  if (!ok) *error = path + ": " + std::strerror(errno);
  return ok;
}

std::string ToPem(X509* cert) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string ToPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

bool AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  const bool ok = ext != nullptr && X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A positive random 127-bit serial number.
bool SetRandomSerial(X509* cert) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
  bytes[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(bytes, sizeof bytes, nullptr);
  const bool ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != nullptr;
  BN_free(bn);
  return ok;
}

// A v3 certificate for `key` named `cn`, signed by issuer_key (the issuer's certificate, or null
// for self-signed). Extensions: `nid=value` pairs applied in order.
X509Ptr MakeCertificate(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key,
                        long days, const std::vector<std::pair<int, const char*>>& extensions) {
  X509Ptr cert(X509_new());
  X509_NAME* name = X509_get_subject_name(cert.get());
  bool ok = X509_set_version(cert.get(), 2) == 1 && SetRandomSerial(cert.get()) &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
            X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(days), 0, nullptr) != nullptr &&
            X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>("rootgate local development"), -1, -1, 0) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>(cn), -1, -1, 0) == 1 &&
            X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name) == 1 &&
            X509_set_pubkey(cert.get(), key) == 1;
  for (const auto& [nid, value] : extensions) {
    ok = ok && AddExtension(cert.get(), issuer ? issuer : cert.get(), nid, value);
  }
  ok = ok && X509_sign(cert.get(), issuer_key, EVP_sha256()) > 0;
  return ok ? std::move(cert) : nullptr;
}

X509Ptr MakeCa(EVP_PKEY* key) {
  return MakeCertificate(key, "rootgate local CA", nullptr, key, kCaDays,
                         {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                          {NID_key_usage, "critical,keyCertSign,cRLSign"},
                          {NID_subject_key_identifier, "hash"}});
}

X509Ptr MakeServingCert(EVP_PKEY* key, X509* ca, EVP_PKEY* ca_key) {
  return MakeCertificate(key, "localhost", ca, ca_key, kCertDays,
                         {{NID_basic_constraints, "critical,CA:FALSE"},
                          {NID_key_usage, "critical,digitalSignature"},
                          {NID_ext_key_usage, "serverAuth"},
                          {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1"},
                          {NID_subject_key_identifier, "hash"},
                          {NID_authority_key_identifier, "keyid:always"}});
}

// The pair in these files when it loads, matches and lives past the renewal window; else null.
std::shared_ptr<const TlsMaterial> UsablePair(const std::string& cert_path, const std::string& key_path) {
  auto m = LoadTlsMaterial(ReadOrEmpty(cert_path), ReadOrEmpty(key_path), "");
  if (!m || m.value()->not_after() < static_cast<int64_t>(std::time(nullptr)) + kRenewBeforeSeconds) {
    return nullptr;
  }
  return m.value();
}

bool IssuedBy(X509* cert, X509* ca) {
  EVP_PKEY* ca_pub = X509_get0_pubkey(ca);
  return X509_check_issued(ca, cert) == X509_V_OK && ca_pub != nullptr && X509_verify(cert, ca_pub) == 1;
}

}  // namespace

std::string DefaultStateDir() {
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg != nullptr && xdg[0] != '\0') return std::string(xdg) + "/rootgate";
  return ".state";
}

Result<DevCertificates> EnsureDevCertificates(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error{dir + ": " + ec.message()};
  ::chmod(dir.c_str(), 0700);
  const std::string abs = std::filesystem::absolute(dir, ec).lexically_normal().string();
  DevCertificates out{abs + "/ca.crt", abs + "/tls.crt", abs + "/tls.key"};
  const std::string ca_key_path = abs + "/ca.key";
  std::string error;

  std::shared_ptr<const TlsMaterial> ca = UsablePair(out.ca_cert, ca_key_path);
  if (!ca) {
    KeyPtr key(EVP_EC_gen("P-256"));
    X509Ptr cert = key ? MakeCa(key.get()) : nullptr;
    if (!cert) return Error{"making the local CA: " + OpenSslErrors()};
    if (!WriteFileAtomic(ca_key_path, ToPem(key.get()), 0600, &error) ||
        !WriteFileAtomic(out.ca_cert, ToPem(cert.get()), 0644, &error)) {
      return Error{error};
    }
    ca = UsablePair(out.ca_cert, ca_key_path);
    if (!ca) return Error{out.ca_cert + ": the CA just written does not load"};
    out.created_ca = true;
  }
  std::shared_ptr<const TlsMaterial> serving = UsablePair(out.cert, out.key);
  if (serving && IssuedBy(serving->cert(), ca->cert())) return out;

  KeyPtr key(EVP_EC_gen("P-256"));
  X509Ptr cert = key ? MakeServingCert(key.get(), ca->cert(), ca->key()) : nullptr;
  if (!cert) return Error{"making the local serving certificate: " + OpenSslErrors()};
  if (!WriteFileAtomic(out.key, ToPem(key.get()), 0600, &error) ||
      !WriteFileAtomic(out.cert, ToPem(cert.get()), 0644, &error)) {
    return Error{error};
  }
  out.created_cert = true;
  return out;
}

}  // namespace rootgate::server
