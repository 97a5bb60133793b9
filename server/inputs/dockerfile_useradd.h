// Users a Dockerfile RUN instruction creates with `useradd` (shadow-utils, Debian) or `adduser`
// (Debian's, and BusyBox's as in Alpine), and the uid each gets: from -u/--uid when given, else
// allocated above 0 by the tool. Read from the shell text as written: commands split at `&&`,
// `||`, `;`, `|` and newlines, words split at blanks outside quotes, quotes removed; a command
// may be behind a path (`/usr/sbin/useradd`) or `sudo`/`exec`/`command`. Exec form
// (`RUN ["useradd", ...]`) is read too. Anything else a RUN does to /etc/passwd (usermod, sed,
// echo >>) is reported as a change the reader cannot follow. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rootgate::server::dockerfile {

struct CreatedUser {
  std::string name;
  std::string uid_word;  // the -u/--uid value as written ("" when not given: allocated above 0)
  std::string command;   // the command as written, for messages: "useradd -o -u 0 toor"
};

struct RunUsers {
  std::vector<CreatedUser> created;
  // Commands that change /etc/passwd some other way (usermod, a write to the file): the uid of
  // the names they touch cannot be read from the Dockerfile.
  std::vector<std::string> passwd_changes;
};

// What one RUN instruction's arguments (after the keyword and its flags) create.
RunUsers UsersCreatedBy(std::string_view run_args);

}  // namespace rootgate::server::dockerfile
