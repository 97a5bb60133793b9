#!/usr/bin/env bash
# Quick start: install what is missing, build, and run rootgate's main job on its built-in
# default policy: `rootgate check` over the example manifests (some allowed, some denied).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh
set +e
build/rootgate check examples/manifests
code=$?
set -e
echo
case $code in
  0) echo "rootgate check: exit 0 (nothing denied)";;
  1) echo "rootgate check: exit 1 (some workloads denied, as these examples are meant to show)";;
  *) echo "rootgate check: exit $code (bad input)"; exit "$code";;
esac
