#include "policy/platform_fact.h"

#include "policy/windows_user.h"

#include <algorithm>
#include <cctype>

#include "policy/image_user.h"

namespace rootgate::policy {

namespace {

std::string Name(const Platform& p) { return p.os.empty() ? "an entry without a platform" : p.String(); }

std::string List(const ImageFact& index, const std::vector<size_t>& which) {
  std::string s;
  for (size_t i : which) s += (s.empty() ? "" : ", ") + Name(index.platforms[i].platform);
  return s;
}

std::string AllEntries(const ImageFact& index) {
  std::vector<size_t> all(index.platforms.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  return all.empty() ? "none" : List(index, all);
}

// What the chosen entry means, for the message: "linux/arm64 runs as root".
std::string Verdict(FactPrivilege p) {
  switch (p) {
    case FactPrivilege::kRoot:
      return "runs as root";
    case FactPrivilege::kUnknown:
      return "has an unknown user";
    case FactPrivilege::kInvalid:
      return "has an invalid user";
    case FactPrivilege::kName:
      return "has a named user";
    case FactPrivilege::kNonRoot:
      return "runs as non-root";
  }
  return "";
}

// Windows entries: an administrator account (ContainerAdministrator, SYSTEM, the Administrators
// group; no User means ContainerAdministrator) is the root of a Windows container
// (windows_user.h, rules/check_root_user).
FactPrivilege PrivilegeFor(const ImageFact& fact, bool windows) {
  if (!windows) return PrivilegeOf(fact);
  if (!fact.known) return FactPrivilege::kUnknown;
  return WindowsAdminAccount(WindowsImageAccount(fact.user)) ? FactPrivilege::kRoot
                                                             : FactPrivilege::kNonRoot;
}

}  // namespace

FactPrivilege PrivilegeOf(const ImageFact& fact) {
  if (!fact.known) return FactPrivilege::kUnknown;
  ImageUser user = ParseImageUser(fact.user);
  if (user.kind == ImageUser::Kind::kName) user.passwd_uid = fact.name_uid;
  if (user.IsRoot()) return FactPrivilege::kRoot;
  if (user.kind == ImageUser::Kind::kInvalid) return FactPrivilege::kInvalid;
  if (user.kind == ImageUser::Kind::kName && !user.passwd_uid) return FactPrivilege::kName;
  return FactPrivilege::kNonRoot;
}

std::vector<size_t> PlatformsForPod(const ImageFact& index, const Placement* placement, bool windows) {
  std::vector<size_t> out;
  for (size_t i = 0; i < index.platforms.size(); ++i) {
    const Platform& p = index.platforms[i].platform;
    if (p.os.empty()) {  // containerd matches an entry without a platform on any node
      out.push_back(i);
      continue;
    }
    if ((p.os == "windows") != windows) continue;
    if (placement != nullptr && !placement->Allows(p)) continue;
    out.push_back(i);
  }
  return out;
}

ImageFact FactForPod(const ImageFact& fact, const Placement* placement, bool windows) {
  if (fact.platforms.empty()) return fact;
  const std::vector<size_t> which = PlatformsForPod(fact, placement, windows);
  if (which.empty()) {
    const bool constrained = placement != nullptr && !placement->Unconstrained();
    return ImageFact{false, "", "",
                     fact.source + ": the index has no entry for a platform the pod can land on (" +
                         std::string(windows ? "Windows" : "Linux") +
                         (constrained ? " nodes its nodeSelector and node affinity allow" : " nodes") +
                         "; the index has " + AllEntries(fact) + "), so it could not start there"};
  }
  size_t chosen = which.front();
  for (size_t i : which) {
    if (PrivilegeFor(fact.platforms[i].fact, windows) > PrivilegeFor(fact.platforms[chosen].fact, windows)) {
      chosen = i;
    }
  }
  const PlatformFact& entry = fact.platforms[chosen];
  ImageFact out = entry.fact;
  const std::string judged = which.size() > 1 ? " (of " + List(fact, which) + ", the most privileged applies)" : "";
  const std::string note = Name(entry.platform) + " " + Verdict(PrivilegeFor(entry.fact, windows)) + judged;
  if (out.known) {
    out.source += (out.source.empty() ? "" : "; ") + note;
  } else {
    out.reason = Name(entry.platform) + ": " + out.reason + judged;
  }
  return out;
}

}  // namespace rootgate::policy
