# Shared by tests/bench_serve.sh and the tests/load_*.sh scripts (sourced): the temp dir and the
# processes removed at exit, messages, a loopback port, a certificate, wrk's figures (from the
# line tests/wrk_post.lua prints), number formatting and /proc readings.
# Expects `root` (the repository) to be set by the caller.

work=""
pids=()
wrk_script="$root/tests/wrk_post.lua"

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$work" ]; then
    if [ "${KEEP_TMP:-0}" = 1 ]; then echo "temp dir kept: $work"; else rm -rf "$work"; fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
note() { echo "-- $*" >&2; }

forget_pid() { # pid: no longer ours to kill at exit
  local p rest=()
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || rest+=("$p"); done
  pids=("${rest[@]}")
}

make_certificate() { # prefix: writes prefix.crt and prefix.key (EC P-256, for localhost)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$1.key" -out "$1.crt" 2>/dev/null
}

free_port() { # a loopback port nothing listens on, below the kernel's ephemeral range (from
  # 32768 by default), where another process's outgoing connection could take it before the
  # server binds it
  local port
  while :; do
    port=$((10000 + RANDOM % 22000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# run_wrk_parse file label: sets w_requests w_rps w_p50 w_p99 w_max (ms) and w_connect w_read
# w_write w_status w_timeout (wrk's error counts), and w_failures (all but connect errors).
run_wrk_parse() { # file label
  local line
  line="$(grep '^LOAD ' "$1")" || { cat "$1" >&2; die "no figures from wrk ($2)"; }
  w_requests="$(field requests "$line")"
  w_rps="$(awk -v n="$w_requests" -v us="$(field duration_us "$line")" 'BEGIN { printf "%.0f", n / (us / 1e6) }')"
  w_p50="$(ms "$(field p50_us "$line")")"
  w_p99="$(ms "$(field p99_us "$line")")"
  w_max="$(ms "$(field max_us "$line")")"
  w_connect="$(field connect_errors "$line")"
  w_read="$(field read_errors "$line")"
  w_write="$(field write_errors "$line")"
  w_status="$(field status_errors "$line")"
  w_timeout="$(field timeouts "$line")"
  w_failures=$((w_read + w_write + w_status + w_timeout))
}
field() { sed -E "s/.*[ ^]$1=([0-9]+).*/\1/" <<<" $2"; }
ms() { awk -v us="$1" 'BEGIN { printf "%.2f", us / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
# Three decimals: for a ratio judged against a target it is close to (0.254 is not <= 0.25).
ratio3() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else printf "n/a" }'; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

cpu_busy_percent() { # share of all CPUs busy over one second
  local a b
  a="$(head -1 /proc/stat)"
  sleep 1
  b="$(head -1 /proc/stat)"
  awk -v a="$a" -v b="$b" 'BEGIN {
    n = split(a, x); split(b, y); total = 0
    for (i = 2; i <= n; i++) total += y[i] - x[i]
    idle = (y[5] - x[5]) + (y[6] - x[6])
    printf "%.0f", (total > 0 ? 100 * (total - idle) / total : 0) }'
}

