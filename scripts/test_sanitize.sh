#!/usr/bin/env bash
# Builds rootgate with AddressSanitizer + UndefinedBehaviorSanitizer (LeakSanitizer comes with
# ASan) into build-asan/ (or $SANITIZE_BUILD_DIR) and runs the ctest tests against it, one at a
# time: all of them but image_build, which builds the container image from source and never runs
# this binary. Arguments: test names to run instead of all. SANITIZE_SKIP_BUILD=1 runs the tests
# on what build-asan/ holds, without building first.
#
# Every sanitized process (the unit tests, and each rootgate a shell or Python test starts,
# servers in the background included) writes its reports to a directory of the test's own
# (ASAN/UBSAN log_path). A test fails if ctest says so or if anything is in that directory: a
# test that expects a non-zero exit, or only kills a background server, would not notice a report
# otherwise. Exit code 0 only if every test passed with no report.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
build_dir="${SANITIZE_BUILD_DIR:-build-asan}"
if [ "${SANITIZE_SKIP_BUILD:-0}" != 1 ]; then
  BUILD_DIR="$build_dir" scripts/build.sh -DROOTGATE_SANITIZE=ON -DROOTGATE_BENCH=OFF
fi

if [ $# -gt 0 ]; then
  tests=("$@")
else
  mapfile -t tests < <(ctest --test-dir "$build_dir" --show-only=json-v1 |
                       jq -r '.tests[].name | select(. != "image_build")')
fi
reports="$root/$build_dir/sanitizer-reports"
rm -rf "$reports"

# halt/abort on the first finding: a crash is a failure even where output is not read.
asan_common="abort_on_error=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
asan_common+=":check_initialization_order=1:strict_init_order=1:detect_odr_violation=2"
asan_common+=":print_stacktrace=1:log_exe_name=1"
# Leaks inside third-party libraries only, each with its reason, when there are any.
if [ -f scripts/lsan.supp ]; then
  export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp:print_suppressions=0"
fi

failed=()
started=$SECONDS
for t in "${tests[@]}"; do
  mkdir -p "$reports/$t"
  export ASAN_OPTIONS="$asan_common:log_path=$reports/$t/asan"
  # abort_on_error: a UBSan finding must not exit 1, which `rootgate check` uses for "denied".
  # log_path reaches libubsan through tests/sanitizer_report_path.cpp.
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$reports/$t/ubsan"
  t0=$SECONDS
  ok=1
  ctest --test-dir "$build_dir" --output-on-failure -R "^$t\$" || ok=0
  found=("$reports/$t"/*)
  if [ -e "${found[0]}" ]; then
    ok=0
    echo "== $t: ${#found[@]} sanitizer report(s):" >&2
    for f in "${found[@]}"; do echo "--- $f" >&2; cat "$f" >&2; done
  fi
  echo "== $t: $([ $ok = 1 ] && echo passed || echo FAILED) under ASan+UBSan in $((SECONDS - t0)) s"
  [ $ok = 1 ] || failed+=("$t")
done
echo "== sanitizers: ${#tests[@]} tests in $((SECONDS - started)) s; failed: ${failed[*]:-none}"
[ ${#failed[@]} -eq 0 ]
