// ParseImageUser against SEMANTICS.md "The image's user": empty → root by default; cut at the
// first ':'; a decimal integer (Go strconv.ParseInt, leading sign allowed) is a uid; anything
// else is a name, `root` being root; a uid outside 0..2147483647 is invalid.
#include "policy/image_user.h"

#include <doctest/doctest.h>

#include <vector>

namespace {

using rootgate::policy::ImageUser;
using rootgate::policy::ParseImageUser;
using Kind = ImageUser::Kind;

struct Row {
  const char* name;
  const char* user;
  Kind kind;
  int64_t uid;        // checked for kUid and kRootByDefault
  const char* label;  // checked for kName
  bool root;
};

const std::vector<Row> kRows = {
    {"absent USER", "", Kind::kRootByDefault, 0, "", true},
    {"uid 0", "0", Kind::kUid, 0, "", true},
    {"uid 0 zero-padded", "0000", Kind::kUid, 0, "", true},
    {"uid 0 with group", "0:1000", Kind::kUid, 0, "", true},
    {"uid 0 with plus sign", "+0", Kind::kUid, 0, "", true},
    {"uid 0 with minus sign", "-0", Kind::kUid, 0, "", true},
    {"uid 1000", "1000", Kind::kUid, 1000, "", false},
    {"uid 1000 with plus sign", "+1000", Kind::kUid, 1000, "", false},
    {"uid 1000, group 0 ignored", "1000:0", Kind::kUid, 1000, "", false},
    {"uid 1000, empty group", "1000:", Kind::kUid, 1000, "", false},
    {"uid 1000, named group", "1000:wheel", Kind::kUid, 1000, "", false},
    {"largest valid uid", "2147483647", Kind::kUid, 2147483647, "", false},
    {"name root", "root", Kind::kName, 0, "root", true},
    {"name root with group", "root:root", Kind::kName, 0, "root", true},
    {"name root with numeric group", "root:1000", Kind::kName, 0, "root", true},
    {"name nginx", "nginx", Kind::kName, 0, "nginx", false},
    {"name with numeric group", "app:0", Kind::kName, 0, "app", false},
    {"upper-case ROOT is another name", "ROOT", Kind::kName, 0, "ROOT", false},
    {"hex is a name", "0x10", Kind::kName, 0, "0x10", false},
    {"space-padded number is a name", " 1000", Kind::kName, 0, " 1000", false},
    {"lone sign is a name", "+", Kind::kName, 0, "+", false},
    {"empty user part: root by default", ":1000", Kind::kRootByDefault, 0, "", true},
    {"only a colon: root by default", ":", Kind::kRootByDefault, 0, "", true},
    {"negative uid", "-1", Kind::kInvalid, 0, "", false},
    {"uid above 2^31-1", "2147483648", Kind::kInvalid, 0, "", false},
    {"uid at int64 max", "9223372036854775807", Kind::kInvalid, 0, "", false},
    {"uid beyond int64", "99999999999999999999", Kind::kInvalid, 0, "", false},
    {"negative beyond int64", "-99999999999999999999", Kind::kInvalid, 0, "", false},
};

TEST_CASE("ParseImageUser: kind, uid and IsRoot per SEMANTICS") {
  for (const Row& r : kRows) {
    INFO((std::string(r.name) + " (User \"" + r.user + "\")"));
    const ImageUser u = ParseImageUser(r.user);
    CHECK(u.kind == r.kind);
    CHECK(u.IsRoot() == r.root);
    CHECK(u.raw == r.user);
    if (r.kind == Kind::kUid || r.kind == Kind::kRootByDefault) CHECK(u.uid == r.uid);
    if (r.kind == Kind::kName) CHECK(u.name == r.label);
  }
}

TEST_CASE("ParseImageUser: the default-constructed value is root by default") {
  // A container whose image facts were never filled must not look non-root by accident.
  CHECK(ImageUser{}.IsRoot());
}

}  // namespace
