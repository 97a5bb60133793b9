#include "policy/image_user.h"

#include <charconv>

namespace rootgate::policy {

bool ImageUser::IsRoot() const {
  switch (kind) {
    case Kind::kRootByDefault:
      return true;
    case Kind::kUid:
      return uid == 0;
    case Kind::kName:
      return name == "root" || passwd_uid == 0;
    case Kind::kInvalid:
      return false;
  }
  return false;
}

namespace {

// Go's strconv.ParseInt(s, 10, 64): an optional '+' or '-', then one or more decimal digits.
// Returns false for anything else, including values that overflow int64 (Go reports ErrRange;
// the runtime then treats the string as a name, which /etc/passwd will not hold).
bool ParseGoInt64(std::string_view s, int64_t* out, bool* overflow) {
  *overflow = false;
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude);
  if (ec != std::errc() || ptr != s.data() + s.size() ||
      magnitude > static_cast<uint64_t>(INT64_MAX)) {
    *overflow = true;
    return true;
  }
  *out = negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude);
  return true;
}

}  // namespace

ImageUser ParseImageUser(std::string_view user) {
  ImageUser result;
  result.raw = std::string(user);
  if (user.empty()) return result;  // kRootByDefault
  std::string_view user_part = user.substr(0, user.find(':'));
  // ":1000": the CRI sees neither a uid nor a name, which the kubelet treats as uid 0.
  if (user_part.empty()) return result;
  int64_t uid = 0;
  bool overflow = false;
  if (ParseGoInt64(user_part, &uid, &overflow)) {
    if (overflow || uid < 0 || uid > kMaxUid) {
      result.kind = ImageUser::Kind::kInvalid;
      return result;
    }
    result.kind = ImageUser::Kind::kUid;
    result.uid = uid;
    return result;
  }
  result.kind = ImageUser::Kind::kName;
  result.name = std::string(user_part);
  return result;
}

ImageUser ImageUserOf(const ImageFact& fact) {
  ImageUser u = ParseImageUser(fact.user);
  if (u.kind == ImageUser::Kind::kName) {
    u.passwd_uid = fact.name_uid;
    u.passwd_note = fact.name_note;
  }
  return u;
}

ImageUser ImageUserOfOverride(std::string_view pattern, std::string_view user) {
  ImageUser u = ParseImageUser(user);
  if (u.kind == ImageUser::Kind::kName) {
    u.passwd_note = "policy imageOverrides \"" + std::string(pattern) +
                    "\" gives a user name, and no /etc/passwd to resolve it; write its numeric UID there";
  }
  return u;
}

namespace {

UserVerdict JudgeName(const ImageUser& u, NamedUsers named_users) {
  if (u.name == "root") return {UserVerdict::Kind::kRoot, 0, ""};
  if (u.passwd_uid) {
    const int64_t uid = *u.passwd_uid;
    if (uid < 0 || uid > kMaxUid) {
      return {UserVerdict::Kind::kInvalid, uid,
              "its uid in the image's /etc/passwd is " + std::to_string(uid) +
                  ", not a valid UID (0..2147483647)"};
    }
    return {uid == 0 ? UserVerdict::Kind::kRoot : UserVerdict::Kind::kNonRoot, uid, ""};
  }
  if (u.name_non_root) return {UserVerdict::Kind::kNonRoot, std::nullopt, ""};
  if (named_users == NamedUsers::kAssume) return {UserVerdict::Kind::kAssumed, std::nullopt, ""};
  return {UserVerdict::Kind::kUnknown, std::nullopt,
          u.passwd_note.empty() ? "a user name, whose uid is not known without the image's /etc/passwd"
                                : u.passwd_note};
}

}  // namespace

UserVerdict JudgeImageUser(const ImageUser& u, NamedUsers named_users) {
  switch (u.kind) {
    case ImageUser::Kind::kRootByDefault:
      return {UserVerdict::Kind::kRoot, 0, ""};
    case ImageUser::Kind::kUid:
      return {u.uid == 0 ? UserVerdict::Kind::kRoot : UserVerdict::Kind::kNonRoot, u.uid, ""};
    case ImageUser::Kind::kInvalid:
      return {UserVerdict::Kind::kInvalid, std::nullopt, "not a valid UID (0..2147483647)"};
    case ImageUser::Kind::kName:
      return JudgeName(u, named_users);
  }
  return {};
}

}  // namespace rootgate::policy
