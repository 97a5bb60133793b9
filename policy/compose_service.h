// A Compose service as the policy judges it (SEMANTICS.md "Compose services"): Docker starts
// the service as its `user:` (as `docker run --user`), else as the image's User; there is no
// runAsNonRoot, so a user that cannot be known is `unknownUser`. Pure: the server reads the
// files, the Dockerfile and the registry, and hands the facts in. Thread-safe.
//
// Rules, each following the policy's mode and actions for the project (as a namespace):
// - rootUser: the effective user is root (`0`, `0:…`, `root`, `root:…`, an empty image User, or
//   a name whose uid the image's /etc/passwd gives as 0);
// - unknownUser: it cannot be known (no facts; a name without its uid, unless the policy says
//   `namedUsers: assume`, which only warns; an invalid uid);
// - privileged: `privileged: true`;
// - runAsUser (pss-restricted): `user:` written as root;
// - runAsNonRoot (pss-restricted): nothing in Compose says "non-root only", so the service passes
//   only when its user is known to be a non-zero uid;
// - rootGroup (optional): `user:` with group `0` or `root`;
// - uidRange (optional): a known uid outside allowedUIDRanges.
// `userns_mode: host` is stated in root messages: it turns off the daemon's user-namespace
// remapping (userns-remap) for the service, which rootgate cannot see otherwise.
// Exemptions: the project name against `namespaces`, the image against `images`.
#pragma once

#include <optional>
#include <string>

#include "policy/decision.h"
#include "policy/image_user.h"
#include "policy/policy.h"

namespace rootgate::policy {

struct ServiceView {
  std::string name;                  // the service name
  std::string project;               // the project name; "" when not known
  std::string path;                  // "services.web": prefix of field paths in findings
  std::optional<std::string> user;   // `user:` as written (after interpolation); unset: absent
  std::string image;                 // `image:` as written; "" when absent
  // The image's user, read when `user` is unset:
  bool image_user_known = false;
  ImageUser image_user;
  std::string image_found;     // where it came from: `image nginx:1.25 has no USER (registry …)`
  std::string unknown_reason;  // when !image_user_known
  std::string image_field;     // the field that brings the image: "build" or "image"
  std::string image_fix;       // the fix at the image: "add USER 10001 to app/Dockerfile"
  bool privileged = false;
  bool userns_host = false;    // userns_mode: host
};

// Decides a service. Never fails.
Decision EvaluateService(const ServiceView& service, const Policy& policy);

}  // namespace rootgate::policy
