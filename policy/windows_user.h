// Which Windows accounts are root-equivalent (SEMANTICS.md, the Windows paragraph): the account a
// Windows container runs as decides whether it holds administrator rights, as uid 0 does on
// Linux. Pure; thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace rootgate::policy {

// The account a Windows container runs as when its image config has no User: the Windows
// default (Server Core images leave User empty; Nano Server images set ContainerUser).
inline constexpr std::string_view kWindowsDefaultAccount = "ContainerAdministrator";

// The non-administrator accounts a fix should name: for a Windows container, and for a
// HostProcess container (which runs as an account of the node itself).
inline constexpr std::string_view kWindowsUserAccount = "ContainerUser";
inline constexpr std::string_view kHostProcessUserAccount = "NT AUTHORITY\\Local service";

// When `account` (a windowsOptions.runAsUserName or an image config User, as written) names an
// administrator account or the Administrators group — ContainerAdministrator, SYSTEM,
// NT AUTHORITY\SYSTEM, Administrators, BUILTIN\Administrators, compared without regard to
// case — returns its canonical spelling; otherwise nullopt. An empty string is not an account
// (see WindowsImageAccount).
std::optional<std::string_view> WindowsAdminAccount(std::string_view account);

// The account a Windows image config's User means: the User itself, or kWindowsDefaultAccount
// when it is empty.
std::string_view WindowsImageAccount(std::string_view config_user);

}  // namespace rootgate::policy
