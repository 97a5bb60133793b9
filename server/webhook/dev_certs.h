// Certificates for a local run without --tls-cert/--tls-key: a self-signed CA and a serving
// certificate for localhost, 127.0.0.1 and ::1 signed by it (EC P-256, X.509 v3), kept in a
// state directory and reused on the next run (a new serving certificate when the old one is
// near expiry or does not match the CA). Not for clusters. Not thread-safe (files; call once).
#pragma once

#include <string>

#include "policy/result.h"

namespace rootgate::server {

struct DevCertificates {
  std::string ca_cert;  // give this to clients: curl --cacert
  std::string cert, key;
  bool created_ca = false;    // false: reused from an earlier run
  bool created_cert = false;
};

// $XDG_STATE_HOME/rootgate when XDG_STATE_HOME is set, else ./.state.
std::string DefaultStateDir();

// Makes `dir` (mode 0700) and ca.crt, ca.key, tls.crt, tls.key in it (keys mode 0600) unless
// usable ones are there. Fails with a message naming the file on any I/O or OpenSSL error.
Result<DevCertificates> EnsureDevCertificates(const std::string& dir);

}  // namespace rootgate::server
