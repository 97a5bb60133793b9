#!/usr/bin/env bash
# Load test: slow and idle clients against `rootgate serve` (issue 7, part 3). Prints figures.
#
# Part 1, slow clients: wrk's p99 (POST of the recorded Pod CREATE over TLS, keep-alive, 8
# connections) unloaded, then with IDLE+HELLO+HEADERS+BODY slow connections held open (1000 by
# default; tests/load/slow_clients.py: idle TCP, a ClientHello a byte at a time, endless headers
# a byte at a time, a body a byte at a time; each reconnects at once when the server closes it),
# then after they are gone. rootgate runs with its defaults (--max-connections 1024,
# --read-timeout 10s). Prints both p99s and their ratio (target <= 2), and how long the server
# let each kind of slow connection live.
# Part 2, the connection cap: rootgate with --max-connections CAP and --read-timeout 3s; CAP
# connections sending headers a byte at a time (not replaced when closed) fill it; EXTRA more
# connections are refused (time to refusal printed); when the server's read timeout has dropped
# the slow ones, normal traffic resumes (time printed).
#
# Exit status 1 when a qualitative property fails: a wrk error while the slow clients are held,
# a slow connection outliving the read timeout, an excess connection not refused or hanging, or
# traffic not resuming. Timings are printed, never asserted: the machine is shared and noisy, so
# the unloaded reference is measured in the same run.
#
# usage: tests/load_slow_clients.sh
# env:   BUILD_DIR=build  IDLE=400 HELLO=200 HEADERS=200 BODY=200  DURATION=10 (seconds per wrk
#        run)  CAP=100 EXTRA=20  KEEP_TMP=1 (keep the temp dir: logs, wrk output)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tests/load/load_lib.sh
source "$root/tests/load/load_lib.sh"

duration="${DURATION:-10}"
idle="${IDLE:-400}" hello="${HELLO:-200}" headers="${HEADERS:-200}" body="${BODY:-200}"
slow_total=$((idle + hello + headers + body))
cap="${CAP:-100}" extra="${EXTRA:-20}"
read_timeout_s=10

status_field() { # file jq-path
  jq -r "$2" "$1" 2>/dev/null || echo 0
}

wait_for() { # seconds command...: polls every 0.2 s
  local until=$((SECONDS + $1))
  shift
  while [ "$SECONDS" -lt "$until" ]; do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  "$@"
}

slow_population_reached() { [ "$(status_field "$work/slow.json" .open_total)" -ge "$slow_total" ]; }
server_open_at_most() { local n; n="$(metric rootgate_open_connections)"; [ -n "$n" ] && [ "$n" -le "$1" ]; }
server_open_at_least() { local n; n="$(metric rootgate_open_connections)"; [ -n "$n" ] && [ "$n" -ge "$1" ]; }

# Samples the server's open connections, worker threads and RSS every 0.5 s into $1.
start_sampler() {
  (
    while kill -0 "$server_pid" 2>/dev/null; do
      echo "$(metric rootgate_open_connections) $(metric rootgate_worker_threads) $(rss_kib "$server_pid")"
      sleep 0.5
    done
  ) >"$1" 2>/dev/null &
  sampler_pid=$!
  pids+=("$sampler_pid")
}
stop_sampler() { kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; forget_pid "$sampler_pid"; }
column_max() { awk -v c="$2" '$c != "" && $c > m { m = $c } END { print m + 0 }' "$1"; }

part1() {
  local port
  port="$(free_port)"
  start_rootgate "$port" --tls-cert "$work/cert.crt" --tls-key "$work/cert.key"
  local pid="$server_pid"
  rss_ready="$(rss_kib "$pid")"
  note "part 1: warm-up 2 s, then unloaded ${duration} s"
  run_wrk warmup "$port" 2
  run_wrk unloaded "$port" "$duration"
  ref_p99="$w_p99" ref_p50="$w_p50" ref_rps="$w_rps" ref_errors="$(wrk_errors)" ref_failures=$((w_failures + w_connect))

  note "part 1: $slow_total slow connections (idle $idle, hello $hello, headers $headers, body $body)"
  python3 "$load_dir/slow_clients.py" 127.0.0.1 "$port" --status "$work/slow.json" \
    --idle "$idle" --hello "$hello" --headers "$headers" --body "$body" 2>"$work/slow.err" &
  local slow_pid=$!
  pids+=("$slow_pid")
  wait_for 60 slow_population_reached || true
  slow_open_before="$(status_field "$work/slow.json" .open_total)"
  server_open_before="$(metric rootgate_open_connections)"
  start_sampler "$work/sampler.txt"
  note "part 1: loaded ${duration} s (slow connections held: $slow_open_before)"
  run_wrk loaded "$port" "$duration"
  stop_sampler
  load_p99="$w_p99" load_p50="$w_p50" load_rps="$w_rps" load_errors="$(wrk_errors)" load_failures=$((w_failures + w_connect))
  slow_open_after="$(status_field "$work/slow.json" .open_total)"
  peak_open="$(column_max "$work/sampler.txt" 1)"
  peak_threads="$(column_max "$work/sampler.txt" 2)"
  peak_rss="$(column_max "$work/sampler.txt" 3)"
  timed_out="$(metric rootgate_connections_timed_out_total)"
  refused_part1="$(metric rootgate_connections_refused_total)"
  kill "$slow_pid" 2>/dev/null || true
  wait "$slow_pid" 2>/dev/null || true
  forget_pid "$slow_pid"
  cp "$work/slow.json" "$work/slow-part1.json"

  note "part 1: slow clients gone; ${duration} s more"
  wait_for 20 server_open_at_most 0 || true
  run_wrk after "$port" "$duration"
  after_p99="$w_p99" after_rps="$w_rps" after_errors="$(wrk_errors)" after_failures=$((w_failures + w_connect))
  rss_after="$(rss_kib "$pid")"
  note "part 1: 12 s idle (threads beyond --threads exit after 10 s idle)"
  sleep 12
  rss_rested="$(rss_kib "$pid")"
  threads_rested="$(metric rootgate_worker_threads)"
  stop_rootgate "$pid"
}

part2() {
  local port
  port="$(free_port)"
  start_rootgate "$port" --tls-cert "$work/cert.crt" --tls-key "$work/cert.key" \
    --max-connections "$cap" --read-timeout 3s
  local pid="$server_pid"
  note "part 2: --max-connections $cap filled by $cap byte-at-a-time header senders (not replaced)"
  local filled_at=$SECONDS
  python3 "$load_dir/slow_clients.py" 127.0.0.1 "$port" --status "$work/cap.json" --headers "$cap" \
    --once 2>"$work/cap.err" &
  local slow_pid=$!
  pids+=("$slow_pid")
  local t_start
  t_start="$(date +%s.%N)"
  wait_for 30 server_open_at_least "$cap" || true
  cap_open="$(metric rootgate_open_connections)"
  note "part 2: $extra more connections"
  probe="$(python3 "$load_dir/refusal_probe.py" 127.0.0.1 "$port" "$extra" --timeout 20)"
  # Normal traffic: a request every 0.1 s until one succeeds.
  local t_ok="" i
  for ((i = 0; i < 300; i++)); do
    if post_body "$port" 2>/dev/null | jq -e '.response.allowed == false' >/dev/null 2>&1; then
      t_ok="$(date +%s.%N)"
      break
    fi
    sleep 0.1
  done
  resumed_s="$( [ -n "$t_ok" ] && awk -v a="$t_start" -v b="$t_ok" 'BEGIN { printf "%.1f", b - a }' || echo never)"
  run_wrk cap-after "$port" 3
  cap_after_errors="$(wrk_errors)" cap_after_failures=$((w_failures + w_connect)) cap_after_rps="$w_rps"
  cap_refused="$(metric rootgate_connections_refused_total)"
  cap_timed_out="$(metric rootgate_connections_timed_out_total)"
  kill "$slow_pid" 2>/dev/null || true
  wait "$slow_pid" 2>/dev/null || true
  forget_pid "$slow_pid"
  cap_slow_lifetime="$(status_field "$work/cap.json" .lifetime_max_s.headers)"
  stop_rootgate "$pid"
  : "$filled_at"
}

report() {
  local s="$work/slow-part1.json"
  echo
  echo "== slow clients: wrk -t2 -c${LOAD_CONNECTIONS:-8} -d${duration}s POST $path over TLS; $(nproc) CPUs, ${busy}% busy before the run"
  printf '%-34s %10s %10s %10s  %s\n' "" "req/s" "p50 ms" "p99 ms" "wrk errors"
  printf '%-34s %10s %10s %10s  %s\n' "unloaded" "$ref_rps" "$ref_p50" "$ref_p99" "$ref_errors"
  printf '%-34s %10s %10s %10s  %s\n' "with $slow_total slow connections" "$load_rps" "$load_p50" "$load_p99" "$load_errors"
  printf '%-34s %10s %10s %10s  %s\n' "after they are gone" "$after_rps" "" "$after_p99" "$after_errors"
  local r
  r="$(ratio "$load_p99" "$ref_p99")"
  echo "p99 loaded / unloaded: $r  (target <= 2: $(awk -v r="$r" 'BEGIN { print (r != "n/a" && r <= 2) ? "met" : "MISSED" }'))"
  echo "slow connections held (client side): $slow_open_before when wrk started, $slow_open_after when it ended"
  echo "server: open connections $server_open_before at the start, peak $peak_open; worker threads peak $peak_threads"
  echo "server: connections timed out by --read-timeout: $timed_out; refused by the cap: $refused_part1"
  echo "how long the server let each kind live (seconds, mean / longest), connects made:"
  local k
  for k in idle hello headers body; do
    printf '  %-8s %6s / %-6s  %s connects\n' "$k" "$(status_field "$s" ".lifetime_mean_s.$k")" \
      "$(status_field "$s" ".lifetime_max_s.$k")" "$(status_field "$s" ".connects.$k")"
  done
  echo "RSS: $(mib "$rss_ready") MiB ready, peak $(mib "$peak_rss") MiB with the slow clients, $(mib "$rss_after") MiB after," \
    "$(mib "$rss_rested") MiB after 12 s idle ($threads_rested worker threads)"
  echo
  echo "== connection cap: --max-connections $cap, --read-timeout 3s"
  echo "open connections when full: $cap_open"
  echo "$extra more connections: $(jq -r '"\(.refused) refused (median \(.refusal_ms_median) ms, longest \(.refusal_ms_max) ms), \(.served) served, \(.hung) hung"' <<<"$probe")"
  echo "a normal request succeeded again $resumed_s s after the slow connections opened (longest slow one lived $cap_slow_lifetime s)"
  echo "then wrk 3 s: $cap_after_rps req/s, $cap_after_errors"
  echo "server: refused $cap_refused, timed out $cap_timed_out"
  echo
  local max_life
  max_life="$(jq '[.lifetime_max_s.hello, .lifetime_max_s.headers, .lifetime_max_s.body] | max' "$s")"
  check "no wrk error before the slow clients" "$([ "$ref_failures" -eq 0 ] && echo 1 || echo 0)" "$ref_errors"
  check "$slow_total slow connections held" "$([ "$slow_open_before" -ge "$slow_total" ] && echo 1 || echo 0)" "$slow_open_before"
  check "no wrk error while they are held" "$([ "$load_failures" -eq 0 ] && echo 1 || echo 0)" "$load_errors"
  check "no wrk error after they are gone" "$([ "$after_failures" -eq 0 ] && echo 1 || echo 0)" "$after_errors"
  check "byte-at-a-time connections cut off by the read timeout ($read_timeout_s s)" \
    "$(awk -v m="$max_life" -v t="$read_timeout_s" 'BEGIN { print (m > 0 && m < t + 2) ? 1 : 0 }')" "longest $max_life s"
  check "the cap was reached" "$([ "${cap_open:-0}" -ge "$cap" ] && echo 1 || echo 0)" "$cap_open open"
  check "every excess connection refused, none hung" \
    "$(jq -r --argjson n "$extra" 'if .refused == $n and .hung == 0 and .refusal_ms_max < 3000 then 1 else 0 end' <<<"$probe")" "$probe"
  check "normal traffic resumed after the slow ones were dropped" \
    "$([ "$resumed_s" != never ] && [ "$cap_after_failures" -eq 0 ] && echo 1 || echo 0)" "$cap_after_errors"
}

main() {
  setup_load
  busy="$(cpu_busy_percent)"
  part1
  part2
  report
  [ "$checks_failed" -eq 0 ]
}

main "$@"
