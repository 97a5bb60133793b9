// Loading TLS material and making local certificates: the local CA and serving certificate are
// what a client needs (CA:TRUE, the SANs, EC P-256, serverAuth), are reused on the next run and
// remade when missing; a key that does not match its certificate is refused.
#include "server/webhook/tls.h"

#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <ctime>
#include <string>
#include <vector>

#include "server/webhook/dev_certs.h"

namespace {

using namespace rootgate::server;
namespace fs = std::filesystem;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/rootgate-tls-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  std::string path;
};

// The SAN entries of a certificate as "DNS:x" / "IP:a.b.c.d" strings.
std::vector<std::string> Sans(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName))));
    } else if (n->type == GEN_IPADD) {
      out.push_back("IP:" + std::to_string(ASN1_STRING_length(n->d.iPAddress)) + "bytes");
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

}  // namespace

TEST_CASE("dev certificates: a CA and a localhost serving certificate signed by it") {
  TempDir dir;
  const std::string state = dir.path + "/state";
  auto made = EnsureDevCertificates(state);
  REQUIRE_MESSAGE(made.ok(), made.error());
  CHECK(made.value().created_ca);
  CHECK(made.value().created_cert);
  CHECK((fs::status(state).permissions() & fs::perms::all) == fs::perms::owner_all);
  CHECK((fs::status(made.value().key).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));

  auto ca = LoadTlsMaterial(Slurp(made.value().ca_cert), Slurp(state + "/ca.key"), "");
  auto serving = LoadTlsMaterial(Slurp(made.value().cert), Slurp(made.value().key), Slurp(made.value().ca_cert));
  REQUIRE(ca.ok());
  REQUIRE(serving.ok());
  CHECK(X509_check_ca(ca.value()->cert()) >= 1);
  CHECK(X509_check_ca(serving.value()->cert()) == 0);
  CHECK(EVP_PKEY_get_base_id(serving.value()->key()) == EVP_PKEY_EC);
  CHECK(EVP_PKEY_get_bits(serving.value()->key()) == 256);
  CHECK(X509_check_host(serving.value()->cert(), "localhost", 0, 0, nullptr) == 1);
  CHECK(X509_check_ip_asc(serving.value()->cert(), "127.0.0.1", 0) == 1);
  CHECK(X509_check_ip_asc(serving.value()->cert(), "::1", 0) == 1);
  CHECK(Sans(serving.value()->cert()).size() == 3);
  CHECK(X509_check_purpose(serving.value()->cert(), X509_PURPOSE_SSL_SERVER, 0) == 1);
  // Verifies against the CA as a client would.
  X509_STORE_CTX* vctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(vctx, serving.value()->client_ca(), serving.value()->cert(), nullptr);
  X509_STORE_CTX_set_purpose(vctx, X509_PURPOSE_SSL_SERVER);
  CHECK(X509_verify_cert(vctx) == 1);
  X509_STORE_CTX_free(vctx);

  SUBCASE("reused on the next run") {
    auto again = EnsureDevCertificates(state);
    REQUIRE(again.ok());
    CHECK_FALSE(again.value().created_ca);
    CHECK_FALSE(again.value().created_cert);
    auto reloaded = LoadTlsMaterial(Slurp(again.value().cert), Slurp(again.value().key), "");
    CHECK(reloaded.value()->fingerprint() == serving.value()->fingerprint());
  }
  SUBCASE("a missing serving key gives a new certificate from the same CA") {
    fs::remove(made.value().key);
    auto again = EnsureDevCertificates(state);
    REQUIRE(again.ok());
    CHECK_FALSE(again.value().created_ca);
    CHECK(again.value().created_cert);
    auto reloaded = LoadTlsMaterial(Slurp(again.value().cert), Slurp(again.value().key), "");
    REQUIRE(reloaded.ok());
    CHECK(reloaded.value()->fingerprint() != serving.value()->fingerprint());
  }
}

TEST_CASE("LoadTlsMaterial refuses what cannot serve") {
  TempDir dir;
  auto a = EnsureDevCertificates(dir.path + "/a");
  auto b = EnsureDevCertificates(dir.path + "/b");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const std::string cert = Slurp(a.value().cert), key = Slurp(a.value().key);
  CHECK(LoadTlsMaterial(cert, key, "").ok());

  auto mismatched = LoadTlsMaterial(cert, Slurp(b.value().key), "");
  REQUIRE_FALSE(mismatched.ok());
  CHECK(mismatched.error().find("does not match") != std::string::npos);
  auto no_cert = LoadTlsMaterial("not a certificate", key, "");
  REQUIRE_FALSE(no_cert.ok());
  CHECK(no_cert.error().find("certificate") == 0);
  auto no_key = LoadTlsMaterial(cert, "", "");
  REQUIRE_FALSE(no_key.ok());
  CHECK(no_key.error().find("key") == 0);
  auto bad_ca = LoadTlsMaterial(cert, key, "garbage");
  REQUIRE_FALSE(bad_ca.ok());
  CHECK(bad_ca.error().find("client CA") == 0);
}

TEST_CASE("LoadTlsMaterial keeps the chain after the leaf and describes the certificate") {
  TempDir dir;
  auto made = EnsureDevCertificates(dir.path);
  REQUIRE(made.ok());
  const std::string chain = Slurp(made.value().cert) + Slurp(made.value().ca_cert);
  auto m = LoadTlsMaterial(chain, Slurp(made.value().key), "");
  REQUIRE(m.ok());
  CHECK(sk_X509_num(m.value()->chain()) == 1);
  CHECK(m.value()->subject().find("CN=localhost") != std::string::npos);
  CHECK(m.value()->fingerprint().size() == 64);
  CHECK_FALSE(m.value()->serial().empty());
  const int64_t now = std::time(nullptr);
  CHECK(m.value()->not_after() > now + 300 * 24 * 3600);
  CHECK(m.value()->not_after() < now + 400 * 24 * 3600);
}

TEST_CASE("session context: the same only under the same client CAs") {
  // Sessions resume only under an equal session id context: a new client CA must change it.
  TempDir dir;
  auto a = EnsureDevCertificates(dir.path + "/a");
  auto b = EnsureDevCertificates(dir.path + "/b");
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  const std::string cert = Slurp(a.value().cert), key = Slurp(a.value().key);
  const std::string ca_a = Slurp(a.value().ca_cert), ca_b = Slurp(b.value().ca_cert);
  auto under_a = LoadTlsMaterial(cert, key, ca_a);
  auto again_a = LoadTlsMaterial(cert, key, ca_a);
  auto under_b = LoadTlsMaterial(cert, key, ca_b);
  auto no_mtls = LoadTlsMaterial(cert, key, "");
  REQUIRE(under_a.ok());
  REQUIRE(again_a.ok());
  REQUIRE(under_b.ok());
  REQUIRE(no_mtls.ok());
  CHECK(under_a.value()->session_context().size() == 32);  // SSL_MAX_SID_CTX_LENGTH
  CHECK(under_a.value()->session_context() == again_a.value()->session_context());
  CHECK(under_a.value()->session_context() != under_b.value()->session_context());
  CHECK(under_a.value()->session_context() != no_mtls.value()->session_context());
}
