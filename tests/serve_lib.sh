# For shell tests that run `rootgate serve` in the background: sourced after cli_lib.sh (uses
# bin, work, fail, pass). Servers left running are stopped when the test exits.
serve_pids=()
trap 'for p in "${serve_pids[@]}"; do kill "$p" 2>/dev/null; done; rm -rf "$work"' EXIT

# start_serve NAME ARGS...: `$bin serve --listen 127.0.0.1:0 --log-format json ARGS...`, stderr
# in $work/NAME.log. Waits for its "listening" line and sets serve_pid and serve_port; on failure
# (exit, or no line within 60 s: sanitizer builds start slower) fails the test and returns 1.
start_serve() {
  local name="$1"; shift
  "$bin" serve --listen 127.0.0.1:0 --log-format json "$@" >"$work/$name.out" 2>"$work/$name.log" &
  serve_pid=$!; serve_pids+=("$serve_pid"); serve_port=""
  local address
  for _ in $(seq 600); do
    address="$(jq -rR 'fromjson? | select(.msg? == "listening") | .address' "$work/$name.log" 2>/dev/null | head -1)"
    if [ -n "$address" ]; then serve_port="${address##*:}"; return 0; fi
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "$name: rootgate serve did not start: $(cat "$work/$name.log")"
  return 1
}

# stop_serve PID NAME: SIGTERM and wait. Anything but exit 0 fails the test: a clean shutdown
# exits 0, so another code is a crash or a sanitizer report (leaks are checked at exit).
stop_serve() {
  kill -TERM "$1" 2>/dev/null
  wait "$1"
  local code=$?
  if [ "$code" -eq 0 ]; then pass; else fail "$2: rootgate serve exited $code on SIGTERM: $(tail -20 "$work/$2.log")"; fi
}
