#!/usr/bin/env bash
# The background audit of `rootgate serve --audit-interval` against a real kube-apiserver
# (tests/kube/kube_lib.sh): two replicas against one API server with exactly one leading (the
# Lease's holder and rootgate_audit_leader on each /metrics); gauges and PolicyReports after a
# scan of workloads made here (expected values from SEMANTICS.md: default preset rootUser,
# unknownUser, privileged; an observed uid 0 is rootUser); the leader SIGKILLed → the other takes
# over once the lease duration has passed (15 s, plus up to 2 s × 2.2 retry); a SIGTERMed leader
# releases the Lease → the next candidate takes over at its next retry; the chart's audit RBAC
# applied and serve run under a token of that service account (and with a permission missing,
# the scan fails); an API server outage marks the last scan failed while /healthz and
# admission keep answering and the gauges keep the last scan's figures.
# Usage: tests/kube/leader_test.sh path/to/rootgate
source "$(dirname "$0")/e2e_lib.sh"
e2e_start

ca="$work/pki/ca.crt"
webhook_certs "$work/pki"
metrics() { curl -sS --cacert "$ca" "https://127.0.0.1:$1/metrics"; }
# gauge PORT 'NAME{LABELS}': the value of one sample ("" when absent).
gauge() { metrics "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
holder() { kubectl -n rootgate get lease rootgate-audit -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
# wait_for SECONDS CMD...: polls CMD every 0.2 s; returns 1 on timeout.
wait_for() {
  local limit="$1" start=$SECONDS; shift
  while ! "$@"; do
    [ $((SECONDS - start)) -lt "$limit" ] || return 1
    sleep 0.2
  done
}
holder_is() { [ "$(holder)" == "$1" ]; }
scanned_ok() { [ "$(gauge "$1" rootgate_audit_last_scan_success)" == 1 ]; }
# serve NAME [ARGS...]: a replica with POD_NAME=NAME (its Lease identity) and the admin kubeconfig.
serve() {
  local name="$1"; shift
  POD_NAME="$name" E2E_SERVE_NAME="$name" start_serve "$name" --tls-cert "$work/pki/tls.crt" \
    --tls-key "$work/pki/tls.key" --offline --audit-interval 2s --audit-lease-namespace rootgate "$@"
}

section "objects"
kube_namespace rootgate && kube_namespace lead-a && kube_namespace lead-b || { fail "namespaces"; finish leader_test; }
kubectl apply -f charts/rootgate/files/crds/wgpolicyk8s.io_policyreports.yaml >/dev/null || fail "PolicyReport CRD"
pod() { # namespace name securityContext
  printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: %s}\n' "$2" "$1"
  printf 'spec: {containers: [{name: app, image: registry.test/app:1, securityContext: %s}]}\n' "$3"
}
{
  pod lead-a root-pod '{runAsUser: 0}'
  pod lead-a nonroot '{runAsUser: 1000}'
  pod lead-a unknown '{}'
  pod lead-a observed-root '{runAsUser: 1000}'
  printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: priv, namespace: lead-a}\n'
  printf 'spec: {selector: {matchLabels: {app: x}}, template: {metadata: {labels: {app: x}}, spec: {containers: [{name: app, image: registry.test/app:1, securityContext: {runAsUser: 1000, privileged: true}}]}}}\n'
  pod lead-b b1 '{runAsUser: 1000}'
} >"$work/objects.yaml"
kubectl apply -f "$work/objects.yaml" >/dev/null || fail "creating the objects"
# The kubelet's report (KEP-3619) that observed-root runs as uid 0, through the status subresource.
kubectl -n lead-a patch pod observed-root --subresource=status --type=merge -p \
  '{"status":{"containerStatuses":[{"name":"app","image":"registry.test/app:1","imageID":"","ready":true,"restartCount":0,"state":{"running":{}},"user":{"linux":{"uid":0,"gid":0}}}]}}' \
  >/dev/null || fail "status patch"

section "two replicas, one leader"
serve lead1 --kubeconfig "$KUBECONFIG" --write-reports || finish leader_test
p1=$serve_pid port1=$serve_port
serve lead2 --kubeconfig "$KUBECONFIG" --write-reports || finish leader_test
p2=$serve_pid port2=$serve_port
wait_for 20 eval '[ -n "$(holder)" ]' || fail "no Lease holder after 20 s"
leader="$(holder)"
case "$leader" in
  lead1) lport=$port1 lpid=$p1 fport=$port2 fpid=$p2 follower=lead2 ;;
  lead2) lport=$port2 lpid=$p2 fport=$port1 fpid=$p1 follower=lead1 ;;
  *) fail "the Lease holder is [$leader], not lead1 or lead2"; finish leader_test ;;
esac
wait_for 10 eval '[ "$(gauge $lport rootgate_audit_leader)" == 1 ]' || fail "$leader: leader gauge not 1"
expect_eq "the follower's leader gauge" "$(gauge "$fport" rootgate_audit_leader)" 0
expect_eq "the Lease: duration and namespace" \
  "$(kubectl -n rootgate get lease rootgate-audit -o jsonpath='{.spec.leaseDurationSeconds}')" 15

section "gauges and reports after a scan"
wait_for 30 scanned_ok "$lport" || fail "no successful scan on the leader: $(tail -5 "$work/$leader.log")"
m="$(metrics "$lport")"
g() { awk -v k="$1" '$1 == k { print $2 }' <<<"$m"; }
# lead-a: root-pod (rootUser), unknown (unknownUser), observed-root (observed uid 0: rootUser),
# priv (privileged) denied; nonroot allowed. lead-b: b1 allowed.
expect_eq "workloads lead-a deny" "$(g 'rootgate_audit_workloads{namespace="lead-a",decision="deny"}')" 4
expect_eq "workloads lead-a allow" "$(g 'rootgate_audit_workloads{namespace="lead-a",decision="allow"}')" 1
expect_eq "workloads lead-b allow" "$(g 'rootgate_audit_workloads{namespace="lead-b",decision="allow"}')" 1
expect_eq "no other workload series" "$(grep -c '^rootgate_audit_workloads{' <<<"$m")" 3
expect_eq "violations lead-a rootUser" "$(g 'rootgate_audit_violations{namespace="lead-a",rule="rootUser"}')" 2
expect_eq "violations lead-a unknownUser" "$(g 'rootgate_audit_violations{namespace="lead-a",rule="unknownUser"}')" 1
expect_eq "violations lead-a privileged" "$(g 'rootgate_audit_violations{namespace="lead-a",rule="privileged"}')" 1
expect_eq "no other violation series" "$(grep -c '^rootgate_audit_violations{' <<<"$m")" 3
expect_eq "observed root containers" "$(g rootgate_audit_observed_root_containers)" 1
ts="$(g rootgate_audit_last_scan_timestamp_seconds)"
expect_eq "last scan time is now (±60 s)" "$(awk -v t="$ts" -v n="$(date +%s)" 'BEGIN { print (t > n - 60 && t <= n + 1) }')" 1
expect_eq "last scan duration is a number ≥ 0" "$(awk -v d="$(g rootgate_audit_last_scan_duration_seconds)" 'BEGIN { print (d + 0 >= 0 && d != "") }')" 1
expect_eq "the follower scanned nothing" "$(gauge "$fport" 'rootgate_audit_scans_total{result="success"}')" 0
# One report per namespace; 3 active rules per object: lead-a 5 objects → 15 results, 4 fail.
report() { kubectl -n "$1" get policyreports.wgpolicyk8s.io rootgate -o jsonpath='{.summary.pass}/{.summary.fail}/{.summary.warn}' 2>&1; }
expect_eq "PolicyReport lead-a pass/fail/warn" "$(report lead-a)" "11/4/0"
expect_eq "PolicyReport lead-b pass/fail/warn" "$(report lead-b)" "3/0/0"
expect_eq "PolicyReport lead-a fails" \
  "$(kubectl -n lead-a get policyreports.wgpolicyk8s.io rootgate -o json | jq -c '[.results[] | select(.result == "fail") | [.resources[0].name, .rule]] | sort')" \
  '[["observed-root","rootUser"],["priv","privileged"],["root-pod","rootUser"],["unknown","unknownUser"]]'
# Kept current: a new root pod in lead-b shows up at the next scan (2 objects: 5 pass, 1 fail).
pod lead-b b2 '{runAsUser: 0}' | kubectl apply -f - >/dev/null
wait_for 20 eval '[ "$(report lead-b)" == "5/1/0" ]' || fail "lead-b report not updated: $(report lead-b)"
wait_for 10 eval '[ "$(gauge $lport "rootgate_audit_workloads{namespace=\"lead-b\",decision=\"deny\"}")" == 1 ]' ||
  fail "lead-b deny gauge not updated"

section "SIGKILL of the leader: takeover after the lease duration"
transitions="$(kubectl -n rootgate get lease rootgate-audit -o jsonpath='{.spec.leaseTransitions}')"
kill -KILL "$lpid"; wait "$lpid" 2>/dev/null
killed=$(date +%s.%N)
wait_for 60 holder_is "$follower" || fail "$follower did not take over within 60 s"
took="$(awk -v a="$killed" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
# Printed, not asserted beyond the 60 s above (a loaded machine slows every round): expected
# 15 s after the follower last saw the record change, plus its retry (2 s + up to 2.4 s).
echo "takeover after SIGKILL: ${took} s (lease duration 15 s, retry 2 s + jitter up to 2.4 s)"
# Behaviour, not speed: the follower did not take a Lease that still looked alive. It saw the
# last renewal at most 2 s before the kill, so no takeover can be earlier than 13 s after it.
expect_eq "takeover waited for the lease to expire (≥ 12 s)" "$(awk -v t="$took" 'BEGIN { print (t >= 12) }')" 1
wait_for 10 eval '[ "$(gauge $fport rootgate_audit_leader)" == 1 ]' || fail "$follower: leader gauge not 1"
expect_eq "leaseTransitions +1" "$(kubectl -n rootgate get lease rootgate-audit -o jsonpath='{.spec.leaseTransitions}')" \
  "$((transitions + 1))"
wait_for 20 scanned_ok "$fport" || fail "$follower: no scan after taking over"

section "SIGTERM of the leader releases the Lease"
serve lead3 --kubeconfig "$KUBECONFIG" --write-reports || finish leader_test
p3=$serve_pid port3=$serve_port
sleep 1
expect_eq "lead3 waits" "$(gauge "$port3" rootgate_audit_leader)" 0
kill -TERM "$fpid"
termed=$(date +%s.%N)
wait "$fpid"; code=$?
echo "SIGTERM to exit of the leading replica (scan stopped, Lease released): $(awk -v a="$termed" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
expect_eq "$follower: exit 0 after SIGTERM" "$code" 0
expect_contains "$follower: logged the release" "$(cat "$work/$follower.log")" "audit lease lost or released"
wait_for 20 holder_is lead3 || fail "lead3 did not take over after the release"
took="$(awk -v a="$termed" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
echo "takeover after SIGTERM (released): ${took} s"
# Behaviour: without the release lead3 could not lead before the lease ran out on its clock
# (≥ 13 s, as above); only the released Lease lets it in earlier.
expect_eq "lead3 took the released Lease before it could have expired (< 12 s)" "$(awk -v t="$took" 'BEGIN { print (t < 12) }')" 1
kill -TERM "$p3"; wait "$p3"
expect_eq "the last replica released: holderIdentity empty" "$(holder)" ""
expect_eq "released with leaseDurationSeconds 1" \
  "$(kubectl -n rootgate get lease rootgate-audit -o jsonpath='{.spec.leaseDurationSeconds}')" 1

section "bad audit flags"
out="$(env -u POD_NAMESPACE "$bin" serve --offline --audit-interval 2s --kubeconfig "$KUBECONFIG" 2>&1)"; code=$?
expect_eq "no Lease namespace outside a pod: exit 2" "$code" 2
expect_contains "no Lease namespace: named" "$out" "give --audit-lease-namespace"
out="$("$bin" serve --offline --audit-interval 2s --audit-lease-namespace rootgate --kubeconfig "$work/missing" 2>&1)"; code=$?
expect_eq "a missing kubeconfig: exit 2" "$code" 2
expect_contains "a missing kubeconfig: named" "$out" "$work/missing"
out="$(env -u KUBERNETES_SERVICE_HOST "$bin" serve --offline --audit-interval 2s --audit-lease-namespace rootgate 2>&1)"; code=$?
expect_eq "no kubeconfig and not in a pod: exit 2" "$code" 2
expect_contains "no kubeconfig and not in a pod: named" "$out" "KUBERNETES_SERVICE_HOST"

section "the chart's audit RBAC, serve under the service account's token"
rbac() { # output file, helm --set args
  local f="$1"; shift
  "$helm" template rg charts/rootgate -n rootgate --show-only templates/rbac-audit.yaml \
    --set audit.enabled=true "$@" >"$f" || fail "helm template rbac-audit $*"
}
rbac "$work/rbac.yaml" --set audit.writeReports=true
kubectl apply -f "$work/rbac.yaml" >/dev/null || fail "applying the chart's audit RBAC"
sa_kubeconfig="$(kube_kubeconfig_sa rootgate rg-rootgate)" || fail "service account token"
expect_eq "the SA may not read secrets (nothing more than asked)" \
  "$(kubectl --kubeconfig "$sa_kubeconfig" auth can-i list secrets -A 2>&1)" "no"
pod lead-b b3 '{runAsUser: 0}' | kubectl apply -f - >/dev/null
# No Lease: the SA must create it (the Role's create rule), then get and update it by name.
kubectl -n rootgate delete lease rootgate-audit >/dev/null || fail "deleting the Lease"
# As in a pod: no --kubeconfig and no --audit-lease-namespace; the in-cluster config (the
# variables, and ROOTGATE_SERVICEACCOUNT_DIR standing in for the mounted token, CA and namespace).
mkdir -p "$work/sa" && cp "$KUBE_CA" "$work/sa/ca.crt" && echo rootgate >"$work/sa/namespace"
kubectl -n rootgate create token rg-rootgate --duration=1h >"$work/sa/token" || fail "kubectl create token"
KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$KUBE_API_PORT" ROOTGATE_SERVICEACCOUNT_DIR="$work/sa" \
  POD_NAME=sa1 E2E_SERVE_NAME=sa1 start_serve sa1 --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" \
  --offline --audit-interval 2s --write-reports || finish leader_test
sa_pid=$serve_pid sa_port=$serve_port
expect_contains "sa1: the Lease's namespace from the service-account folder" \
  "$(jq -cR 'fromjson? | select(.msg? == "background audit started") | .lease' "$work/sa1.log")" '"rootgate/rootgate-audit"'
wait_for 20 holder_is sa1 || fail "sa1 did not take the Lease under the chart's RBAC: $(tail -3 "$work/sa1.log")"
wait_for 30 scanned_ok "$sa_port" || fail "sa1: no successful scan under the chart's RBAC: $(grep -i 'forbidden' "$work/sa1.log" | head -3)"
expect_eq "sa1: reports written under the SA (lead-b: 3 objects, b2 and b3 fail)" "$(report lead-b)" "7/2/0"
expect_not_contains "sa1: no Forbidden" "$(cat "$work/sa1.log")" "Forbidden"
kill -TERM "$sa_pid"; wait "$sa_pid"
# The same with the report rule missing (writeReports off in the chart, --write-reports on the
# flag): the scan must fail, naming the refused call.
rbac "$work/rbac-noreports.yaml"
kubectl apply -f "$work/rbac-noreports.yaml" >/dev/null || fail "applying the reduced RBAC"
wait_for 10 eval '[ "$(kubectl --kubeconfig "$sa_kubeconfig" auth can-i patch policyreports.wgpolicyk8s.io -n lead-b 2>&1)" == no ]' ||
  fail "the reduced RBAC still allows patching reports"
serve sa2 --kubeconfig "$sa_kubeconfig" --write-reports || finish leader_test
sa2_pid=$serve_pid sa2_port=$serve_port
wait_for 30 eval '[ "$(gauge $sa2_port rootgate_audit_last_scan_success)" == 0 ]' || fail "sa2: a missing permission did not fail the scan"
expect_contains "sa2: the refused call is named" "$(cat "$work/sa2.log")" "Forbidden (403)"
expect_contains "sa2: on the report kind" "$(cat "$work/sa2.log")" "policyreports.wgpolicyk8s.io"
expect_eq "sa2: the figures of the scan are published (listing worked)" \
  "$(gauge "$sa2_port" 'rootgate_audit_workloads{namespace="lead-b",decision="deny"}')" 2
kill -TERM "$sa2_pid"; wait "$sa2_pid"
kubectl apply -f "$work/rbac.yaml" >/dev/null

section "API server outage: the last scan failed, admission and health go on"
serve out1 --kubeconfig "$KUBECONFIG" || finish leader_test
out_pid=$serve_pid out_port=$serve_port
wait_for 30 scanned_ok "$out_port" || fail "out1: no successful scan"
before="$(gauge "$out_port" 'rootgate_audit_workloads{namespace="lead-a",decision="deny"}')"
kube_stop_apiserver
wait_for 40 eval '[ "$(gauge $out_port rootgate_audit_last_scan_success)" == 0 ]' || fail "out1: the outage did not mark the scan failed"
expect_contains "out1: logged" "$(cat "$work/out1.log")" "background audit scan failed"
expect_eq "out1: gauges kept" "$(gauge "$out_port" 'rootgate_audit_workloads{namespace="lead-a",decision="deny"}')" "$before"
expect_eq "out1: /healthz" "$(curl -sS --cacert "$ca" "https://127.0.0.1:$out_port/healthz")" "ok"
reply="$(curl -sS --cacert "$ca" -H 'Content-Type: application/json' \
  --data @examples/admission/pod-create-root.json "https://127.0.0.1:$out_port/validate?timeout=10s")"
expect_eq "out1: admission still answers (a denial)" "$(jq -r '.response.allowed' <<<"$reply")" "false"
kill -TERM "$out_pid"; wait "$out_pid"; code=$?
expect_eq "out1: exit 0 after SIGTERM with the API server down" "$code" 0

finish leader_test
