#!/usr/bin/env bash
# Speed of `rootgate check` (issue 6): generates N manifests (default 10,000: Pods, Deployments,
# StatefulSets, DaemonSets, Jobs, CronJobs and Services in 23 namespaces, with assorted
# securityContexts: 3 of 5 workloads denied, by rootUser, unknownUser or privileged) and times `rootgate check` on them three ways — one file per manifest in
# a directory, one multi-document YAML stream on stdin, and one `kubectl get -A -o json`-style
# List — against reference tools reading the same bytes (`cat`, and `jq` parsing them), best of
# REPEAT runs each. Prints manifests per second and the ratios. Target: the directory of 10,000
# in under 2 seconds; with BENCH_ENFORCE=1 a miss exits 1.
# usage: tests/bench_check.sh path/to/rootgate [N]
set -euo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
n="${2:-10000}"
repeat="${REPEAT:-3}"
target_s="${TARGET_SECONDS:-2}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

python3 - "$work" "$n" <<'PY'
import json, os, sys
work, n = sys.argv[1], int(sys.argv[2])
os.makedirs(f"{work}/dir")
kinds = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Service"]
contexts = [  # (pod securityContext, the app container's securityContext)
    ("{runAsNonRoot: true, runAsUser: 10001}", "{allowPrivilegeEscalation: false}"),  # allowed
    ("{runAsUser: 0}", "{}"),                                     # rootUser
    ("{}", "{readOnlyRootFilesystem: true}"),                     # unknownUser
    ("{runAsNonRoot: true}", "{}"),                               # allowed (kubelet refuses root)
    ("{runAsUser: 1000}", "{privileged: true}"),                  # privileged
]
def pod_spec(i, indent):
    p = " " * indent
    pod_ctx, app_ctx = contexts[i % len(contexts)]
    return (f"{p}securityContext: {pod_ctx}\n{p}initContainers:\n{p}- name: init\n{p}  image: busybox:1.36\n"
            f"{p}  securityContext: {{runAsUser: 1000, allowPrivilegeEscalation: false}}\n"
            f"{p}containers:\n{p}- name: app\n{p}  image: registry.example.com/team/app-{i % 97}:1.{i % 13}\n"
            f"{p}  securityContext: {app_ctx}\n"
            f"{p}  ports: [{{containerPort: 8080}}]\n{p}  resources: {{limits: {{cpu: 500m, memory: 256Mi}}}}\n"
            f"{p}- name: sidecar\n{p}  image: registry.example.com/ops/proxy:2\n"
            f"{p}  securityContext: {{runAsUser: 2000, readOnlyRootFilesystem: true}}\n")
def manifest(i):
    kind = kinds[i % len(kinds)]
    ns = f"team-{i % 23}"
    meta = f"metadata:\n  name: w{i}\n  namespace: {ns}\n  labels: {{app: w{i}, tier: backend}}\n"
    if kind == "Service":
        return f"apiVersion: v1\nkind: Service\n{meta}spec:\n  selector: {{app: w{i}}}\n  ports: [{{port: 80}}]\n"
    if kind == "Pod":
        return f"apiVersion: v1\nkind: Pod\n{meta}spec:\n" + pod_spec(i, 2)
    group = "batch/v1" if kind in ("Job", "CronJob") else "apps/v1"
    tmpl = f"template:\n  metadata: {{labels: {{app: w{i}}}}}\n  spec:\n" + pod_spec(i, 4)
    if kind == "CronJob":
        body = "  schedule: '*/5 * * * *'\n  jobTemplate:\n    spec:\n" + "".join("      " + l + "\n" for l in tmpl.splitlines())
    else:
        sel = "  selector: {matchLabels: {app: w%d}}\n" % i if kind != "Job" else ""
        body = sel + "".join("  " + l + "\n" for l in tmpl.splitlines())
    return f"apiVersion: {group}\nkind: {kind}\n{meta}spec:\n{body}"
docs = [manifest(i) for i in range(n)]
for i, d in enumerate(docs):
    with open(f"{work}/dir/m{i:05d}.yaml", "w") as f:
        f.write(d)
with open(f"{work}/stream.yaml", "w") as f:
    f.write("---\n".join(docs))
PY
# The List as `kubectl get -o json` gives it: JSON made from the same manifests (needs PyYAML).
python3 -c 'import yaml' 2>/dev/null && have_pyyaml=1 || have_pyyaml=0
"$bin" check -o json "$work/dir" >"$work/report.json" || true
if [ "$have_pyyaml" = 1 ]; then
  python3 - "$work" <<'PY'
import sys, yaml, json, glob
work = sys.argv[1]
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
items = [yaml.load(open(p), Loader=loader) for p in sorted(glob.glob(f"{work}/dir/*.yaml"))]
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(f"{work}/list.json", "w"), indent=2)
PY
fi

best() { # best wall time in seconds of REPEAT runs of "$@" (stdout discarded)
  local best_s="" s t0 t1
  for _ in $(seq "$repeat"); do
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N)
    s=$(echo "$t1 - $t0" | bc -l)
    if [ -z "$best_s" ] || [ "$(echo "$s < $best_s" | bc -l)" = 1 ]; then best_s=$s; fi
  done
  printf '%.3f' "$best_s"
}
rate() { printf '%.0f' "$(echo "$n / $1" | bc -l)"; }
ratio() { printf '%.1f' "$(echo "$1 / $2" | bc -l)"; }

bytes=$(cat "$work"/dir/*.yaml | wc -c)
summary=$(jq -c .summary "$work/report.json")
echo "rootgate check benchmark: $n manifests, $((bytes / 1024)) KiB of YAML, $(nproc) CPUs, best of $repeat"
echo "  verdicts: $summary"

t_dir=$(best "$bin" check -o json "$work/dir")
t_text=$(best "$bin" check "$work/dir")
t_stream=$(best sh -c "'$bin' check -o json - <'$work/stream.yaml'")
t_cat=$(best sh -c "cat '$work'/dir/*.yaml")
echo "  rootgate check -o json DIR (one file each):  ${t_dir} s  $(rate "$t_dir") manifests/s"
echo "  rootgate check DIR (text):                   ${t_text} s  $(rate "$t_text") manifests/s"
echo "  rootgate check -o json - (one YAML stream):  ${t_stream} s  $(rate "$t_stream") manifests/s"
if [ -f "$work/list.json" ]; then
  t_list=$(best sh -c "'$bin' check -o json - <'$work/list.json'")
  t_jqlist=$(best jq -c '.items[].kind' "$work/list.json")
  echo "  rootgate check -o json - (kubectl List JSON, $(($(wc -c <"$work/list.json") / 1024)) KiB): ${t_list} s  $(rate "$t_list") manifests/s"
  echo "  reference: jq over the same List:           ${t_jqlist} s  (rootgate/jq = $(ratio "$t_list" "$t_jqlist"))"
fi
echo "  reference: cat of the same files:            ${t_cat} s  (rootgate/cat = $(ratio "$t_dir" "$t_cat"))"
if [ "$(echo "$t_dir < $target_s" | bc -l)" = 1 ]; then
  echo "  target: $n manifests in under ${target_s} s: met (${t_dir} s)"
else
  echo "  target: $n manifests in under ${target_s} s: MISSED (${t_dir} s)"
  [ "${BENCH_ENFORCE:-0}" = 1 ] && exit 1
fi
exit 0
