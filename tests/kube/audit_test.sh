#!/usr/bin/env bash
# `rootgate audit` against a real kube-apiserver (tests/kube/kube_lib.sh): every auth kind
# (client certificate as files and data, token file, exec plugins v1 and v1beta1 with a 401
# re-run, in-cluster config), TLS (CA, tls-server-name, no CA, insecure-skip-tls-verify), an
# unreachable server, every workload kind, -n, pagination with a page size of 2, a 403 on one
# kind, observed uids written through the status subresource, a 410 on continue (etcd compacted
# between pages), and PolicyReports / OpenReports applied, read back and pruned. Expected values
# come from the objects this script creates and SEMANTICS.md, never from rootgate's output.
# Usage: tests/kube/audit_test.sh path/to/rootgate [path/to/rootgate_tests]
source "$(dirname "$0")/../cli_lib.sh"
root="$(dirname "$root")"  # cli_lib.sh takes the caller's parent folder; this script is one deeper
cd "$root" || exit 1
tests_bin="${2:-}"
[ -z "$tests_bin" ] || tests_bin="$(cd "$(dirname "$tests_bin")" && pwd)/$(basename "$tests_bin")"
source "$root/tests/kube/kube_lib.sh"
kube_start || exit $?

jq_() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
summary() { jq_ "d['summary']['$1']" <<<"$out"; }

# --- objects: every kind in team-a, three pods in team-b ------------------------------------
kube_namespace team-a && kube_namespace team-b || { fail "namespaces"; exit 1; }
tmpl() { # securityContext
  echo "{metadata: {labels: {app: x}}, spec: {containers: [{name: app, image: registry.test/app:1, securityContext: $1}]}}"
}
pod() { # namespace name securityContext
  printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s}\n' "$2" "$1"
  printf 'spec: {containers: [{name: app, image: registry.test/app:1, securityContext: %s}]}\n' "$3"
}
sel='{matchLabels: {app: x}}'
{
  pod team-a root-pod '{runAsUser: 0}'
  pod team-a nonroot-pod '{runAsUser: 1000}'
  pod team-a observed-root '{runAsUser: 1000}'
  pod team-a unknown-pod '{}'
  printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: observed-other, namespace: team-a}\nspec:\n'
  printf '  initContainers: [{name: init, image: registry.test/init:1, securityContext: {runAsUser: 1000}}]\n'
  printf '  containers: [{name: app, image: registry.test/app:1, securityContext: {runAsNonRoot: true}}]\n'
  printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: root-deploy, namespace: team-a}\n'
  printf 'spec: {selector: %s, template: %s}\n' "$sel" "$(tmpl '{runAsUser: 0}')"
  printf -- '---\napiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: rs, namespace: team-a}\n'
  printf 'spec: {selector: %s, template: %s}\n' "$sel" "$(tmpl '{runAsUser: 1000}')"
  printf -- '---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: sts, namespace: team-a}\n'
  printf 'spec: {selector: %s, serviceName: sts, template: %s}\n' "$sel" "$(tmpl '{runAsUser: 1000}')"
  printf -- '---\napiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds, namespace: team-a}\n'
  printf 'spec: {selector: %s, template: %s}\n' "$sel" "$(tmpl '{privileged: true, runAsUser: 1000}')"
  printf -- '---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: job, namespace: team-a}\n'
  printf 'spec: {template: {spec: {restartPolicy: Never, containers: [{name: app, image: registry.test/app:1, securityContext: {runAsUser: 1000}}]}}}\n'
  printf -- '---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cron, namespace: team-a}\n'
  printf 'spec: {schedule: "0 * * * *", jobTemplate: {spec: {template: {spec: {restartPolicy: Never, containers: [{name: app, image: registry.test/app:1, securityContext: {runAsUser: 0}}]}}}}}\n'
  printf -- '---\napiVersion: v1\nkind: ReplicationController\nmetadata: {name: rc, namespace: team-a}\n'
  printf 'spec: {selector: {app: x}, template: %s}\n' "$(tmpl '{runAsUser: 1000}')"
  printf -- '---\napiVersion: v1\nkind: PodTemplate\nmetadata: {name: pt, namespace: team-a}\ntemplate: %s\n' \
    "$(tmpl '{runAsUser: 1000}')"
  pod team-b b1 '{runAsUser: 1000}'
  pod team-b b2 '{runAsUser: 0}'
  pod team-b b3 '{runAsUser: 1000}'
} >"$work/objects.yaml"
kubectl apply -f "$work/objects.yaml" >/dev/null || { fail "creating the objects"; exit 1; }
# What the kubelet would report (KEP-3619), through the status subresource.
status() { # pod list-key entries
  kubectl -n team-a patch pod "$1" --subresource=status --type=merge -p "{\"status\":{\"$2\":$3}}" >/dev/null
}
entry() { # name uid
  printf '{"name":"%s","image":"registry.test/app:1","imageID":"","ready":true,"restartCount":0,' "$1"
  printf '"state":{"running":{}},"user":{"linux":{"uid":%s,"gid":%s}}}' "$2" "$2"
}
status observed-root containerStatuses "[$(entry app 0)]" || fail "status patch"
status observed-other containerStatuses "[$(entry app 2000)]" || fail "status patch"
status observed-other initContainerStatuses "[$(entry init 1000)]" || fail "status patch"
uid_seen="$(kubectl -n team-a get pod observed-root -o jsonpath='{.status.containerStatuses[0].user.linux.uid}')"
expect_eq "the API server keeps status.containerStatuses[].user (feature gate on)" "$uid_seen" 0

# Expected verdicts (default preset: rootUser, unknownUser, privileged). team-a, 13 objects,
# denied: root-pod, observed-root (the kubelet reports uid 0), unknown-pod (no facts, no
# runAsNonRoot), root-deploy, ds (privileged), cron = 6. team-b, 3 pods, denied: b2.
# --- the admin kubeconfig, all namespaces, every kind, JSON ------------------------------------
run "$bin" audit -o json
expect_eq "audit: exit 1 (something denied)" "$code" 1
expect_eq "audit: denied" "$(summary denied)" 7
expect_eq "audit: allowed" "$(summary allowed)" 9
expect_eq "audit: complete" "$(summary complete)" True
kinds="$(jq_ "' '.join(sorted(set(r['kind'] for r in d['results'])))" <<<"$out")"
expect_eq "audit: every kind" "$kinds" \
  "CronJob DaemonSet Deployment Job Pod PodTemplate ReplicaSet ReplicationController StatefulSet"
verdict() { # kind ns name -> [allowed]
  jq_ "[r['allowed'] for r in d['results'] if (r['kind'],r['namespace'],r['name'])==('$1','$2','$3')]" <<<"$out"
}
expect_eq "root-deploy denied" "$(verdict Deployment team-a root-deploy)" "[False]"
expect_eq "cron denied" "$(verdict CronJob team-a cron)" "[False]"
expect_eq "ds denied (privileged)" "$(verdict DaemonSet team-a ds)" "[False]"
expect_eq "pt allowed" "$(verdict PodTemplate team-a pt)" "[True]"
expect_eq "observed-root denied by what the kubelet reports" "$(verdict Pod team-a observed-root)" "[False]"
obs_field="$(jq_ "[v['field'] for r in d['results'] if r['name']=='observed-root' for v in r['violations']]" <<<"$out")"
expect_eq "observed root: the status field" "$obs_field" "['status.containerStatuses[0].user.linux.uid']"
observed="$(jq_ "[(o['container'],o['uid'],o['gid']) for r in d['results'] if r['name']=='observed-other' for o in r['observed']]" <<<"$out")"
expect_eq "observed uids of init and regular containers" "$observed" "[('init', 1000, 1000), ('app', 2000, 2000)]"
warned="$(jq_ "[w['message'] for r in d['results'] if r['name']=='observed-other' for w in r['warnings']]" <<<"$out")"
expect_contains "predicted unknown, observed 2000: a warning naming both" "$warned" "the kubelet reports uid 2000"
expect_contains "predicted unknown, observed 2000: a warning naming both" "$warned" "predicted an unknown user"
expect_eq "observed-other allowed (the spec's verdict stands)" "$(verdict Pod team-a observed-other)" "[True]"

# --- -n, text output, pagination --------------------------------------------------------------
run "$bin" audit -n team-b
expect_eq "-n team-b: exit 1" "$code" 1
expect_contains "-n team-b: text lists b2 denied" "$out" "DENY  Pod team-b/b2"
expect_contains "-n team-b: the per-namespace table" "$out" "team-b           3        2       1        0  rootUser 1"
if grep -q "team-a" <<<"$out"; then fail "-n team-b printed team-a objects"; else pass; fi
run "$bin" audit -n team-b --page-size 2 -o json
# pods: 3 objects -> 2 pages; the 8 other kinds: 1 (empty) page each = 10 requests.
expect_eq "page size 2: requests" "$(summary requests)" 10
expect_eq "page size 2: every team-b pod" "$(summary checked)" 3
run "$bin" audit -A --page-size 2 -o json
# pods: 8 -> 4 pages; every other kind holds one object -> 1 page each = 12 requests.
expect_eq "page size 2, all namespaces: requests" "$(summary requests)" 12
expect_eq "page size 2, all namespaces: all objects" "$(summary checked)" 16

# --- other formats and bad usage --------------------------------------------------------------
run "$bin" audit -n team-b -o junit
expect_eq "-o junit: exit 1" "$code" 1
expect_eq "-o junit: a test case per object, a failure for b2" \
  "$(python3 -c 'import sys, xml.etree.ElementTree as E; r=E.fromstring(sys.stdin.read()); print(len(r.findall(".//testcase")), len(r.findall(".//failure")))' <<<"$out")" "3 1"
run "$bin" audit -n team-b -o sarif
expect_eq "-o sarif: one result (b2 rootUser)" "$(jq_ "[x['ruleId'] for x in d['runs'][0]['results']]" <<<"$out")" "['rootUser']"
run "$bin" audit -n team-b -A
expect_eq "-n with -A: exit 2" "$code" 2
expect_contains "-n with -A: why" "$err" "-n and -A exclude each other"
run "$bin" audit --context nope
expect_eq "unknown context: exit 2" "$code" 2
expect_contains "unknown context: named" "$err" 'context "nope" does not exist'
run "$bin" audit --help
expect_eq "--help: exit 0" "$code" 0
expect_contains "--help: usage" "$out" "--write-reports"

# --- auth kinds -------------------------------------------------------------------------------
cat >"$work/rbac.yaml" <<'RBAC'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: rootgate-audit}
rules:
- {apiGroups: [""], resources: [pods, replicationcontrollers, podtemplates], verbs: [list]}
- {apiGroups: [apps], resources: [deployments, replicasets, statefulsets, daemonsets], verbs: [list]}
- {apiGroups: [batch], resources: [jobs, cronjobs], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: rootgate-audit-no-deployments}
rules:
- {apiGroups: [""], resources: [pods, replicationcontrollers, podtemplates], verbs: [list]}
- {apiGroups: [apps], resources: [replicasets, statefulsets, daemonsets], verbs: [list]}
- {apiGroups: [batch], resources: [jobs, cronjobs], verbs: [list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: rootgate-audit-group}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rootgate-audit}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: auditors}]
RBAC
kubectl apply -f "$work/rbac.yaml" >/dev/null || fail "RBAC"
audit_ok() { # name, then the command: exit 1 and 16 objects checked
  local name="$1"; shift
  run "$@" -o json
  expect_eq "$name: exit" "$code" 1
  expect_eq "$name: objects" "$(summary checked)" 16
  [ "$code" = 1 ] || echo "$err" | tail -5 >&2
}
cert_cfg="$(kube_kubeconfig_cert auditor-cert cert-auditor auditors)"
audit_ok "client certificate (files)" "$bin" audit --kubeconfig "$cert_cfg"
# The same certificate as data, in a kubeconfig given through KUBECONFIG after a missing file.
python3 - "$cert_cfg" "$work/cert-data.kubeconfig" <<'PY'
import base64, re, sys
text = open(sys.argv[1]).read()
for key in ("client-certificate", "client-key", "certificate-authority"):
    path = re.search(key + r": (\S+)", text).group(1)
    data = base64.b64encode(open(path, "rb").read()).decode()
    text = text.replace(f"{key}: {path}", f"{key}-data: {data}")
open(sys.argv[2], "w").write(text)
PY
audit_ok "client certificate (data), KUBECONFIG list" env KUBECONFIG="$work/missing:$work/cert-data.kubeconfig" "$bin" audit

kubectl create namespace audit-sa >/dev/null
kubectl -n audit-sa create serviceaccount auditor >/dev/null
kubectl create clusterrolebinding rootgate-audit-sa --clusterrole=rootgate-audit --serviceaccount=audit-sa:auditor >/dev/null
sa_token="$(kubectl -n audit-sa create token auditor --duration=1h)"
printf '%s\n' "$sa_token" >"$work/token"
sed -e "s#token: .*#tokenFile: $work/token#" "$KUBECONFIG" >"$work/tokenfile.kubeconfig"
audit_ok "tokenFile" "$bin" audit --kubeconfig "$work/tokenfile.kubeconfig"

# Exec plugins: the v1 one caches its credential (expiry in an hour) and runs once per process;
# the v1beta1 one hands out a wrong token first, so the 401 makes rootgate run it again.
{
  printf '#!/bin/sh\necho run >>"%s/plugin-runs-$PLUGIN_NAME"\n' "$work"
  printf 'n=$(wc -l <"%s/plugin-runs-$PLUGIN_NAME")\ntoken="%s"\n' "$work" "$sa_token"
  printf 'if [ "$PLUGIN_NAME" = flaky ] && [ "$n" = 1 ]; then token=wrong; fi\n'
  printf 'exp=$(date -u -d "+1 hour" +%%Y-%%m-%%dT%%H:%%M:%%SZ)\n'
  printf 'echo "{\\"apiVersion\\":\\"$1\\",\\"kind\\":\\"ExecCredential\\",\\"status\\":{\\"token\\":\\"$token\\",\\"expirationTimestamp\\":\\"$exp\\"}}"\n'
} >"$work/plugin.sh"
chmod +x "$work/plugin.sh"
mk_exec() { # name apiVersion
  python3 - "$KUBECONFIG" "$work/$1.kubeconfig" "$1" "$2" "$work/plugin.sh" <<'PY'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
cfg["users"] = [{"name": cfg["users"][0]["name"], "user": {"exec": {
    "apiVersion": sys.argv[4], "command": sys.argv[5], "args": [sys.argv[4]],
    "env": [{"name": "PLUGIN_NAME", "value": sys.argv[3]}], "interactiveMode": "Never"}}}]
yaml.safe_dump(cfg, open(sys.argv[2], "w"))
PY
}
mk_exec steady client.authentication.k8s.io/v1
audit_ok "exec plugin v1" "$bin" audit --kubeconfig "$work/steady.kubeconfig"
expect_eq "exec v1: one run for 9 lists (cached until expirationTimestamp)" "$(wc -l <"$work/plugin-runs-steady")" 1
mk_exec flaky client.authentication.k8s.io/v1beta1
audit_ok "exec plugin v1beta1, 401 then re-run" "$bin" audit --kubeconfig "$work/flaky.kubeconfig"
expect_eq "exec v1beta1: re-run after the 401" "$(wc -l <"$work/plugin-runs-flaky")" 2

# In-cluster: the variables and the service-account folder (ROOTGATE_SERVICEACCOUNT_DIR stands in
# for /var/run/secrets/kubernetes.io/serviceaccount), no kubeconfig anywhere.
mkdir -p "$work/sa" "$work/emptyhome"
printf '%s' "$sa_token" >"$work/sa/token"; cp "$KUBE_CA" "$work/sa/ca.crt"; printf audit-sa >"$work/sa/namespace"
audit_ok "in-cluster config" env -u KUBECONFIG HOME="$work/emptyhome" KUBERNETES_SERVICE_HOST=127.0.0.1 \
  KUBERNETES_SERVICE_PORT="$KUBE_API_PORT" ROOTGATE_SERVICEACCOUNT_DIR="$work/sa" "$bin" audit

# --- TLS and reachability ---------------------------------------------------------------------
tls_cfg() { # name python-statements-on-cluster-c
  python3 - "$KUBECONFIG" "$work/$1.kubeconfig" "$2" <<'PY'
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1])); c = cfg["clusters"][0]["cluster"]
exec(sys.argv[3])
yaml.safe_dump(cfg, open(sys.argv[2], "w"))
PY
  echo "$work/$1.kubeconfig"
}
audit_ok "tls-server-name in the certificate" "$bin" audit \
  --kubeconfig "$(tls_cfg sni 'c["tls-server-name"]="kubernetes.default.svc"')"
run "$bin" audit --kubeconfig "$(tls_cfg badsni 'c["tls-server-name"]="wrong.example"')"
expect_eq "tls-server-name not in the certificate: exit 2" "$code" 2
expect_contains "tls-server-name mismatch: named" "$err" "TLS certificate verification failed"
expect_contains "tls-server-name mismatch: the name checked" "$err" "wrong.example"
run "$bin" audit --kubeconfig "$(tls_cfg noca 'del c["certificate-authority"]')"
expect_eq "no CA (system trust store): exit 2" "$code" 2
expect_contains "no CA: the server named" "$err" "API server $KUBE_SERVER: TLS certificate verification failed"
run "$bin" audit -o json \
  --kubeconfig "$(tls_cfg insecure 'del c["certificate-authority"]; c["insecure-skip-tls-verify"]=True')"
expect_eq "insecure-skip-tls-verify: works" "$code" 1
expect_contains "insecure-skip-tls-verify: warns" "$err" "warning: cluster \"test\" sets insecure-skip-tls-verify"
run "$bin" audit --request-timeout 5s --kubeconfig "$(tls_cfg down "c['server']='https://127.0.0.1:$(kube_free_port)'")"
expect_eq "API server unreachable: exit 2" "$code" 2
expect_contains "unreachable: the server and the reason" "$err" ": cannot connect"

# --- a 403 on one kind ------------------------------------------------------------------------
kubectl -n audit-sa create serviceaccount partial >/dev/null
kubectl create clusterrolebinding rootgate-audit-partial --clusterrole=rootgate-audit-no-deployments \
  --serviceaccount=audit-sa:partial >/dev/null
partial_cfg="$(kube_kubeconfig_token partial "$(kubectl -n audit-sa create token partial --duration=1h)")"
run "$bin" audit --kubeconfig "$partial_cfg" -o json
expect_eq "403 on deployments: exit 2" "$code" 2
expect_contains "403: the verb and resource" "$err" "list deployments.apps in all namespaces: Forbidden (403)"
expect_contains "403: the server's message" "$err" 'cannot list resource "deployments" in API group "apps"'
expect_contains "403: nothing claimed" "$err" "nothing is claimed about deployments.apps"
expect_eq "403: no Deployment in the results" "$(jq_ "sum(1 for r in d['results'] if r['kind']=='Deployment')" <<<"$out")" 0
expect_eq "403: the other kinds are there" "$(summary checked)" 15
expect_eq "403: incomplete" "$(summary complete)" False

# --- reports ----------------------------------------------------------------------------------
kubectl apply -f charts/rootgate/files/crds/ >/dev/null || fail "CRDs"
kubectl wait --for condition=established --timeout=60s crd/policyreports.wgpolicyk8s.io \
  crd/reports.openreports.io >/dev/null || fail "CRDs established"
run "$bin" audit -o policyreport
expect_eq "-o policyreport: exit 1" "$code" 1
expect_eq "-o policyreport: one report per namespace with objects" "$(grep -c '"kind": "PolicyReport"' <<<"$out")" 2
run "$bin" audit --write-reports -o json
expect_eq "--write-reports: exit 1" "$code" 1
expect_contains "--write-reports: applied" "$err" "applied policyreports.wgpolicyk8s.io team-a/rootgate"
reports="$(kubectl get policyreports -A --show-managed-fields -o json)"
expect_eq "reports read back: namespaces" \
  "$(jq_ "sorted(r['metadata']['namespace'] for r in d['items'])" <<<"$reports")" "['team-a', 'team-b']"
# team-a: 13 objects x 3 rules = 39 results; fails: the 6 denied objects, one rule each.
expect_eq "team-a report: fail count" \
  "$(jq_ "[r['summary']['fail'] for r in d['items'] if r['metadata']['namespace']=='team-a']" <<<"$reports")" "[6]"
expect_eq "team-a report: results" \
  "$(jq_ "[len(r['results']) for r in d['items'] if r['metadata']['namespace']=='team-a']" <<<"$reports")" "[39]"
expect_eq "field manager rootgate" \
  "$(jq_ "sorted(set(m['manager'] for r in d['items'] for m in r['metadata']['managedFields']))" <<<"$reports")" "['rootgate']"
kubectl -n team-b delete pods --all --wait=false >/dev/null
run "$bin" audit --write-reports -o json
expect_contains "stale report deleted" "$err" "deleted policyreports.wgpolicyk8s.io team-b/rootgate"
expect_eq "after pruning" \
  "$(kubectl get policyreports -A -o json | jq_ "sorted(r['metadata']['namespace'] for r in d['items'])")" "['team-a']"
run "$bin" audit --write-reports --report-api openreports.io/v1alpha1 -n team-a -o json
expect_eq "OpenReports: exit 1" "$code" 1
expect_eq "OpenReports: read back" \
  "$(kubectl get reports.openreports.io -A -o json | jq_ "[(r['metadata']['namespace'], r['source'], r['summary']['fail']) for r in d['items']]")" \
  "[('team-a', 'rootgate', 6)]"

# --- 410 Gone on continue (the unit-test binary drives the client against this server; last,
# as it adds namespace live410) ---------------------------------------------------------------
if [ -n "$tests_bin" ]; then
  run env ROOTGATE_LIVE_KUBECONFIG="$KUBECONFIG" ROOTGATE_LIVE_ETCD="http://127.0.0.1:$KUBE_ETCD_PORT" \
    "$tests_bin" -tc='live kube-apiserver*'
  expect_eq "410 on continue against the real API server" "$code" 0
  expect_contains "410: the live test ran" "$out" "1 passed"
  [ "$code" = 0 ] || echo "$out $err" | tail -20 >&2
fi

echo "audit_test: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
