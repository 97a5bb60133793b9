#include "policy/windows_user.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace rootgate::policy {

namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

struct Spelling {
  std::string_view written;    // one way to write the account
  std::string_view canonical;  // the name reported
};

// The container's built-in administrator, the node's LocalSystem account (what a HostProcess
// container gets with NT AUTHORITY\SYSTEM) and the local Administrators group (HostProcess
// containers may run as a group's virtual account; membership gives administrator rights).
constexpr std::array<Spelling, 5> kAdminAccounts = {{
    {"ContainerAdministrator", "ContainerAdministrator"},
    {"NT AUTHORITY\\SYSTEM", "NT AUTHORITY\\SYSTEM"},
    {"SYSTEM", "NT AUTHORITY\\SYSTEM"},
    {"BUILTIN\\Administrators", "BUILTIN\\Administrators"},
    {"Administrators", "BUILTIN\\Administrators"},
}};

}  // namespace

std::optional<std::string_view> WindowsAdminAccount(std::string_view account) {
  for (const Spelling& s : kAdminAccounts) {
    if (EqualsNoCase(account, s.written)) return s.canonical;
  }
  return std::nullopt;
}

std::string_view WindowsImageAccount(std::string_view config_user) {
  return config_user.empty() ? kWindowsDefaultAccount : config_user;
}

}  // namespace rootgate::policy
