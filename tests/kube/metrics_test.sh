#!/usr/bin/env bash
# What the API server measures (issue 12, item 5): N pod creates (one `kubectl create -f` of N
# pods; N: the second argument, else $KUBE_METRICS_CREATES, else 200) in a namespace labelled
# pod-security.kubernetes.io/enforce=restricted, with rootgate registered as the chart renders
# it and, when shared/kube has it, Kubernetes' own Pod Security webhook registered beside it as
# a peer. From the API server's /metrics, before and after: each webhook's
# apiserver_admission_webhook_admission_duration_seconds and the built-in Pod Security plugin's
# apiserver_admission_controller_admission_duration_seconds{name="PodSecurity"}, all for the same
# creates, plus rootgate's own decision histogram. Prints each one's mean (sum/count, exact) and
# p99 (the histogram's bucket bound, and Prometheus' histogram_quantile interpolation: the API
# server's buckets are 5 ms, 25 ms, 100 ms, ...) and the rootgate/peer ratio. Asserts only that
# every create was allowed and counted by each (no timing assertion); the figures are for the
# README.
#
# usage: tests/kube/metrics_test.sh path/to/rootgate [N]     (exit 77: no kube-apiserver)
[ $# -ge 1 ] || { echo "usage: $0 path/to/rootgate [N]" >&2; exit 2; }
source "$(dirname "$0")/e2e_lib.sh"
n="${2:-${KUBE_METRICS_CREATES:-200}}"
e2e_start
section "API server ready"
webhook_certs "$work/pki"
E2E_SERVE_NAME=rootgate
start_serve rootgate --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" --offline || finish metrics
port="$serve_port"
register_webhook "$port" || finish metrics
kube_namespace bench pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=v1.32

# A pod both rootgate and Pod Security's restricted level allow.
restricted='{runAsUser: 1000, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, seccompProfile: {type: RuntimeDefault}}'
# Both really judge, each alone: Pod Security runs before the webhooks (built-in validating
# plugins come first), so a root pod in the restricted namespace is its to refuse.
kube_namespace plain
kc "rootgate root" -n plain create -f - <<<"$(pod_yaml plain-root Pod '{runAsUser: 0}')"
expect_denied "rootgate refuses a root pod by itself" "[rootUser]"
kc "psa root" -n bench create -f - <<<"$(pod_yaml bench-root Pod '{runAsUser: 0}')"
expect_contains "Pod Security refuses a root pod in the restricted namespace" "$out" 'violates PodSecurity "restricted:v1.32"'
# The peer: Kubernetes' own Pod Security webhook (shared/kube, same tree as the API server), as a
# second webhook for the bench namespace only, so both webhooks' figures come from one run.
peer=""
peer_xz="${KUBE_PSA_WEBHOOK:-$(kube_shared_dir)/pod-security-webhook-$KUBE_VERSION.xz}"
if [ -f "$peer_xz" ]; then
  peer="$KUBE_CACHE_DIR/pod-security-webhook-$KUBE_VERSION"
  if [ ! -x "$peer" ]; then
    xz -dc "$peer_xz" >"$peer.$$" && chmod +x "$peer.$$" && mv -f "$peer.$$" "$peer" || fail "unpack $peer_xz"
  fi
  printf 'apiVersion: pod-security.admission.config.k8s.io/v1\nkind: PodSecurityConfiguration\ndefaults: {enforce: restricted, enforce-version: latest}\n' >"$work/psa.yaml"
  peer_port="$(kube_free_port)"
  "$peer" --config "$work/psa.yaml" --kubeconfig "$KUBECONFIG" --bind-address 127.0.0.1 --secure-port "$peer_port" \
    --tls-cert-file "$work/pki/tls.crt" --tls-private-key-file "$work/pki/tls.key" >"$work/peer.log" 2>&1 &
  serve_pids+=($!)
  for _ in $(seq 100); do curl -s --cacert "$work/pki/ca.crt" "https://127.0.0.1:$peer_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  kubectl label --overwrite namespace bench rootgate-bench=peer >/dev/null
  kubectl apply -f - >/dev/null <<EOF || fail "peer webhook registration"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: pod-security-webhook-peer}
webhooks:
  - name: pod-security-webhook.peer.test
    admissionReviewVersions: [v1]
    sideEffects: None
    failurePolicy: Fail
    timeoutSeconds: 10
    clientConfig: {url: "https://127.0.0.1:$peer_port/validate", caBundle: $(base64 -w0 "$work/pki/ca.crt")}
    namespaceSelector: {matchLabels: {rootgate-bench: peer}}
    rules: [{apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [pods], scope: Namespaced}]
EOF
  sleep 2 # the API server's webhook informer
else
  echo "no $peer_xz: the Pod Security webhook peer is left out"
fi
# Warm-up: the API server's connection to rootgate and its informers.
for i in 1 2 3; do pod_yaml "warm-$i" Pod "$restricted"; echo ---; done | kubectl -n bench create -f - >/dev/null ||
  fail "warm-up creates"

rootgate_metrics() { curl -s --cacert "$work/pki/ca.crt" "https://127.0.0.1:$port/metrics"; }
rootgate_allowed() {
  rootgate_metrics | awk '/^rootgate_admission_requests_total\{.*decision="allow".*kind="Pod".*operation="CREATE"/ {s += $2} END {print s + 0}'
}
kube_curl /metrics >"$work/before.prom"
rootgate_metrics >>"$work/before.prom"
rootgate_before="$(rootgate_allowed)"
for i in $(seq "$n"); do pod_yaml "p-$i" Pod "$restricted"; echo ---; done >"$work/pods.yaml"
start=$(date +%s%N)
created="$(kubectl -n bench create -f "$work/pods.yaml" 2>"$work/create.err" | grep -c ' created$')"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
kube_curl /metrics >"$work/after.prom"
rootgate_metrics >>"$work/after.prom"
expect_eq "all $n creates allowed" "$created" "$n"
[ ! -s "$work/create.err" ] || fail "kubectl create: $(head -3 "$work/create.err")"

PEER="$peer" python3 - "$work/before.prom" "$work/after.prom" "$n" >"$work/figures.txt" <<'EOF' || fail "metrics: $(cat "$work/figures.txt")"
import os, re, sys
def load(path):
    series = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line.strip())
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            series.setdefault(m.group(1), []).append((labels, float(m.group(4))))
    return series
before, after, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
def pick(series, name, want):
    out = {}
    for labels, v in series.get(name, []):
        if all(labels.get(k) == x for k, x in want.items()):
            out[labels.get("le", "")] = out.get(labels.get("le", ""), 0) + v
    return out
def delta(family, want):
    d = {}
    for suffix in ("_bucket", "_sum", "_count"):
        b, a = pick(before, family + suffix, want), pick(after, family + suffix, want)
        d[suffix] = {k: a[k] - b.get(k, 0) for k in a}
    return d
def quantile(q, buckets, count):
    bounds = sorted(((float(le), c) for le, c in buckets.items()), key=lambda x: x[0])
    rank, lo_b, lo_c = q * count, 0.0, 0.0
    for le, c in bounds:
        if c >= rank:
            if le == float("inf"):
                return lo_b, lo_b
            return le, lo_b + (le - lo_b) * (rank - lo_c) / max(c - lo_c, 1e-12)
        lo_b, lo_c = le, c
    return float("nan"), float("nan")
rows = [("rootgate (webhook)", "apiserver_admission_webhook_admission_duration_seconds",
         {"name": "pods.rootgate.io", "operation": "CREATE", "rejected": "false"}),
        ("PodSecurity (built in)", "apiserver_admission_controller_admission_duration_seconds",
         {"name": "PodSecurity", "operation": "CREATE", "rejected": "false"}),
        ("rootgate's own decision", "rootgate_admission_decision_duration_seconds", {})]
if os.environ.get("PEER"):
    rows.insert(1, ("pod-security-webhook", "apiserver_admission_webhook_admission_duration_seconds",
                    {"name": "pod-security-webhook.peer.test", "operation": "CREATE", "rejected": "false"}))
ok, means = True, {}
for title, family, want in rows:
    d = delta(family, want)
    count = d["_count"].get("", 0)
    if count != n:
        print(f"{title}: {family} counted {count:.0f} creates, want {n}")
        ok = False
        continue
    mean = d["_sum"][""] / count * 1000
    bound, interp = quantile(0.99, d["_bucket"], count)
    means[title] = mean
    print(f"{title:24} mean {mean:6.3f} ms   p99 <= {bound * 1000:g} ms (bucket; interpolated {interp * 1000:.2f} ms)   n={count:.0f}")
if "pod-security-webhook" in means and "rootgate (webhook)" in means:
    print(f"rootgate / pod-security-webhook (mean, same creates): "
          f"{means['rootgate (webhook)'] / means['pod-security-webhook']:.2f}")
sys.exit(0 if ok else 1)
EOF
echo "API server admission latency for $n pod creates (kubectl create -f, $elapsed_ms ms in all):"
cat "$work/figures.txt"
conns() { awk '/^rootgate_connections_accepted_total / {print $2}' "$1"; }
echo "rootgate connections accepted during the $n creates: $(( $(conns "$work/after.prom") - $(conns "$work/before.prom") ))"
expect_eq "every row measured" "$(grep -c ' mean ' "$work/figures.txt")" "$([ -n "$peer" ] && echo 4 || echo 3)"
expect_eq "rootgate counted every create" "$(( $(rootgate_allowed) - rootgate_before ))" "$n"
# The API server's own requests (its headers, its ?timeout=, keep-alive) are the ones rootgate's
# request reader exists for: every one of these creates is read and answered by it.
fast() { awk '/^rootgate_http_fast_path_requests_total / {printf "%d", $2}' "$1"; }
expect_eq "the API server's requests all took the fast path" "$(( $(fast "$work/after.prom") - $(fast "$work/before.prom") ))" "$n"
stop_serve "$serve_pid" rootgate
finish metrics
