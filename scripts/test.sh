#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test: doctest units and fixtures, and the
# tests that drive the real binary. Exit code 0 only if all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure
