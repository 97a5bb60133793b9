# Shared by the shell tests that drive the real binary: sourced with the binary as $1. Sets bin,
# here, root and a work dir removed on exit, cds to the repository root, and defines the
# assertion helpers (pass, fail, expect_eq, expect_contains) and run (sets out, err, code).
set -uo pipefail
shopt -s lastpipe
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
root="$(dirname "$here")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$root"

fails=0; passes=0
pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_eq() { # name got want
  if [ "$2" == "$3" ]; then pass; else fail "$1: got [$2], want [$3]"; fi
}
expect_contains() { # name haystack needle
  if grep -qF -- "$3" <<<"$2"; then pass; else fail "$1: [$3] not in output: $2"; fi
}
run() { # sets out, err, code
  out="$("$@" 2>"$work/stderr")"; code=$?; err="$(cat "$work/stderr")"
}
