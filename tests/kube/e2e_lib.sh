# For the tests that run `rootgate serve` behind a real kube-apiserver (tests/kube/*_test.sh):
# sourced with the rootgate binary as $1. Starts nothing by itself. Defines the assertion helpers
# (pass, fail, expect_eq, expect_ne, expect_contains, expect_not_contains, finish), sources serve_lib.sh
# (start_serve, stop_serve) and kube_lib.sh, and adds:
#   e2e_start                 kube_start, or exit with its code (77 skipped / 1)
#   webhook_certs DIR         a CA and a serving certificate for 127.0.0.1 (DIR/ca.crt, tls.*)
#   register_webhook PORT [helm --set args...]  the chart's ValidatingWebhookConfiguration
#                             (helm template --show-only, webhook.url + caBundle) applied
#   kc NAME ARGS...           kubectl; sets out (stdout+stderr) and code
#   expect_allowed / expect_denied NAME    on the last kc: exit code and the API server's message
#   pod_yaml NAME [KIND] [SPEC_FRAGMENT]   manifests for every pod-bearing kind
set -uo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
cd "$root" || exit 1

fails=0; passes=0
pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_eq() { if [ "$2" == "$3" ]; then pass; else fail "$1: got [$2], want [$3]"; fi; }
expect_ne() { if [ "$2" != "$3" ]; then pass; else fail "$1: both are [$2]"; fi; }
expect_contains() { if grep -qF -- "$3" <<<"$2"; then pass; else fail "$1: [$3] not in: $2"; fi; }
expect_not_contains() { if grep -qF -- "$3" <<<"$2"; then fail "$1: [$3] in: $2"; else pass; fi; }
# finish NAME: the closing line and exit code.
finish() {
  echo "$1: $passes passed, $fails failed"
  [ "$fails" -eq 0 ]
  exit
}

# section NAME: a progress line with the seconds since the start (the CTest log shows where
# the time goes).
section() { echo "== $1 (at ${SECONDS}s)"; }

source "$root/tests/serve_lib.sh"
source "$here/kube_lib.sh"
helm="$root/node_modules/.bin/helm"

e2e_start() {
  kube_start
  local rc=$?
  [ "$rc" -eq 0 ] || exit "$rc"
  [ -x "$helm" ] || { echo "FAIL: no helm at $helm (npm ci)" >&2; exit 1; }
}

# webhook_certs DIR: DIR/ca.crt + ca.key, and DIR/tls.crt + tls.key for IP:127.0.0.1 signed by it.
webhook_certs() {
  mkdir -p "$1" && (
    cd "$1" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=rootgate-test-webhook-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null &&
    new_serving_cert . tls
  ) || { echo "FAIL: openssl (webhook certificates)" >&2; exit 1; }
}

# new_serving_cert DIR NAME: DIR/NAME.crt + NAME.key for 127.0.0.1, signed by DIR/ca.*.
new_serving_cert() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" -keyout "$1/$2.key" -out "$1/$2.csr" 2>/dev/null &&
    printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$1/$2.ext" &&
    openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.crt" -CAkey "$1/ca.key" -CAcreateserial -days 2 \
      -extfile "$1/$2.ext" -out "$1/$2.crt" 2>/dev/null
}

# register_webhook PORT [helm args...]: renders the chart's ValidatingWebhookConfiguration for a
# rootgate at https://127.0.0.1:PORT/validate (caBundle: $work/pki/ca.crt), release rg in
# namespace rootgate, and applies it. Waits until the API server's webhook manager has it:
# a dry-run create in a probe namespace reaches rootgate (seen as a new decision in its log,
# $work/$E2E_SERVE_NAME.log).
register_webhook() {
  local port="$1"; shift
  "$helm" template rg charts/rootgate -n rootgate --show-only templates/webhook.yaml \
    --set "webhook.url=https://127.0.0.1:$port/validate" \
    --set "webhook.caBundle=$(base64 -w0 "$work/pki/ca.crt")" \
    --set certificates.mode=existingSecret --set certificates.existingSecret.name=unused \
    --set certificates.existingSecret.caBundle=unused "$@" >"$work/webhook.yaml" ||
    { fail "helm template (webhook): $*"; return 1; }
  kubectl apply -f "$work/webhook.yaml" >/dev/null || { fail "kubectl apply webhook.yaml"; return 1; }
  wait_webhook_active
}

# wait_webhook_active: a server-side dry-run create of a probe pod until it is judged by rootgate
# (the API server picks up webhook configuration changes from an informer, within ~1 s).
wait_webhook_active() {
  kube_namespace e2e-probe
  local _ before
  before="$(grep -c '"name":"probe"' "$work/${E2E_SERVE_NAME:-rootgate}.log" 2>/dev/null)"
  for _ in $(seq 100); do
    pod_yaml probe Pod | kubectl -n e2e-probe create --dry-run=server -f - >/dev/null 2>&1
    sleep 0.2
    [ "$(grep -c '"name":"probe"' "$work/${E2E_SERVE_NAME:-rootgate}.log" 2>/dev/null)" != "$before" ] && return 0
  done
  fail "the webhook never reached rootgate"
  return 1
}

# kc NAME ARGS...: runs kubectl ARGS with stdin passed on; out = stdout+stderr, code = exit code.
kc() {
  local name="$1"; shift
  out="$(kubectl "$@" 2>&1)"; code=$?
  kc_name="$name"
}
expect_allowed() {
  if [ "$code" -eq 0 ]; then pass; else fail "$1: refused (exit $code): $out"; fi
}
# expect_denied NAME [TEXT...]: refused by rootgate (the API server's words for a webhook denial),
# the message naming each TEXT.
expect_denied() {
  local name="$1" t; shift
  if [ "$code" -ne 0 ]; then pass; else fail "$name: allowed: $out"; return; fi
  expect_contains "$name: denial" "$out" 'admission webhook "pods.rootgate.io" denied the request'
  for t in "$@"; do expect_contains "$name: message" "$out" "$t"; done
}

# Security contexts (YAML flow mappings) used by the tests.
SC_NONROOT='{runAsUser: 1000, runAsNonRoot: true}'
SC_ROOT='{runAsUser: 0}'

# pod_spec CONTAINER_SC [POD_EXTRA]: a pod spec (indented by $indent) with one container.
pod_spec() {
  local i="$indent"
  printf '%scontainers:\n%s  - name: app\n%s    image: registry.example/app:1\n%s    securityContext: %s\n' \
    "$i" "$i" "$i" "$i" "$1"
  [ -z "${2:-}" ] || printf '%s%s\n' "$i" "$2"
}

# pod_yaml NAME KIND [CONTAINER_SC] [POD_EXTRA]: a manifest of KIND (Pod, Deployment, ReplicaSet,
# StatefulSet, DaemonSet, Job, CronJob, ReplicationController, PodTemplate) named NAME whose pod
# has one container with that securityContext (default: non-root).
pod_yaml() {
  local name="$1" kind="$2" sc="${3:-$SC_NONROOT}" extra="${4:-}" indent api
  case "$kind" in
    Pod|ReplicationController|PodTemplate) api=v1 ;;
    Job|CronJob) api=batch/v1 ;;
    *) api=apps/v1 ;;
  esac
  printf 'apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  labels: {app: %s}\n' "$api" "$kind" "$name" "$name"
  local tmeta="metadata: {labels: {app: $name}}"
  case "$kind" in
    Pod) echo "spec:"; indent="  "; pod_spec "$sc" "$extra" ;;
    Deployment|ReplicaSet|StatefulSet|DaemonSet)
      printf 'spec:\n  selector: {matchLabels: {app: %s}}\n' "$name"
      [ "$kind" != StatefulSet ] || echo "  serviceName: $name"
      printf '  template:\n    %s\n    spec:\n' "$tmeta"; indent="      "; pod_spec "$sc" "$extra" ;;
    ReplicationController)
      printf 'spec:\n  selector: {app: %s}\n  template:\n    %s\n    spec:\n' "$name" "$tmeta"
      indent="      "; pod_spec "$sc" "$extra" ;;
    PodTemplate) printf 'template:\n  %s\n  spec:\n' "$tmeta"; indent="    "; pod_spec "$sc" "$extra" ;;
    Job) printf 'spec:\n  template:\n    spec:\n      restartPolicy: Never\n'; indent="      "; pod_spec "$sc" "$extra" ;;
    CronJob)
      printf 'spec:\n  schedule: "*/5 * * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n'
      indent="          "; pod_spec "$sc" "$extra" ;;
    *) echo "pod_yaml: unknown kind $kind" >&2; return 1 ;;
  esac
}

# decisions NAME: rootgate's decision log lines ($work/$E2E_SERVE_NAME.log) for objects named NAME.
decisions() {
  jq -cR --arg n "$1" 'fromjson? | select(.msg? == "admission decision" and .name == $n)' \
    "$work/${E2E_SERVE_NAME:-rootgate}.log"
}
