#!/usr/bin/env bash
# Faults under load (issue 7, part 3): while wrk POSTs the recorded Pod CREATE over TLS
# (keep-alive, 8 connections; the server closes a connection after 1000 requests, so new TLS
# handshakes keep coming), AT seconds into each DURATION-second run:
#   rotation      the certificate is replaced as the kubelet does it: a new `..data` symlink
#                 renamed over the old one (tls.crt -> ..data/tls.crt)
#   policy-good   the policy file is replaced by a valid one (enforce -> warn)
#   policy-bad    the policy file is replaced by an invalid one (the last good one must stay)
#   sigterm       the server gets SIGTERM
# Prints wrk's errors by kind for each. Passes (exit 0) when no run has a read, write, status or
# timeout error, the first three have no connect error either (after SIGTERM refused connections
# are expected: wrk counts them, and TLS handshakes cut by the closing listener, as connect
# errors), each change took effect (new certificate served, verdict changed, bad policy counted
# and the good one kept) and the server exited 0 after SIGTERM.
#
# usage: tests/load_faults.sh
# env:   BUILD_DIR=build  DURATION=6  AT=2  KEEP_TMP=1
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=tests/load/load_lib.sh
source "$root/tests/load/load_lib.sh"

duration="${DURATION:-6}"
at="${AT:-2}"

kubelet_publish() { # mount version cert-prefix: a new ..data, as the kubelet swaps a Secret volume
  local mount="$1" version="$2"
  mkdir -p "$mount/..$version"
  cp "$3.crt" "$mount/..$version/tls.crt"
  cp "$3.key" "$mount/..$version/tls.key"
  ln -sfn "..$version" "$mount/..data_tmp"
  mv -T "$mount/..data_tmp" "$mount/..data"
  [ -L "$mount/tls.crt" ] || ln -s ..data/tls.crt "$mount/tls.crt"
  [ -L "$mount/tls.key" ] || ln -s ..data/tls.key "$mount/tls.key"
}

write_atomic() { # file text
  printf '%s' "$2" >"$1.tmp"
  mv "$1.tmp" "$1"
}

served_fingerprint() { # port
  openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null |
    openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}
file_fingerprint() { openssl x509 -in "$1" -noout -fingerprint -sha256 | cut -d= -f2; }

labelled() { # name labels: a labelled sample from /metrics on $health_port
  curl -s --max-time 5 "http://127.0.0.1:$health_port/metrics" 2>/dev/null |
    awk -v s="$1{$2}" '$1 == s { print $2 }'
}

allowed() { post_body "$port" | jq -r .response.allowed 2>/dev/null; }

# under_load label action: wrk for $duration s, the action $at s in; sets the w_* figures.
under_load() {
  local label="$1" action="$2"
  run_wrk "$label" "$port" "$duration" &
  local runner=$!
  sleep "$at"
  "$action"
  wait "$runner" || true
  run_wrk_parse "$work/wrk-$label.txt" "$label"
  requests["$label"]="$w_requests"
  errors["$label"]="$(wrk_errors)"
  failures["$label"]="$w_failures"
  connects["$label"]="$w_connect"
}

rotate() { kubelet_publish "$work/secret" v2 "$work/cert2"; }
policy_good() { write_atomic "$work/policy.yaml" $'preset: default\nmode: warn\n'; }
policy_bad() { write_atomic "$work/policy.yaml" $'preset: default\nmode: warn\nrules:\n  notARule: deny\n'; }
sigterm() { kill -TERM "$server_pid"; }

main() {
  setup_load
  declare -gA requests errors failures connects
  make_certificate "$work/cert2"
  kubelet_publish "$work/secret" v1 "$work/cert"
  write_atomic "$work/policy.yaml" $'preset: default\nmode: enforce\n'
  port="$(free_port)"
  start_rootgate "$port" --tls-cert "$work/secret/tls.crt" --tls-key "$work/secret/tls.key" \
    --policy "$work/policy.yaml" --reload-interval 200ms
  run_wrk warmup "$port" 1

  local fp_before fp_after fp_new verdict_before verdict_good verdict_bad
  fp_before="$(served_fingerprint "$port")"
  fp_new="$(file_fingerprint "$work/cert2.crt")"
  note "rotation under load"
  under_load rotation rotate
  fp_after="$(served_fingerprint "$port")"
  local cert_ok cert_err
  cert_ok="$(labelled rootgate_certificate_reloads_total 'result="success"')"
  cert_err="$(labelled rootgate_certificate_reloads_total 'result="error"')"

  verdict_before="$(allowed)"
  note "good policy reload under load"
  under_load policy-good policy_good
  verdict_good="$(allowed)"
  note "bad policy reload under load"
  under_load policy-bad policy_bad
  sleep 0.5
  verdict_bad="$(allowed)"
  local pol_ok pol_err
  pol_ok="$(labelled rootgate_policy_reloads_total 'result="success"')"
  pol_err="$(labelled rootgate_policy_reloads_total 'result="error"')"

  note "SIGTERM under load"
  local pid="$server_pid"
  under_load sigterm sigterm
  stop_rootgate "$pid"
  local exit_code="$stop_code"

  echo
  echo "== faults under load: wrk -t2 -c${LOAD_CONNECTIONS:-8} -d${duration}s, the change ${at}s in; POST $path over TLS"
  printf '%-12s %10s  %s\n' "run" "requests" "wrk errors"
  local run
  for run in rotation policy-good policy-bad sigterm; do
    printf '%-12s %10s  %s\n' "$run" "${requests[$run]}" "${errors[$run]}"
  done
  echo "certificate: served before ${fp_before:0:23}..., after ${fp_after:0:23}... (new one ${fp_new:0:23}...);" \
    "reloads success=$cert_ok error=$cert_err"
  echo "policy: allowed before=$verdict_before, after the good reload=$verdict_good, after the bad one=$verdict_bad;" \
    "reloads success=$pol_ok error=$pol_err"
  echo "exit status after SIGTERM: $exit_code"
  grep -E '"level":"(error|critical)"' "$work/rootgate-$port.log" | grep -v "policy reload failed" | head -3 || true
  echo
  for run in rotation policy-good policy-bad; do
    check "$run: no failed request" \
      "$([ "${failures[$run]}" -eq 0 ] && [ "${connects[$run]}" -eq 0 ] && echo 1 || echo 0)" "${errors[$run]}"
  done
  check "sigterm: no failed request (connect errors after SIGTERM allowed)" \
    "$([ "${failures[sigterm]}" -eq 0 ] && echo 1 || echo 0)" "${errors[sigterm]}"
  check "rotation: the new certificate is served" "$([ -n "$fp_after" ] && [ "$fp_after" = "$fp_new" ] && [ "$fp_before" != "$fp_new" ] && echo 1 || echo 0)"
  check "rotation: one reload counted" "$([ "$cert_ok" = 1 ] && [ "$cert_err" = 0 ] && echo 1 || echo 0)" "success=$cert_ok error=$cert_err"
  check "policy: good reload took effect, bad one kept it" \
    "$([ "$verdict_before" = false ] && [ "$verdict_good" = true ] && [ "$verdict_bad" = true ] && echo 1 || echo 0)"
  check "policy: reloads counted" "$([ "$pol_ok" = 1 ] && [ "$pol_err" = 1 ] && echo 1 || echo 0)" "success=$pol_ok error=$pol_err"
  check "sigterm: exit 0" "$([ "$exit_code" = 0 ] && echo 1 || echo 0)" "exit $exit_code"
  [ "$checks_failed" -eq 0 ]
}

main "$@"
