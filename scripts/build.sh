#!/usr/bin/env bash
# Configures and builds rootgate into build/ (or $BUILD_DIR). Extra arguments go to cmake.
# TARGETS (default: every target, tests and benchmarks included) builds only those, e.g.
# TARGETS=rootgate for the binary alone (scripts/run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
# shellcheck disable=SC2086  # TARGETS is a list
cmake --build "$build_dir" -j"$(nproc)" ${TARGETS:+--target $TARGETS}
