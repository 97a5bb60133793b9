// The USER rules of SEMANTICS.md for inputs that are images rather than pods — Dockerfiles,
// image configs, `--image` — where nothing in a pod spec can override the image's user:
// - an empty User, uid 0 (`0`, `0:0`, `0000`) or the name `root` → rootUser;
// - a user that cannot be known → unknownUser;
// - another name → its uid from the image's /etc/passwd (or the Dockerfile's useradd) judged as a
//   uid; when that is not known → unknownUser (fail closed), or under `namedUsers: assume` an
//   unknownUser warning (assumed non-root);
// - a uid outside 0..2147483647 → unknownUser; outside allowedUIDRanges → uidRange (when on);
// - on Windows images, an administrator account (policy/windows_user.h), or no User at all
//   (ContainerAdministrator) → rootUser.
// Each rule follows the policy's mode and rule actions (namespace overrides do not apply: these
// inputs have no namespace). Thread-safe: pure functions of their arguments.
#pragma once

#include <string>
#include <string_view>

#include "policy/image_facts.h"
#include "policy/image_user.h"
#include "policy/policy.h"
#include "server/report/check.h"

namespace rootgate::server {

// What is known about the user an image starts as.
struct UserEvidence {
  bool known = false;
  policy::ImageUser user;      // when known
  std::string source;          // when known from outside the input: "policy imageOverrides ..."
  std::string unknown_reason;  // when !known: why, e.g. "no image facts; registry lookups are off"
  bool windows = false;        // a Windows image: root is an administrator account
};

// The words of the messages for one input.
struct UserWording {
  std::string subject;  // `final stage "app"`, `image config`
  std::string found;    // where the user came from: `USER root (line 12)`
  std::string fix;      // `set USER to a non-zero UID, e.g. USER 10001`
  std::string field;    // the thing to change: "USER", "config.User"
  int line = 0;         // the file line of that thing; 0 when not known
};

// Decides `r` from the evidence: fills r->decision (findings by the policy's actions, allowed,
// evaluated) and r->field_lines. When the policy turns both rootUser and unknownUser off, `r` is
// marked skipped instead.
void DecideImageUser(const UserEvidence& evidence, const UserWording& wording,
                     const policy::Policy& policy, CheckResult* r);

// The user of an external image as the evaluator would find it: the policy's imageOverrides
// (globs on the reference as written and normalised), then `facts`. `display` receives the
// normalised reference (or the text as written when it does not parse).
UserEvidence LookupImageUser(std::string_view image, const policy::ImageFacts& facts,
                             const policy::Policy& policy, std::string* display);

// User `name` in the /etc/passwd of an external image (a Dockerfile USER its base image must
// define), from `facts.FindUserName`: known with user.kind kName and passwd_uid (or passwd_note
// saying why the uid is not known), or unknown with the reason (not looked up, the lookup
// failed, or an imageOverrides entry names the image: it gives no /etc/passwd). `display` as in
// LookupImageUser.
UserEvidence LookupImageUserName(std::string_view image, std::string_view name,
                                 const policy::ImageFacts& facts, const policy::Policy& policy,
                                 std::string* display);

}  // namespace rootgate::server
