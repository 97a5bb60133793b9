// What an image config's `User` string means to the kubelet and the container runtime
// (containerd/CRI-O `getUserFromImage`, kubelet `getImageUser`). Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

  // True when the process would start as uid 0: empty User, uid 0, the name `root`, or a name
  // whose uid in the image's /etc/passwd is 0.
  bool IsRoot() const;
};

// Interprets an image config `User` string. The part after the first ':' is ignored, as the
// kubelet does. The part before it is a uid when it parses as a base-10 integer (Go's
// strconv.ParseInt: optional sign), otherwise a name.
ImageUser ParseImageUser(std::string_view user);

}  // namespace rootgate::policy
