#!/usr/bin/env bash
# Memory and speed of `rootgate audit` at two cluster sizes (issue 13): creates 1,000 and then
# 10,000 pods (realistic size: three containers, env, volumes, labels, observed uids) in a real
# kube-apiserver (tests/kube/kube_lib.sh), and for each size prints rootgate's peak RSS, wall
# time, API requests and workloads/s, beside the listing floor `kubectl get pods -A -o json`
# on the same server. Targets (printed, never asserted): RSS <= 64 MiB at 10,000 pods and
# <= 1.2x the 1,000-pod figure; audit time <= 1.5x the kubectl listing.
# usage: tests/kube/bench_audit.sh path/to/rootgate [SIZES...]   (default sizes: 1000 10000)
set -uo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
sizes=("$@")
[ $# -gt 0 ] || sizes=(1000 10000)
root="$(cd "$(dirname "$0")/../.." && pwd)"
source "$root/tests/kube/kube_lib.sh"
kube_start || exit $?
work="$KUBE_DIR/bench"
mkdir -p "$work"

# create_pods FROM TO: pods pFROM..pTO-1 over 20 namespaces, 8 concurrent connections; each pod
# then gets a kubelet-style status with the uid its containers run as.
create_pods() {
  python3 - "$KUBE_SERVER" "$KUBE_CA" "$KUBE_ADMIN_TOKEN" "$1" "$2" <<'PY'
import concurrent.futures, http.client, json, ssl, sys, threading, urllib.parse
server, ca, token, lo, hi = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
host = urllib.parse.urlparse(server)
ctx = ssl.create_default_context(cafile=ca)
local = threading.local()
def conn():
    if not hasattr(local, "c"):
        local.c = http.client.HTTPSConnection(host.hostname, host.port, context=ctx)
    return local.c
def call(method, path, body, ctype="application/json"):
    c = conn()
    c.request(method, path, json.dumps(body), {"Authorization": "Bearer " + token, "Content-Type": ctype})
    r = c.getresponse(); data = r.read()
    if r.status >= 300 and r.status != 409: raise SystemExit(f"{method} {path}: {r.status} {data[:300]}")
def ns_of(i): return f"bench-{i % 20}"
for n in range(20):
    call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"bench-{n}"}})
def container(name, i, uid):
    return {"name": name, "image": f"registry.example.com/team/{name}-{i % 97}:1.{i % 13}",
            "env": [{"name": f"VAR_{k}", "value": f"value-{i}-{k}"} for k in range(6)],
            "ports": [{"containerPort": 8080 + k, "protocol": "TCP"} for k in range(2)],
            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
            "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "config", "mountPath": "/etc/app"}],
            "securityContext": {"runAsUser": uid, "allowPrivilegeEscalation": False} if uid is not None else {}}
def one(i):
    ns, name = ns_of(i), f"p{i}"
    uid = [10001, 0, None, 1000][i % 4]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": ns,
                        "labels": {"app": f"app-{i % 97}", "team": f"team-{i % 7}", "tier": "backend"},
                        "annotations": {"example.com/owner": f"owner-{i % 31}"}},
           "spec": {"containers": [container("app", i, uid), container("proxy", i, 2000), container("log", i, 2001)],
                    "volumes": [{"name": "data", "emptyDir": {}}, {"name": "config", "configMap": {"name": "cfg"}}]}}
    call("POST", f"/api/v1/namespaces/{ns}/pods", pod)
    st = [{"name": c, "image": "x", "imageID": "", "ready": True, "restartCount": 0, "state": {"running": {}},
           "user": {"linux": {"uid": u, "gid": u}}} for c, u in (("app", uid or 0), ("proxy", 2000), ("log", 2001))]
    call("PATCH", f"/api/v1/namespaces/{ns}/pods/{name}/status", {"status": {"containerStatuses": st}},
         "application/merge-patch+json")
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    list(ex.map(one, range(lo, hi)))
PY
}

printf '%-6s  %9s  %8s  %8s  %13s  %11s  %11s\n' pods "RSS MiB" "audit s" requests "workloads/s" "kubectl s" "audit/kubectl"
created=0
declare -A rss
for n in "${sizes[@]}"; do
  create_pods "$created" "$n" || exit 1
  created="$n"
  /usr/bin/time -f '%M %e' -o "$work/time" "$bin" audit -A -o json >"$work/out.json" 2>"$work/err"
  code=$?
  [ "$code" -le 1 ] || { echo "rootgate audit failed ($code): $(tail -3 "$work/err")" >&2; exit 1; }
  read -r kb secs < <(tail -n 1 "$work/time")
  read -r requests checked < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["summary"]; print(s["requests"], s["checked"] + s["skipped"])' "$work/out.json")
  start=$(date +%s.%N)
  "$KUBECTL" get pods -A -o json >/dev/null
  kubectl_s=$(python3 -c "import time; print(f'{time.time() - $start:.2f}')")
  rss[$n]=$kb
  python3 - "$n" "$kb" "$secs" "$requests" "$checked" "$kubectl_s" <<'PY'
import sys
n, kb, secs, req, checked, ks = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], int(sys.argv[5]), float(sys.argv[6])
print(f"{n:<6}  {kb / 1024:9.1f}  {secs:8.2f}  {req:>8}  {checked / max(secs, 0.001):13.0f}  {ks:11.2f}  {secs / max(ks, 0.001):11.2f}x")
PY
done
if [ "${#sizes[@]}" -ge 2 ]; then
  first="${sizes[0]}" last="${sizes[-1]}"
  python3 -c "import sys; a,b=int(sys.argv[1]),int(sys.argv[2]); print(f'RSS {sys.argv[4]} pods / {sys.argv[3]} pods: {b/a:.2f}x (target <= 1.2x); at {sys.argv[4]}: {b/1024:.1f} MiB (target <= 64)')" \
    "${rss[$first]}" "${rss[$last]}" "$first" "$last"
fi
