# Shared by tests/load_slow_clients.sh, tests/load_soak.sh and tests/load_faults.sh (sourced):
# a temp dir with a certificate and the recorded Pod CREATE body, `rootgate serve` started and
# stopped, wrk runs parsed into variables, /metrics and /proc readings.
# Expects `root` (the repository) to be set by the caller; uses BUILD_DIR (default build).
# What tests/bench_serve.sh needs too is in tests/perf_lib.sh.

# shellcheck source=tests/perf_lib.sh
source "$root/tests/perf_lib.sh"

build_dir="${BUILD_DIR:-build}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
bin="$build_dir/rootgate"
load_dir="$root/tests/load"
fixture="$root/tests/fixtures/admission/003-pod-create-no-securitycontext.json"
path="/validate?timeout=10s"

# A temp dir with a certificate, the body wrk posts, and a copy of the binary under test (so a
# rebuild during the run changes nothing). Raises this shell's open-file limit for the clients.
setup_load() {
  local tool
  for tool in wrk curl jq openssl python3; do
    command -v "$tool" >/dev/null || die "$tool is needed (apt-get install wrk curl jq openssl python3)"
  done
  if [ ! -x "$bin" ]; then
    note "building rootgate (scripts/build.sh)"
    BUILD_DIR="$build_dir" "$root/scripts/build.sh" >&2
  fi
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  work="$(mktemp -d "${TMPDIR:-/tmp}/rootgate-load.XXXXXX")"
  cp "$bin" "$work/rootgate"
  bin="$work/rootgate"
  make_certificate "$work/cert"
  jq -c .body "$fixture" >"$work/body.json"
}

# start_rootgate port [serve flags...]: sets server_pid and health_port (the plain-HTTP
# --health-listen port, whose /metrics stays reachable while the HTTPS port is full); waits up
# to 10 s for the HTTPS /healthz.
start_rootgate() {
  local port="$1" i
  shift
  health_port="$(free_port)"
  "$bin" serve --listen "127.0.0.1:$port" --health-listen "127.0.0.1:$health_port" \
    --log-level warn "$@" >>"$work/rootgate-$port.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for ((i = 0; i < 1000; i++)); do
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/rootgate-$port.log" >&2; die "rootgate exited"; }
    curl -sk --max-time 1 "https://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.01
  done
  die "rootgate did not answer on port $port"
}

# stop_rootgate pid [signal]: sets stop_code to its exit status (not in a subshell: only this
# shell can wait for it).
stop_rootgate() {
  stop_code=0
  kill -"${2:-TERM}" "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || stop_code=$?
  forget_pid "$1"
}

post_body() { # port: prints the reply
  curl -sk --max-time 5 -H "Content-Type: application/json" --data-binary "@$work/body.json" \
    "https://127.0.0.1:$1$path"
}

# run_wrk label port seconds [wrk args...]: sets w_requests w_rps w_p50 w_p99 w_max (ms) and
# w_connect w_read w_write w_status w_timeout (wrk's error counts), and w_failures (all but
# connect errors). 2 threads, $LOAD_CONNECTIONS (default 8) connections, keep-alive.
run_wrk() {
  local label="$1" port="$2" seconds="$3" out line
  shift 3
  out="$work/wrk-$label.txt"
  LOAD_BODY="$work/body.json" LOAD_THREADS=2 wrk -t2 -c"${LOAD_CONNECTIONS:-8}" -d"${seconds}s" \
    --latency -s "$wrk_script" "$@" "https://127.0.0.1:$port$path" >"$out" 2>&1 || true
  run_wrk_parse "$out" "$label"
}

# run_wrk_count label port n: like run_wrk, but for n requests: each wrk thread stops after its
# share (tests/wrk_post.lua), and wrk, which would otherwise sleep out its -d duration, is
# interrupted (SIGINT: it still reports) once the server has answered them all.
run_wrk_count() {
  local label="$1" port="$2" n="$3" base count out
  out="$work/wrk-$label.txt"
  base="$(http_200s)"
  LOAD_BODY="$work/body.json" LOAD_THREADS=2 LOAD_REQUESTS="$n" wrk -t2 -c"${LOAD_CONNECTIONS:-8}" \
    -d3600s --latency -s "$wrk_script" "https://127.0.0.1:$port$path" >"$out" 2>&1 &
  local wrk_pid=$!
  pids+=("$wrk_pid")
  while kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 0.2
    count="$(http_200s)"
    if [ -z "$count" ] || [ "$((count - base))" -ge "$n" ]; then break; fi
  done
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" 2>/dev/null || true
  forget_pid "$wrk_pid"
  run_wrk_parse "$out" "$label"
}
http_200s() { # the server's count of HTTP 200 replies
  curl -s --max-time 5 "http://127.0.0.1:$health_port/metrics" 2>/dev/null |
    awk '$1 == "rootgate_http_requests_total{code=\"200\"}" { print $2 }'
}
wrk_errors() { # wrk's error counts of the last run_wrk, on one line
  echo "connect=$w_connect read=$w_read write=$w_write status=$w_status timeout=$w_timeout"
}

metric() { # name: the value of a sample in /metrics on $health_port (empty when unreachable)
  curl -s --max-time 5 "http://127.0.0.1:$health_port/metrics" 2>/dev/null |
    awk -v n="$1" '$1 == n { print $2 }'
}

threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status"; }

# check name condition-result(0/1) detail: counts a qualitative property for the exit status
checks_failed=0
check() {
  if [ "$2" = 1 ]; then
    echo "ok    $1"
  else
    echo "FAIL  $1${3:+ ($3)}"
    checks_failed=$((checks_failed + 1))
  fi
}
