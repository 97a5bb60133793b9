#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ with clang (ASan + UBSan) into ${FUZZ_BUILD_DIR:-build-fuzz}
# and runs each one for ${FUZZ_SECONDS:-30} seconds, starting from the committed seeds in
# fuzz/corpus/<target>/ (read-only) plus a work corpus kept in the build dir (outside git), so
# later runs start where earlier ones stopped. Prints per target the runs, exec/s, coverage
# (cov/ft) and the result. Exit code 0 only if no target crashed, hung, leaked or ran out of
# memory; a failing input is saved as <build dir>/fuzz-artifacts/<target>-crash-<sha1> (or
# -timeout-, -leak-, -oom-) and its path printed.
#   FUZZ_SECONDS=60 scripts/fuzz.sh                 # all targets, a minute each
#   FUZZ_TARGETS="dockerfile_fuzz" scripts/fuzz.sh  # a subset
# Reproduce a failure: <build dir>/fuzz/<target> <artifact path>
set -euo pipefail
cd "$(dirname "$0")/.."

# clang's compiler-rt holds libFuzzer and the sanitizer runtimes; llvm-14 the symbolizer.
scripts/deps.sh clang libclang-rt-14-dev llvm-14

build_dir="${FUZZ_BUILD_DIR:-build-fuzz}"
seconds="${FUZZ_SECONDS:-30}"
timeout_per_input="${FUZZ_TIMEOUT:-10}"
rss_limit_mb="${FUZZ_RSS_LIMIT_MB:-2048}"
jobs="${FUZZ_BUILD_JOBS:-2}"

cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang \
  -DROOTGATE_FUZZ=ON -DROOTGATE_TESTS=OFF -DROOTGATE_BENCH=OFF >/dev/null
cmake --build "$build_dir" -j"$jobs" --target fuzz_targets >/dev/null

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for src in fuzz/*_fuzz.cpp; do targets+=("$(basename "$src" .cpp)"); done
fi

# Which dictionary each target uses (fuzz/dict/), when one helps.
declare -A dicts=([admission_review_fuzz]=admission_review [manifest_reader_fuzz]=admission_review
                  [json_prune_fuzz]=admission_review
                  [policy_parse_fuzz]=policy_parse [dockerfile_fuzz]=dockerfile
                  [www_authenticate_fuzz]=www_authenticate [image_ref_fuzz]=image_ref
                  [image_manifest_fuzz]=image_manifest [layer_passwd_fuzz]=layer_passwd)

symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

logs="$build_dir/fuzz-logs"
artifacts="$build_dir/fuzz-artifacts"
mkdir -p "$logs" "$artifacts"
failed=0
printf '%-24s %10s %8s %7s %7s  %s\n' target runs exec/s cov ft result
for t in "${targets[@]}"; do
  bin="$build_dir/fuzz/$t"
  seeds="fuzz/corpus/$t"
  work="$build_dir/fuzz-corpus/$t"
  mkdir -p "$work"
  args=(-max_total_time="$seconds" -timeout="$timeout_per_input" -rss_limit_mb="$rss_limit_mb"
        -print_final_stats=1 -artifact_prefix="$artifacts/$t-")
  [ -n "${dicts[$t]:-}" ] && args+=(-dict="fuzz/dict/${dicts[$t]}.dict")
  [ -d "$seeds" ] || seeds=""
  rc=0
  "$bin" "${args[@]}" "$work" $seeds >"$logs/$t.log" 2>&1 || rc=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -1)
  speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log" | tail -1)
  stats=$(grep -E '^#[0-9]+.*cov: ' "$logs/$t.log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$stats")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$stats")
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    failed=1
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$logs/$t.log" | tail -1)
    reason=$(grep -m1 -E 'invariant failed|what\(\):|runtime error:|ERROR: [A-Za-z]+Sanitizer|^SUMMARY' \
             "$logs/$t.log" || echo "exit code $rc")
    result="FAILED: ${artifact:-no input saved} ($reason; log $logs/$t.log)"
  fi
  printf '%-24s %10s %8s %7s %7s  %s\n' "$t" "${runs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
if [ "$failed" -ne 0 ]; then
  echo "fuzz: a target failed; reproduce with $build_dir/fuzz/<target> <input>" >&2
  exit 1
fi
