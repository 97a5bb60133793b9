// What an image config's `User` string means to the kubelet and the container runtime
// (containerd/CRI-O `getUserFromImage`, kubelet `getImageUser`), and what one image fact says
// about the uid a container starts as. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/image_facts.h"
#include "policy/policy.h"

namespace rootgate::policy {

inline constexpr int64_t kMaxUid = 2147483647;

struct ImageUser {
  enum class Kind {
    kRootByDefault,  // config.User (or its part before ':') is empty: uid 0
    kUid,            // numeric user part (possibly 0)
    kName,           // a user name; `root` is reported as kName with name "root"
    kInvalid,        // numeric but outside 0..2147483647: the kubelet refuses it
  };
  Kind kind = Kind::kRootByDefault;
  int64_t uid = 0;   // kUid: the uid; kRootByDefault: 0
  std::string name;  // kName: the user name
  std::string raw;   // the User string as found in the image config
  // kName only: the name's uid in the image's /etc/passwd, when it was read.
  std::optional<int64_t> passwd_uid;
  // kName only: known to be non-root without its exact uid (a Dockerfile's `useradd app`
  // without -u allocates a uid above 0).
  bool name_non_root = false;
  // kName only: why the name's uid is not known, when it was looked for.
  std::string passwd_note;

  // True when the process would start as uid 0: empty User, uid 0, the name `root`, or a name
  // whose uid in the image's /etc/passwd is 0.
  bool IsRoot() const;
};

// Interprets an image config `User` string. The part after the first ':' is ignored, as the
// kubelet does. The part before it is a uid when it parses as a base-10 integer (Go's
// strconv.ParseInt: optional sign), otherwise a name.
ImageUser ParseImageUser(std::string_view user);

// The image user of a fact from the registry or a test: ParseImageUser(fact.user) with the
// name's /etc/passwd uid (or the reason it is not known) copied in.
ImageUser ImageUserOf(const ImageFact& fact);

// The image user of a policy imageOverrides entry (`pattern` names it in messages): a name
// there has no /etc/passwd to resolve it, which the note says.
ImageUser ImageUserOfOverride(std::string_view pattern, std::string_view user);

// The uid one image user starts the container as, when nothing in the pod spec sets it
// (SEMANTICS.md, "The image's user" and rule 4). Called once per image (per platform).
struct UserVerdict {
  enum class Kind {
    kRoot,     // uid 0
    kNonRoot,  // a uid above 0: `uid` when known exactly
    kAssumed,  // a name taken as non-root without its uid (namedUsers: assume), warned about
    kInvalid,  // a uid the kubelet refuses (outside 0..2147483647)
    kUnknown,  // the uid cannot be known: `reason` says why (fail closed)
  };
  Kind kind = Kind::kUnknown;
  std::optional<int64_t> uid;
  std::string reason;
};
UserVerdict JudgeImageUser(const ImageUser& user, NamedUsers named_users);

}  // namespace rootgate::policy
