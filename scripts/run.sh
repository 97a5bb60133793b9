#!/usr/bin/env bash
# Quick start: install what is missing, build, and run rootgate's main job on its built-in
# default policy: the HTTPS admission webhook, `rootgate serve`, on https://localhost:8443 with a
# local self-signed CA and certificate (made once in .state/, then reused), until Ctrl-C. First it
# shows the same policy as a dry run (`rootgate check`) over the example manifests.
# Extra arguments go to `rootgate serve` (e.g. --listen 127.0.0.1:9443, --policy FILE).
set -euo pipefail
cd "$(dirname "$0")/.."
# Only what the binary needs: the packages to build it and the `rootgate` target, not the tests'
# packages and targets (scripts/test.sh builds and installs everything).
scripts/deps.sh --build-only
TARGETS=rootgate scripts/build.sh
echo "== rootgate check examples/manifests: the built-in policy as a dry run"
set +e
"${BUILD_DIR:-build}/rootgate" check examples/manifests
code=$?
set -e
case $code in
  0) echo "rootgate check: exit 0 (nothing denied)";;
  1) echo "rootgate check: exit 1 (some workloads denied, as these examples are meant to show)";;
  *) echo "rootgate check: exit $code (bad input)"; exit "$code";;
esac
echo
echo "== rootgate serve: the admission webhook (Ctrl-C to stop)"
exec "${BUILD_DIR:-build}/rootgate" serve --log-format text "$@"
