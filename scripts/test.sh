#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test. Exit code 0 only if all pass.
#   1. the test suite (doctest units and fixtures, and the tests that drive the real binary:
#      cli, shift_left, helm, serve, tls, registry, image_build) on the normal build;
#   2. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer
#      (scripts/test_sanitize.sh, build-asan/);
#   3. each libFuzzer target for FUZZ_SECONDS (default 30) (scripts/fuzz.sh, build-fuzz/).
# Every stage runs even when an earlier one fails; the summary at the end names the failures.
# SANITIZE=0 or FUZZ=0 leaves a stage out (for a quick local run; CI runs all three).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh || exit 1
# The SARIF 2.1.0 schema validator (ajv) for the shift_left test, pinned in tests/sarif's lock.
if [ ! -d tests/sarif/node_modules ]; then
  npm ci --prefix tests/sarif --no-audit --no-fund >/dev/null || exit 1
fi

failed=()
stage() { # name command...: runs a stage, timing it
  local name="$1" start=$SECONDS
  shift
  echo "== $name"
  if "$@"; then
    echo "== $name: passed in $((SECONDS - start)) s"
  else
    echo "== $name: FAILED after $((SECONDS - start)) s"
    failed+=("$name")
  fi
}

suite() { scripts/build.sh && ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure; }
stage "test suite" suite
[ "${SANITIZE:-1}" = 0 ] || stage "test suite under ASan+UBSan+LSan" scripts/test_sanitize.sh
[ "${FUZZ:-1}" = 0 ] || stage "fuzzing" scripts/fuzz.sh

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all stages passed"
