#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: doctest units and fixtures, and the
# tests that drive the real binary. Exit code 0 only if all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
# The SARIF 2.1.0 schema validator (ajv) for the shift_left test, pinned in tests/sarif's lock.
if [ ! -d tests/sarif/node_modules ]; then
  npm ci --prefix tests/sarif --no-audit --no-fund >/dev/null
fi
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure
