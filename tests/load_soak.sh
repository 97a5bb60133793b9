#!/usr/bin/env bash
# Soak test of `rootgate serve` (issue 7, part 3): REQUESTS requests (default 1 M) of the recorded
# Pod CREATE over TLS with wrk (keep-alive, 8 connections; a connection is closed by the server
# after 1000 requests, so about REQUESTS/1000 TLS handshakes too), with the server's RSS (VmRSS
# from /proc/PID/status) printed when ready and after 10 %, 50 % and 100 % of the requests
# (100 k, 500 k and 1 M by default), and the growth after the warm-up (the first 10 %). Prints
# figures; exit status 1 only for a qualitative failure: a wrk error, or a request not answered.
# The RSS target (<= 32 MiB after 1 M requests, no growth after warm-up) is printed as met or
# MISSED, not asserted.
#
# usage: tests/load_soak.sh
# env:   BUILD_DIR=build  REQUESTS=1000000  LOAD_CONNECTIONS=8  KEEP_TMP=1
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tests/load/load_lib.sh
source "$root/tests/load/load_lib.sh"

total="${REQUESTS:-1000000}"
marks=($((total / 10)) $((total / 2)) "$total")

main() {
  setup_load
  local busy port pid served=0 mark i
  busy="$(cpu_busy_percent)"
  port="$(free_port)"
  start_rootgate "$port" --tls-cert "$work/cert.crt" --tls-key "$work/cert.key"
  pid="$server_pid"
  local rss_ready failures=0 errors_all=""
  rss_ready="$(rss_kib "$pid")"
  declare -a rss_at served_at rate_at
  for i in "${!marks[@]}"; do
    mark="${marks[$i]}"
    note "soak: requests $served to $mark"
    run_wrk_count "soak-$i" "$port" $((mark - served))
    served=$((served + w_requests))
    failures=$((failures + w_failures + w_connect))
    [ $((w_failures + w_connect)) -eq 0 ] || errors_all+=" [$(wrk_errors)]"
    rss_at[i]="$(rss_kib "$pid")"
    served_at[i]="$served"
    rate_at[i]="$w_rps"
  done
  local answered=0
  post_body "$port" | jq -e '.response.allowed == false' >/dev/null 2>&1 && answered=1
  local http200 threads
  http200="$(curl -s "http://127.0.0.1:$health_port/metrics" | awk '$1 == "rootgate_http_requests_total{code=\"200\"}" { print $2 }')"
  threads="$(threads_of "$pid")"
  stop_rootgate "$pid"
  local code="$stop_code"

  echo
  echo "== soak: $served requests, wrk -t2 -c${LOAD_CONNECTIONS:-8} keep-alive, POST $path over TLS; $(nproc) CPUs, ${busy}% busy before"
  printf '%-22s %12s %10s\n' "after requests" "RSS MiB" "req/s"
  printf '%-22s %12s %10s\n' "0 (ready)" "$(mib "$rss_ready")" ""
  for i in "${!marks[@]}"; do
    printf '%-22s %12s %10s\n' "${served_at[$i]}" "$(mib "${rss_at[$i]}")" "${rate_at[$i]}"
  done
  local growth growth_half
  growth="$(awk -v a="${rss_at[0]}" -v b="${rss_at[2]}" 'BEGIN { printf "%+.1f", (b - a) / 1024 }')"
  growth_half="$(awk -v a="${rss_at[1]}" -v b="${rss_at[2]}" 'BEGIN { printf "%+.1f", (b - a) / 1024 }')"
  echo "growth after warm-up: $growth MiB from ${served_at[0]} to ${served_at[2]} requests ($growth_half MiB from ${served_at[1]})"
  echo "target: RSS <= 32 MiB after ${served_at[2]} requests: $(awk -v k="${rss_at[2]}" 'BEGIN { print (k <= 32 * 1024) ? "met" : "MISSED" }');" \
    "no growth after warm-up (within 1 MiB): $(awk -v g="$growth" 'BEGIN { print (g <= 1.0) ? "met" : "MISSED" }')"
  echo "server threads at the end: $threads; HTTP 200 replies counted by the server: $http200; exit status after SIGTERM: $code"
  echo
  check "no wrk error in $served requests" "$([ "$failures" -eq 0 ] && echo 1 || echo 0)" "$errors_all"
  check "every request answered 200 (server's count >= wrk's)" \
    "$(awk -v h="${http200:-0}" -v s="$served" 'BEGIN { print (h >= s) ? 1 : 0 }')" "server $http200, wrk $served"
  check "still answering correctly at the end" "$answered"
  check "clean exit on SIGTERM" "$([ "$code" = 0 ] && echo 1 || echo 0)" "exit $code"
  [ "$checks_failed" -eq 0 ]
}

main "$@"
