#!/usr/bin/env bash
# Benchmark of `rootgate serve` (issue 3, item 9). Prints figures; it is not a timed test.
#
# wrk POSTs the recorded Pod CREATE (tests/fixtures/admission/003-*) over TLS with keep-alive and
# 8 connections to three servers, one after the other, all with the same certificate:
#   rootgate  `rootgate serve`
#   minimal   an httplib::SSLServer built here from the same Debian cpp-httplib, answering a fixed
#             AdmissionReview reply: the ceiling of the library itself
#   nginx     Debian nginx-light answering the same fixed reply: the ceiling of TLS + HTTP here
#   nginx1    the same nginx with one worker process: one event loop for every connection (not in
#             the default SERVERS)
#   rootgate-library  `rootgate serve --http-parser library`: every request through cpp-httplib's
#             parser, for comparison with rootgate's own (not in the default SERVERS)
#   psa       Kubernetes' own Pod Security Admission webhook (../shared/kube, v1.32.13), the peer a
#             user could run instead, with the real API server of that folder for its namespace
#             lookups (tests/kube/kube_lib.sh); left out, with a message, where that folder, etcd
#             or kubectl is missing
# Each keep-alive measurement also prints the server's context switches per request (voluntary +
# nonvoluntary, summed over /proc/PID/task/*/status before and after) and its CPU per request
# (utime + stime from /proc/PID/stat), its RSS after the run, and the load average when the round
# began (`uptime`), so a noisy machine shows in the figures.
# Idle connections: IDLE_CONNS keep-alive connections (tests/bench/idle_clients.cpp: each
# served one request, then left idle) held for IDLE_SECONDS; the server's CPU over that time as
# a % of one core, then one more request on each connection, its reply time printed
# (rootgate runs with --idle-timeout 120s for this, so the connections stay open).
# Then: the rate with a new TLS connection per request, rootgate's RSS after REQUESTS requests,
# and the time from start to the first 200 from GET /readyz (rootgate and the minimal server).
# Latencies are wrk's own percentiles. wrk shares the CPUs with the server under test, and any
# other load on the machine lowers every figure: the script prints how busy the CPUs were.
#
# usage: tests/bench_serve.sh
# env:   DURATION=10      seconds per wrk measurement
#        REQUESTS=1000000 requests rootgate serves before its RSS is read
#        WARMUP=2         seconds of wrk before each keep-alive measurement
#        ROUNDS=3         the three servers are measured in turn this many times (rootgate,
#                         minimal, nginx, rootgate, ...); the report gives each round and the
#                         medians, and the rootgate/minimal ratio of each round: on a shared
#                         machine a load that comes and goes then shows as a spread, not a bias
#        KEEPALIVE_MAX=1000  requests per connection for the minimal server and nginx: rootgate's
#                         and nginx's value (cpp-httplib's default of 5 costs a TLS handshake
#                         every 5th request)
#        PERF=1           also profile rootgate under wrk with perf: the top symbols, and where
#                         its threads gave up the CPU (sched_switch call chains, by thread state)
#        KEEP_TMP=1       keep the temp dir (certificate, logs, wrk output) and print its path
#        BUILD_DIR=build  where rootgate is built (relative to the repository, or absolute)
#        LOG_LEVEL=info   rootgate's --log-level: info (the default) writes one line per decision
#        PRESET=pss-restricted  rootgate's --preset (the checks the Pod Security webhook makes);
#                         the minimal server and nginx answer rootgate's reply under it
#        SERVERS="rootgate minimal nginx psa"  which servers to measure (in this order per round);
#                         nginx1 and rootgate-library may be added
#        WRK_THREADS=2    wrk's threads (its 8 connections are shared among them); 1 leaves one
#                         of the two cores to the server
#        IDLE_CONNS=1000 IDLE_SECONDS=10  the idle-connection measurement (IDLE_CONNS=0: skipped)
# rootgate runs with --offline: the fixture's image would otherwise be looked up on docker.io,
# which this machine cannot reach (tests/bench_registry.cpp measures lookups).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
duration="${DURATION:-10}"
requests_target="${REQUESTS:-1000000}"
warmup="${WARMUP:-2}"
rounds="${ROUNDS:-3}"
keepalive_max="${KEEPALIVE_MAX:-1000}"
build_dir="${BUILD_DIR:-build}"
log_level="${LOG_LEVEL:-info}"
preset="${PRESET:-pss-restricted}"
servers="${SERVERS:-rootgate minimal nginx psa}"
idle_conns="${IDLE_CONNS:-1000}"
idle_seconds="${IDLE_SECONDS:-10}"
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
bin="$build_dir/rootgate"
fixture="$root/tests/fixtures/admission/003-pod-create-no-securitycontext.json"
bench_dir="$root/tests/bench"
path="/validate?timeout=10s"
connections=8
threads="${WRK_THREADS:-2}"

# shellcheck source=tests/perf_lib.sh
source "$root/tests/perf_lib.sh"

# --- tools ---------------------------------------------------------------------------------
install_missing() {
  local missing=() pkg sudo=""
  for pkg in wrk nginx-light linux-perf jq curl openssl g++ pkg-config libcpp-httplib-dev; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then return; fi
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  note "installing ${missing[*]}"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
}

build_rootgate() {
  if [ -x "$bin" ]; then return; fi
  note "building rootgate (scripts/build.sh)"
  BUILD_DIR="$build_dir" scripts/build.sh >&2
}

has_serve() { # `rootgate serve` exists when its help or the verb list names it
  timeout 5 "$bin" serve --help 2>&1 | grep -q -- "--listen" ||
    "$bin" --help 2>&1 | grep -qE '^ +serve( |$)'
}

compile_helpers() {
  local src flags
  flags="$(pkg-config --cflags --libs cpp-httplib)"
  for src in minimal_server ready_probe idle_clients; do
    # shellcheck disable=SC2086 # pkg-config output is a word list
    g++ -O2 -std=c++20 -o "$work/$src" "$bench_dir/$src.cpp" $flags -lssl -lcrypto -pthread
  done
}

# The Pod Security webhook and the API server it needs (namespace lookups): sets psa_bin, or
# takes psa out of `servers` with a message.
setup_psa() {
  case " $servers " in *" psa "*) ;; *) return 0 ;; esac
  # shellcheck source=tests/kube/kube_lib.sh
  source "$root/tests/kube/kube_lib.sh"
  local shared="" rc=0
  shared="$(kube_shared_dir)" || true
  local xz="${KUBE_PSA_WEBHOOK:-$shared/pod-security-webhook-$KUBE_VERSION.xz}"
  if [ -z "$shared" ] && [ -z "${KUBE_PSA_WEBHOOK:-}" ] || [ ! -f "$xz" ]; then
    note "no shared/kube/pod-security-webhook-$KUBE_VERSION.xz: the Pod Security webhook peer is left out"
    servers="${servers/psa/}"
    return 0
  fi
  psa_bin="$KUBE_CACHE_DIR/pod-security-webhook-$KUBE_VERSION"
  if [ ! -x "$psa_bin" ]; then
    mkdir -p "$KUBE_CACHE_DIR"
    xz -dc "$xz" >"$psa_bin.$$" && chmod +x "$psa_bin.$$" && mv -f "$psa_bin.$$" "$psa_bin" ||
      die "cannot unpack $xz"
  fi
  note "psa: starting etcd and kube-apiserver for the Pod Security webhook's namespace lookups"
  CI="" kube_start >&2 || rc=$?
  # kube_lib's stop steps are written for scripts without `set -e` (a process already gone makes
  # its `kill` fail): run them, and then ours, with it off.
  trap 'set +e; kube_stop; cleanup' EXIT
  if [ "$rc" != 0 ]; then
    note "the API server did not start (exit $rc): the Pod Security webhook peer is left out"
    servers="${servers/psa/}"
    return 0
  fi
  kubectl create namespace "$(jq -r .request.namespace "$work/body.json")" >/dev/null
  # A new API server keeps both cores busy for a while (its controllers' first lists, RBAC
  # bootstrap, etcd compaction): the first round would measure that, not the servers. Wait until
  # the CPUs are under 10% busy (30 s at most).
  local busy i
  for ((i = 0; i < 30; i++)); do
    busy="$(cpu_busy_percent)"
    [ "$busy" -lt 10 ] && break
  done
  note "psa: the API server settled: CPUs ${busy}% busy after ${i}s"
  printf 'apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults: {enforce: restricted, enforce-version: latest}\n' \
    >"$work/psa.yaml"
}

# --- process figures (Linux /proc) -----------------------------------------------------------
# The server process and its children (nginx's workers).
server_procs() { echo "$1"; pgrep -P "$1" || true; }
ctx_switches() { # pid: voluntary + nonvoluntary context switches of all their live threads
  local p
  for p in $(server_procs "$1"); do cat /proc/"$p"/task/*/status 2>/dev/null; done |
    awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }'
}
cpu_ticks() { # pid: utime + stime of the processes (exited threads included), clock ticks
  local p
  for p in $(server_procs "$1"); do cat "/proc/$p/stat" 2>/dev/null; done |
    awk '{ sub(/^.*\) /, ""); n += $12 + $13 } END { print n + 0 }'
}
load_now() { awk '{ print $1 }' /proc/loadavg; }
clk_tck="$(getconf CLK_TCK)"

# --- inputs --------------------------------------------------------------------------------
make_body_and_reply() {
  jq -c .body "$fixture" >"$work/body.json"
  uid="$(jq -r .request.uid "$work/body.json")"
  # The fixed reply the minimal server and nginx send: rootgate's own reply to this body.
  "$bin" review --preset "$preset" "$work/body.json" | jq -j -c . >"$work/reply.json"
  [ "$(jq -r '.response.allowed' "$work/reply.json")" = false ] ||
    die "rootgate review did not deny the recorded Pod CREATE"
}

# Escapes text for a single-quoted nginx string: backslash and quote get a backslash; `$` would
# start a variable, so it becomes ${rg_dollar}, which the config defines as "$" with geo.
nginx_quote() {
  local text="$1"
  text="${text//\\/\\\\}"
  text="${text//\'/\\\'}"
  text="${text//\$/\$\{rg_dollar\}}"
  printf '%s' "$text"
}

write_nginx_conf() { # port [workers]
  local conf dir="$work/nginx"
  mkdir -p "$dir"
  conf="$(<"$bench_dir/nginx.conf.in")"
  conf="${conf//worker_processes auto;/worker_processes ${2:-auto};}"
  conf="${conf//@DIR@/"$dir"}"
  conf="${conf//@PORT@/"$1"}"
  conf="${conf//@CERT@/"$work/tls.crt"}"
  conf="${conf//@KEY@/"$work/tls.key"}"
  conf="${conf//@KEEPALIVE@/"$keepalive_max"}"
  conf="${conf//@REPLY@/"$(nginx_quote "$(<"$work/reply.json")")"}"
  printf '%s\n' "$conf" >"$dir/nginx.conf"
}

# --- servers -------------------------------------------------------------------------------
start_server() { # name port; sets server_pid
  local log="$work/$1.log"
  local cmd
  case "$1" in
    rootgate | rootgate-library | minimal)
      server_command "$1" "$2"
      "${cmd[@]}" >"$log" 2>&1 &
      ;;
    nginx | nginx1)
      if [ "$1" = nginx1 ]; then write_nginx_conf "$2" 1; else write_nginx_conf "$2"; fi
      nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" >"$log" 2>&1 &
      ;;
    psa)
      "$psa_bin" --config "$work/psa.yaml" --kubeconfig "$KUBECONFIG" --bind-address 127.0.0.1 \
        --secure-port "$2" --tls-cert-file "$work/tls.crt" --tls-private-key-file "$work/tls.key" \
        >"$log" 2>&1 &
      ;;
  esac
  server_pid=$!
  pids+=("$server_pid")
}

stop_server() { # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget_pid "$1"
}

post_body() { # port; prints the reply
  curl -sS --max-time 5 --cacert "$work/tls.crt" -H "Content-Type: application/json" \
    --data-binary "@$work/body.json" "https://127.0.0.1:$1$path"
}

wait_answering() { # name port pid: up to 10 s for the first answer to the body
  local i
  for ((i = 0; i < 1000; i++)); do
    kill -0 "$3" 2>/dev/null || { cat "$work/$1.log" >&2; return 1; }
    post_body "$2" >/dev/null 2>&1 && return 0
    sleep 0.01
  done
  return 1
}

verify_reply() { # name port: the reply denies and carries the request's uid
  local reply
  reply="$(post_body "$2")" || return 1
  if ! jq -e --arg uid "$uid" '.response.allowed == false and .response.uid == $uid' \
      >/dev/null 2>&1 <<<"$reply"; then
    echo "$1: wrong reply: $reply" >&2
    return 1
  fi
  if [ "$1" = rootgate ] && [ "$(jq -S -c . <<<"$reply")" != "$(jq -S -c . "$work/reply.json")" ]; then
    note "rootgate serve's reply differs from rootgate review's (still a denial with the uid)"
  fi
}

# --- wrk -----------------------------------------------------------------------------------
# run_wrk label port seconds [wrk args...]: sets what run_wrk_parse sets (w_requests w_rps w_p50
# w_p99 ...), and notes wrk's errors
run_wrk() {
  local label="$1" port="$2" seconds="$3" out
  shift 3
  out="$work/wrk-$label.txt"
  LOAD_BODY="$work/body.json" LOAD_THREADS="$threads" wrk -t"$threads" -c"$connections" \
    -d"${seconds}s" --latency -s "$wrk_script" "$@" "https://127.0.0.1:$port$path" >"$out" 2>&1 ||
    { cat "$out" >&2; die "wrk failed ($label)"; }
  run_wrk_parse "$out" "$label"
  [ "$w_requests" -gt 0 ] || { cat "$out" >&2; die "no request completed ($label)"; }
  # status errors count wrk's own Non-2xx replies
  if [ $((w_failures + w_connect)) -gt 0 ]; then
    note "$label: wrk reported errors: connect=$w_connect read=$w_read write=$w_write status=$w_status timeout=$w_timeout"
  fi
}
verdict() { # value op limit
  awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {
    ok = (op == ">=") ? v >= l : v <= l; printf "%s", ok ? "met" : "MISSED" }'
}

# --- measurements --------------------------------------------------------------------------
declare -A rps p50 p99 close_rps ready_ms ready_all round_rps round_p50 round_p99 all_rps all_p99
declare -A round_cs round_cpu round_rss round_rss_kib round_load idle_cpu idle_cs idle_line idle_rss
psa_bin="" rootgate_extra=()
round_ratios="" median_ratio=""
rss_start="" rss_end="" rss_peak="" rss_requests="" busy_before=""

server_command() { # name port: sets cmd to the command line that starts the server
  case "$1" in
    rootgate | rootgate-library)
      cmd=("$bin" serve --listen "127.0.0.1:$2" --tls-cert "$work/tls.crt" \
        --tls-key "$work/tls.key" --offline --log-level "$log_level" --preset "$preset" \
        ${rootgate_extra[@]+"${rootgate_extra[@]}"})
      if [ "$1" = rootgate-library ]; then cmd+=(--http-parser library); fi
      ;;
    minimal)
      cmd=("$work/minimal_server" "$work/tls.crt" "$work/tls.key" 127.0.0.1 "$2" \
        "$work/reply.json" "$keepalive_max")
      ;;
  esac
}

measure_readiness() { # name: median of 5 starts, milliseconds to the first 200 from /readyz
  local i port t times=() cmd
  for i in 1 2 3 4 5; do
    port="$(free_port)"
    server_command "$1" "$port"
    t="$("$work/ready_probe" "$work/tls.crt" "$port" 5000 "${cmd[@]}")" ||
      { note "$1 was not ready within 5 s"; return 0; }
    times+=("$t")
  done
  ready_ms[$1]="$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)"
  ready_all[$1]="$(printf '%.1f ' "${times[@]}")"
}

# measure_server name round: keep-alive rate and latency; in round 1 also, for rootgate and
# minimal, the rate with a new TLS connection per request, and for rootgate the RSS after
# REQUESTS requests.
measure_server() {
  local name="$1" round="$2" port served=0
  port="$(free_port)"
  start_server "$name" "$port"
  local pid="$server_pid"
  wait_answering "$name" "$port" "$pid" || die "$name did not answer on port $port"
  if [ "$round" = 1 ]; then
    verify_reply "$name" "$port" || die "$name answered the recorded Pod CREATE wrongly"
  fi
  if [ "$name" = rootgate ] && [ "$round" = 1 ]; then rss_start="$(rss_kib "$pid")"; fi

  note "$name (round $round of $rounds): warm-up ${warmup}s, then keep-alive ${duration}s"
  run_wrk "$name-warmup" "$port" "$warmup"
  served=$((served + w_requests))
  local cs0 cpu0
  cs0="$(ctx_switches "$pid")" cpu0="$(cpu_ticks "$pid")"
  run_wrk "$name-keepalive-$round" "$port" "$duration"
  served=$((served + w_requests))
  round_rps[$name,$round]="$w_rps" round_p50[$name,$round]="$w_p50" round_p99[$name,$round]="$w_p99"
  round_cs[$name,$round]="$(awk -v a="$cs0" -v b="$(ctx_switches "$pid")" -v n="$w_requests" \
    'BEGIN { printf "%.2f", (b - a) / n }')"
  round_cpu[$name,$round]="$(awk -v a="$cpu0" -v b="$(cpu_ticks "$pid")" -v n="$w_requests" -v t="$clk_tck" \
    'BEGIN { printf "%.1f", (b - a) / t * 1e6 / n }')"
  round_rss_kib[$name,$round]="$(rss_kib "$pid")"
  round_rss[$name,$round]="$(mib "${round_rss_kib[$name,$round]}")"

  if { [ "$name" = rootgate ] || [ "$name" = minimal ]; } && [ "$round" = 1 ]; then
    note "$name: new TLS connection per request ${duration}s"
    run_wrk "$name-close" "$port" "$duration" -H "Connection: close"
    served=$((served + w_requests))
    close_rps[$name]="$w_rps"
  fi

  if [ "$name" = rootgate ] && [ "$round" = 1 ]; then
    if [ "${PERF:-0}" = 1 ]; then profile "$pid" "$port"; fi
    local left seconds rate="${round_rps[rootgate,1]}"
    while [ "$served" -lt "$requests_target" ]; do
      left=$((requests_target - served))
      seconds=$(((left + rate - 1) / rate))
      note "rootgate: $served requests served, $left to go (~${seconds}s)"
      run_wrk rootgate-rss "$port" "$seconds"
      served=$((served + w_requests))
    done
    rss_end="$(rss_kib "$pid")"
    rss_peak="$(hwm_kib "$pid")"
    rss_requests="$served"
  fi
  stop_server "$pid"
}

# measure_idle name: IDLE_CONNS kept-alive connections left idle for IDLE_SECONDS; the server's
# CPU (% of one core) and context switches over that time, its RSS, then the reply time of one
# more request on each connection.
measure_idle() {
  local name="$1" port pid out="$work/idle-$1.txt" client i cs0 cpu0
  port="$(free_port)"
  if [ "$name" = rootgate ]; then rootgate_extra=(--idle-timeout 120s); fi
  start_server "$name" "$port"
  pid="$server_pid"
  rootgate_extra=()
  wait_answering "$name" "$port" "$pid" || die "$name did not answer on port $port"
  note "$name: $idle_conns idle keep-alive connections for ${idle_seconds}s"
  "$work/idle_clients" "$work/tls.crt" "$port" "$path" "$work/body.json" "$idle_conns" \
    "$((idle_seconds + 3))" >"$out" 2>&1 &
  client=$!
  pids+=("$client")
  for ((i = 0; i < 6000; i++)); do
    grep -q '^ready' "$out" && break
    kill -0 "$client" 2>/dev/null || break
    sleep 0.05
  done
  grep -q '^ready' "$out" || { cat "$out" >&2; die "idle_clients did not get ready ($name)"; }
  sleep 1 # the last connection's linger
  cs0="$(ctx_switches "$pid")" cpu0="$(cpu_ticks "$pid")"
  sleep "$idle_seconds"
  idle_cpu[$name]="$(awk -v a="$cpu0" -v b="$(cpu_ticks "$pid")" -v t="$clk_tck" -v s="$idle_seconds" \
    'BEGIN { printf "%.1f", 100 * (b - a) / t / s }')"
  idle_cs[$name]="$(( $(ctx_switches "$pid") - cs0 ))"
  idle_rss[$name]="$(mib "$(rss_kib "$pid")")"
  wait "$client" || true
  forget_pid "$client"
  idle_line[$name]="$(grep '^IDLE' "$out" || echo "no IDLE line: $(tail -2 "$out")")"
  if grep -q "first failure" "$out"; then note "$name: $(grep "first failure" "$out")"; fi
  stop_server "$pid"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The figures of every round, and their medians in rps, p50 and p99; the rootgate/minimal ratio
# of each round (its two runs minutes apart at most), and their median.
summarize_rounds() {
  local name r values
  for name in $servers; do
    [ -n "${round_rps[$name,1]:-}" ] || continue
    for field in rps p50 p99; do
      values=()
      for r in $(seq 1 "$rounds"); do
        case "$field" in
          rps) values+=("${round_rps[$name,$r]}") ;;
          p50) values+=("${round_p50[$name,$r]}") ;;
          p99) values+=("${round_p99[$name,$r]}") ;;
        esac
      done
      case "$field" in
        rps) rps[$name]="$(median "${values[@]}")"; all_rps[$name]="${values[*]}" ;;
        p50) p50[$name]="$(median "${values[@]}")" ;;
        p99) p99[$name]="$(median "${values[@]}")"; all_p99[$name]="${values[*]}" ;;
      esac
    done
  done
  if [ -n "${round_rps[rootgate,1]:-}" ]; then
    values=()
    for r in $(seq 1 "$rounds"); do
      values+=("$(ratio "${round_rps[rootgate,$r]}" "${round_rps[minimal,$r]:-0}")")
    done
    round_ratios="${values[*]}"
    median_ratio="$(median "${values[@]}")"
  fi
}

profile() { # pid port: perf on rootgate during a wrk run; the report goes to perf.txt
  note "rootgate: perf record during ${duration}s of wrk"
  # DWARF call graphs: the Debian libraries have no frame pointers
  perf record --call-graph dwarf,16384 -F 499 -p "$1" -o "$work/perf.data" -- sleep "$duration" \
    >/dev/null 2>&1 &
  local perf_pid=$!
  pids+=("$perf_pid")
  run_wrk rootgate-perf "$2" "$duration"
  wait "$perf_pid" || true
  {
    echo "== perf: where rootgate's CPU time goes under wrk (${w_rps} requests/s while profiled)"
    echo "-- self time by object"
    perf_report --no-children -F overhead,dso --percent-limit 1
    echo "-- self time by symbol"
    perf_report --no-children -F overhead,dso,sym --percent-limit 0.8 | head -30
    echo "-- rootgate's own functions: time with callees, self time"
    perf_report --children --sort sym --percent-limit 0.5 | grep -E 'rootgate::' | head -20
  } >"$work/perf.txt" 2>&1 || true
  note "rootgate: perf record -e sched:sched_switch during ${duration}s of wrk"
  perf record -e sched:sched_switch --call-graph dwarf,8192 -p "$1" -o "$work/sched.data" \
    -- sleep "$duration" >/dev/null 2>&1 &
  perf_pid=$!
  pids+=("$perf_pid")
  run_wrk rootgate-sched "$2" "$duration"
  wait "$perf_pid" || true
  {
    echo "== perf: where rootgate's threads gave up the CPU under wrk (${w_rps} requests/s; state S: blocked, R: preempted)"
    perf script -i "$work/sched.data" -F trace,ip,sym 2>/dev/null | switch_sites | head -12
  } >>"$work/perf.txt" 2>&1 || true
}

# Reads `perf script -F trace,ip,sym` of sched_switch events with call chains; prints the share of
# switches by the thread's state and the first two frames past the system call (library wrappers
# for locks, waits and I/O skipped).
switch_sites() {
  python3 -c '
import collections, re, sys
counts = collections.Counter()
def add(block):
    if not block:
        return
    m = re.search(r"prev_state=(\S+)", block[0])
    names = [l.split(None, 1)[1].strip() if len(l.split(None, 1)) > 1 else l.strip() for l in block[1:]]
    key = "(kernel) " + " < ".join(names[:3])
    for i, f in enumerate(names):
        if "entry_SYSCALL" in f:
            rest = [x for x in names[i + 1:] if not re.match(
                r"(__GI|__libc|__futex|futex_|___pthread|__pthread|pthread_|std::|__lll|__new|__condvar|syscall|\[unknown\]|_IO)", x)]
            key = " < ".join(rest[:2])
            break
    counts[(m.group(1) if m else "?", key)] += 1
block = []
for line in sys.stdin:
    if line.strip():
        block.append(line.rstrip())
    else:
        add(block)
        block = []
add(block)
total = sum(counts.values()) or 1
for (state, key), n in counts.most_common(12):
    print(f"{100 * n / total:5.1f}%  {state}  {key[:160]}")
'
}

perf_report() { # perf report options; template arguments and parameter lists are elided
  perf report -i "$work/perf.data" --stdio -g none -q "$@" 2>/dev/null |
    sed -e 's/ *$//' -e ':a' -e 's/<[^<>]*>/{}/' -e 'ta' -e 's/([^()]*)//g' | grep .
}

# --- report --------------------------------------------------------------------------------
report() {
  local name
  echo
  echo "== rootgate serve benchmark: POST $path, the recorded Pod CREATE ($(wc -c <"$work/body.json") bytes)"
  echo "   wrk -t$threads -c$connections -d${duration}s --latency, TLS (EC P-256), keep-alive; $(nproc) CPUs"
  echo "   minimal and nginx close a connection after $keepalive_max requests"
  echo "   CPUs ${busy_before}% busy in the second before the run; $rounds rounds, medians shown"
  printf '%-10s %12s %10s %10s   %s\n' server "requests/s" "p50 ms" "p99 ms" "each round: requests/s | p99 ms"
  for name in $servers; do
    if [ -n "${rps[$name]:-}" ]; then
      printf '%-10s %12s %10s %10s   %s | %s\n' "$name" "${rps[$name]}" "${p50[$name]}" "${p99[$name]}" \
        "${all_rps[$name]}" "${all_p99[$name]}"
    else
      printf '%-10s %12s\n' "$name" "not measured"
    fi
  done
  echo
  if [ -n "${rps[rootgate]:-}" ]; then
    local lowest
    lowest="$(printf '%s\n' $round_ratios | sort -g | head -1)"
    echo "rootgate/minimal  $median_ratio  (median of the rounds' ratios: $round_ratios)  (target >= 0.80 in every round: $(verdict "$lowest" ">=" 0.8))"
    echo "rootgate/nginx    $(ratio "${rps[rootgate]}" "${rps[nginx]:-0}")  (reported as it is)"
    echo "rootgate p99      ${p99[rootgate]} ms  (target <= 1 ms: $(verdict "${p99[rootgate]}" "<=" 1))"
    for name in minimal nginx nginx1 rootgate-library; do
      if [ -n "${p99[$name]:-}" ]; then echo "  the same run's p99: $name ${p99[$name]} ms"; fi
    done
    if [ -n "${rps[rootgate-library]:-}" ]; then
      echo "rootgate/rootgate-library  $(ratio "${rps[rootgate]}" "${rps[rootgate-library]}")  (its own request reader against cpp-httplib's)"
    fi
  else
    echo "rootgate serve not built yet: ratios, RSS and readiness not measured"
  fi
  echo "minimal/nginx     $(ratio "${rps[minimal]:-0}" "${rps[nginx]:-0}")"
  echo
  echo "new TLS connection per request (Connection: close):"
  for name in rootgate minimal; do
    if [ -n "${close_rps[$name]:-}" ]; then
      printf '  %-10s %8s requests/s\n' "$name" "${close_rps[$name]}"
    fi
  done
  if [ -n "${close_rps[rootgate]:-}" ]; then
    echo "  rootgate/minimal  $(ratio "${close_rps[rootgate]}" "${close_rps[minimal]:-0}")"
  fi
  if [ -n "$rss_end" ]; then
    echo
    echo "rootgate RSS: $(mib "$rss_start") MiB when ready, $(mib "$rss_end") MiB after $rss_requests requests (peak $(mib "$rss_peak") MiB)  (target <= 32 MiB: $(verdict "$(mib "$rss_end")" "<=" 32))"
  fi
  echo
  echo "ready: ms from start to the first 200 from GET /readyz (median of 5 starts)"
  for name in rootgate minimal; do
    if [ -n "${ready_ms[$name]:-}" ]; then
      printf '  %-10s %6.1f ms  (%s)' "$name" "${ready_ms[$name]}" "${ready_all[$name]% }"
      if [ "$name" = rootgate ]; then
        printf '  (target <= 100 ms: %s)' "$(verdict "${ready_ms[$name]}" "<=" 100)"
      fi
      echo
    fi
  done
  echo
  echo "each round (load average at its start): requests/s, p50/p99 ms, context switches and CPU µs per request, RSS MiB after the run"
  local r
  for r in $(seq 1 "$rounds"); do
    echo "  round $r (load ${round_load[$r]}):"
    for name in $servers; do
      [ -n "${round_rps[$name,$r]:-}" ] || continue
      printf '    %-9s %8s req/s  p50 %5s  p99 %6s ms  %5s cs/req  %6s µs CPU/req  RSS %6s MiB\n' "$name" \
        "${round_rps[$name,$r]}" "${round_p50[$name,$r]}" "${round_p99[$name,$r]}" \
        "${round_cs[$name,$r]}" "${round_cpu[$name,$r]}" "${round_rss[$name,$r]}"
    done
  done
  if [ -n "${round_rps[psa,1]:-}" ] && [ -n "${round_rps[rootgate,1]:-}" ]; then
    echo
    echo "rootgate (--preset $preset) vs the Pod Security webhook, each round:"
    for r in $(seq 1 "$rounds"); do
      local rr pr mr
      rr="$(ratio3 "${round_rps[rootgate,$r]}" "${round_rps[psa,$r]}")"
      pr="$(ratio3 "${round_p99[rootgate,$r]}" "${round_p99[psa,$r]}")"
      # from KiB, four decimals: 14.0 / 55.9 MiB rounds to 0.250 but may be over it
      mr="$(awk -v a="${round_rss_kib[rootgate,$r]}" -v b="${round_rss_kib[psa,$r]}" 'BEGIN { printf "%.4f", a / b }')"
      printf '  round %s (load %s): rate %s× (target >= 2: %s)  p99 %s× (target <= 0.2: %s)  RSS %s× (target <= 0.25: %s)\n' \
        "$r" "${round_load[$r]}" "$rr" "$(verdict "$rr" ">=" 2)" "$pr" "$(verdict "$pr" "<=" 0.2)" \
        "$mr" "$(verdict "$mr" "<=" 0.25)"
    done
  fi
  if [ -n "${idle_line[*]:-}" ]; then
    echo
    echo "idle: $idle_conns kept-alive connections idle for ${idle_seconds}s, then one request on each in turn"
    for name in $servers; do
      [ -n "${idle_line[$name]:-}" ] || continue
      printf '  %-9s CPU %5s%% of one core (target < 5%%), %s context switches, RSS %s MiB; %s\n' "$name" \
        "${idle_cpu[$name]}" "${idle_cs[$name]}" "${idle_rss[$name]}" "${idle_line[$name]#IDLE }"
    done
  fi
  if [ -s "$work/perf.txt" ]; then
    echo
    cat "$work/perf.txt"
  fi
}

main() {
  install_missing
  build_rootgate
  work="$(mktemp -d "${TMPDIR:-/tmp}/rootgate-bench.XXXXXX")"
  # measure a copy, so that a rebuild during the run does not change the binary under test
  cp "$bin" "$work/rootgate"
  bin="$work/rootgate"
  compile_helpers
  make_certificate "$work/tls"
  make_body_and_reply
  busy_before="$(cpu_busy_percent)"
  if [ "$busy_before" -ge 10 ]; then
    note "the machine was ${busy_before}% busy before the run: figures will be low and noisy"
  fi
  has_serve || die "$bin has no serve verb"
  note "rootgate: readiness (5 starts)"
  measure_readiness rootgate
  note "minimal: readiness (5 starts)"
  measure_readiness minimal
  setup_psa
  local round name
  for round in $(seq 1 "$rounds"); do
    round_load[$round]="$(load_now)"
    note "round $round: $(uptime)"
    for name in $servers; do measure_server "$name" "$round"; done
  done
  if [ "$idle_conns" -gt 0 ]; then
    for name in $servers; do
      case "$name" in rootgate | psa) measure_idle "$name" ;; esac
    done
  fi
  summarize_rounds
  report
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then main "$@"; fi
