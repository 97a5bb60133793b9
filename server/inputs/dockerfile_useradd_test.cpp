// UsersCreatedBy: the useradd / adduser forms of Debian (shadow-utils useradd, Debian adduser)
// and BusyBox (Alpine's adduser), as their manuals give the options; shell splitting; exec form.
#include "server/inputs/dockerfile_useradd.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using rootgate::server::dockerfile::RunUsers;
using rootgate::server::dockerfile::UsersCreatedBy;

// "name:uid" per created user, space-separated ("app:" when no uid is given); "!" per change.
std::string Summary(const RunUsers& r) {
  std::string s;
  for (const auto& c : r.created) s += (s.empty() ? "" : " ") + c.name + ":" + c.uid_word;
  for (size_t i = 0; i < r.passwd_changes.size(); ++i) s += (s.empty() ? "!" : " !");
  return s;
}

TEST_CASE("UsersCreatedBy") {
  struct Row {
    const char* run;
    const char* want;
  };
  const std::vector<Row> rows = {
      {"useradd app", "app:"},
      {"useradd -u 1000 app", "app:1000"},
      {"useradd -u1000 -m app", "app:1000"},
      {"useradd -ou 0 toor", "toor:0"},
      {"useradd --uid=0 --non-unique toor", "toor:0"},
      {"useradd --uid 42 -g staff -G a,b -s /bin/sh -d /home/x -c 'A B' x", "x:42"},
      {"useradd --ui 7 abbrev", "abbrev:7"},  // getopt_long takes a unique prefix
      {"useradd -r svc", "svc:"},
      {"useradd -D -s /bin/zsh", ""},
      {"useradd -R /mnt app", ""},  // another root's /etc/passwd
      {"sudo /usr/sbin/useradd -u 5 a && apt-get clean", "a:5"},
      {"set -eux; groupadd -g 1000 g; useradd -u \"${UID}\" -g g app", "app:${UID}"},
      {"adduser --disabled-password --gecos \"\" app", "app:"},
      {"adduser --system --uid 101 --group nginx", "nginx:101"},
      {"adduser --group docker", ""},
      {"adduser app docker", ""},
      {"adduser -D -u 10001 -h /app -s /sbin/nologin app", "app:10001"},
      {"adduser -S -D -H -G app app", "app:"},
      {"adduser -Du0 toor", "toor:0"},
      {"[\"useradd\", \"-u\", \"0\", \"-o\", \"toor\"]", "toor:0"},
      {"[\"/bin/sh\", \"-c\", \"useradd -u 9 a && adduser -D b\"]", "a:9 b:"},
      {"echo useradd x", ""},
      {"usermod -u 0 app", "!"},
      {"echo 'x:x:0:0::/:' >> /etc/passwd", "!"},
      {"sed -i s/1000/0/ /etc/passwd", "!"},
      {"cat /etc/passwd", ""},
      {"cat x >/etc/passwd", "!"},
      {"useradd a; useradd -u 3 b | true", "a: b:3"},
  };
  for (const Row& r : rows) {
    INFO(r.run);
    CHECK(Summary(UsersCreatedBy(r.run)) == r.want);
  }
}

}  // namespace
