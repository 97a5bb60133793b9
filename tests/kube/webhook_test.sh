#!/usr/bin/env bash
# rootgate end to end behind a real kube-apiserver v1.32.13 (issue 12, item 2): rootgate serve on
# loopback, registered with the ValidatingWebhookConfiguration the chart renders (webhook.url +
# caBundle), every request made with kubectl and the verdict read from kubectl's exit code and
# message. Expected verdicts come from SEMANTICS.md's rules (explicit runAsUser 0 -> rootUser,
# privileged -> privileged, Windows ContainerAdministrator -> rootUser), not from rootgate.
#
# usage: tests/kube/webhook_test.sh path/to/rootgate      (exit 77: no kube-apiserver)
[ $# -eq 1 ] || { echo "usage: $0 path/to/rootgate" >&2; exit 2; }
source "$(dirname "$0")/e2e_lib.sh"
e2e_start
section "API server ready"

webhook_certs "$work/pki"
printf 'mode: enforce\npreset: default\n' >"$work/policy.yaml"
E2E_SERVE_NAME=rootgate
start_serve rootgate --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" \
  --policy "$work/policy.yaml" --offline --reload-interval 200ms || finish webhook
port="$serve_port"

kube_namespace e2e
# A root pod made before rootgate is registered: what a cluster has when the webhook is added.
kc "old root pod" -n e2e create -f - <<<"$(pod_yaml oldroot Pod "$SC_ROOT")"
expect_allowed "root pod before the webhook"

register_webhook "$port" || finish webhook

# --- every pod-bearing kind, allowed and denied ------------------------------------------------
section "every pod-bearing kind, allowed and denied"
for kind in Pod Deployment ReplicaSet StatefulSet DaemonSet Job CronJob ReplicationController PodTemplate; do
  lower="$(tr '[:upper:]' '[:lower:]' <<<"$kind")"
  kc "$kind ok" -n e2e create -f - <<<"$(pod_yaml "ok-$lower" "$kind")"
  expect_allowed "$kind non-root"
  kc "$kind root" -n e2e create -f - <<<"$(pod_yaml "root-$lower" "$kind" "$SC_ROOT")"
  expect_denied "$kind runAsUser 0" "[rootUser]"
  kc "$kind root absent" -n e2e get "$lower" "root-$lower"
  expect_contains "$kind denied object not stored" "$out" "NotFound"
  kc "$kind priv" -n e2e create -f - <<<"$(pod_yaml "priv-$lower" "$kind" '{runAsUser: 1000, privileged: true}')"
  expect_denied "$kind privileged" "[privileged]"
done

# --- server-side dry-run and server-side apply -------------------------------------------------
section "server-side dry-run and server-side apply"
kc "dry-run root" -n e2e create --dry-run=server -f - <<<"$(pod_yaml dry-root Pod "$SC_ROOT")"
expect_denied "server-side dry-run of a root pod" "[rootUser]"
kc "dry-run ok" -n e2e create --dry-run=server -f - <<<"$(pod_yaml dry-ok Pod)"
expect_allowed "server-side dry-run of a non-root pod"
kc "dry-run ok stored?" -n e2e get pod dry-ok
expect_contains "dry-run creates nothing" "$out" "NotFound"
kc "ssa root" -n e2e apply --server-side -f - <<<"$(pod_yaml ssa-root Deployment "$SC_ROOT")"
expect_denied "server-side apply of a root Deployment" "[rootUser]"
kc "ssa ok" -n e2e apply --server-side -f - <<<"$(pod_yaml ssa-ok Deployment)"
expect_allowed "server-side apply of a non-root Deployment"
kc "ssa update to root" -n e2e apply --server-side -f - <<<"$(pod_yaml ssa-ok Deployment "$SC_ROOT")"
expect_denied "server-side apply turning a Deployment root" "[rootUser]"

# --- kubectl debug: ephemeral containers -------------------------------------------------------
section "kubectl debug: ephemeral containers"
kc "debug target" -n e2e create -f - <<<"$(pod_yaml dbg Pod "$SC_NONROOT" 'securityContext: {runAsUser: 1000, runAsNonRoot: true}')"
expect_allowed "debug target pod"
kc "debug general" -n e2e debug dbg --image=registry.example/tools:1 --container=dbg1 --profile=general
expect_allowed "kubectl debug, a non-root pod's user inherited"
kc "debug sysadmin" -n e2e debug dbg --image=registry.example/tools:1 --container=dbg2 --profile=sysadmin
expect_denied "kubectl debug --profile=sysadmin (privileged)" "[privileged]"
kc "debug containers" -n e2e get pod dbg -o 'jsonpath={.spec.ephemeralContainers[*].name}'
expect_eq "ephemeral containers kept" "$out" "dbg1"

# --- a restartable sidecar init container, a Windows pod ---------------------------------------
section "a restartable sidecar init container, a Windows pod"
sidecar() { # NAME SC
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  initContainers:
    - {name: proxy, image: registry.example/proxy:1, restartPolicy: Always, securityContext: $2}
  containers:
    - {name: app, image: registry.example/app:1, securityContext: $SC_NONROOT}
EOF
}
kc "sidecar root" -n e2e create -f - <<<"$(sidecar sidecar-root "$SC_ROOT")"
expect_denied "restartable sidecar init container as root" "[rootUser]" 'proxy'
kc "sidecar ok" -n e2e create -f - <<<"$(sidecar sidecar-ok "$SC_NONROOT")"
expect_allowed "restartable sidecar init container non-root"
windows() { # NAME USER
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  os: {name: windows}
  securityContext: {windowsOptions: {runAsUserName: $2}}
  containers:
    - {name: app, image: mcr.example/windows/app:1}
EOF
}
kc "windows admin" -n e2e create -f - <<<"$(windows win-admin ContainerAdministrator)"
expect_denied "Windows pod as ContainerAdministrator" "[rootUser]"
kc "windows user" -n e2e create -f - <<<"$(windows win-user ContainerUser)"
expect_allowed "Windows pod as ContainerUser"

# --- UPDATE of the root pod made before the webhook --------------------------------------------
section "UPDATE of the root pod made before the webhook"
kc "label old root" -n e2e label pod oldroot team=a
expect_allowed "label-only update of an existing root pod"
kc "image old root" -n e2e set image pod/oldroot app=registry.example/app:2
expect_denied "image change of an existing root pod" "[rootUser]"
kc "image kept" -n e2e get pod oldroot -o 'jsonpath={.spec.containers[0].image}'
expect_eq "image change not stored" "$out" "registry.example/app:1"

# --- the harness keeps what a kubelet reports (SupplementalGroupsPolicy on 1.32) ----------------
section "the harness keeps what a kubelet reports"
kc "status user" -n e2e patch pod oldroot --subresource=status --type=merge -p \
  '{"status":{"containerStatuses":[{"name":"app","image":"registry.example/app:1","imageID":"","ready":false,"restartCount":0,"state":{"waiting":{"reason":"Test"}},"user":{"linux":{"uid":0,"gid":0,"supplementalGroups":[0]}}}]}}'
expect_allowed "kubelet-style status patch"
kc "status user read" -n e2e get pod oldroot -o 'jsonpath={.status.containerStatuses[0].user.linux.uid}'
expect_eq "status.containerStatuses[].user kept" "$out" "0"

# --- namespace selector exclusions -------------------------------------------------------------
section "namespace selector exclusions"
kube_namespace e2e-optout rootgate.io/ignore=true
kube_namespace rootgate
for ns in kube-system e2e-optout rootgate; do
  kc "excluded $ns" -n "$ns" create -f - <<<"$(pod_yaml "excl-$ns" Pod "$SC_ROOT")"
  expect_allowed "root pod in excluded namespace $ns"
done

# --- warn and audit modes ----------------------------------------------------------------------
section "warn and audit modes"
set_policy() { # MODE: rewrites the policy and waits until a probe shows rootgate uses it
  printf 'mode: %s\npreset: default\n' "$1" >"$work/policy.yaml.new" && mv "$work/policy.yaml.new" "$work/policy.yaml"
  local _
  for _ in $(seq 50); do
    sleep 0.3
    kc probe -n e2e create --dry-run=server -f - <<<"$(pod_yaml "probe-$1" Pod "$SC_ROOT")"
    case "$1" in
      enforce) [ "$code" -ne 0 ] && return 0 ;;
      *) [ "$code" -eq 0 ] && return 0 ;;
    esac
  done
  fail "policy mode $1 never took effect: $out"
}
set_policy warn
kc "warn root" -n e2e create -f - <<<"$(pod_yaml warn-root Pod "$SC_ROOT")"
expect_allowed "warn mode: root pod allowed"
expect_contains "warn mode: kubectl's Warning line" "$out" 'Warning: rootgate: container "app"'
expect_contains "warn mode: the warning says why" "$out" "runAsUser is 0"
set_policy audit
kc "audit root" -n e2e create -f - <<<"$(pod_yaml audit-root Pod "$SC_ROOT")"
expect_allowed "audit mode: root pod allowed"
expect_not_contains "audit mode: no warning" "$out" "Warning:"
audit_line="$(jq -c 'select(.objectRef.name? == "audit-root" and .verb == "create" and .objectRef.resource == "pods")' "$KUBE_AUDIT_LOG")"
expect_contains "audit log annotation" "$(jq -r '.annotations["pods.rootgate.io/rootUser"] // "none"' <<<"$audit_line")" "runAsUser"
set_policy enforce

# --- admissionReviewVersions: [v1beta1] --------------------------------------------------------
section "admissionReviewVersions: [v1beta1]"
sed -i 's/admissionReviewVersions: \[v1, v1beta1\]/admissionReviewVersions: [v1beta1]/' "$work/webhook.yaml"
expect_contains "webhook.yaml v1beta1 only" "$(cat "$work/webhook.yaml")" "admissionReviewVersions: [v1beta1]"
kubectl apply -f "$work/webhook.yaml" >/dev/null
sleep 2 # the API server's webhook informer
kc "v1beta1 root" -n e2e create -f - <<<"$(pod_yaml beta-root Pod "$SC_ROOT")"
expect_denied "v1beta1 AdmissionReview: root pod" "[rootUser]"
kc "v1beta1 ok" -n e2e create -f - <<<"$(pod_yaml beta-ok Pod)"
expect_allowed "v1beta1 AdmissionReview: non-root pod"

# --- what rootgate saw -------------------------------------------------------------------------
section "what rootgate saw"
sleep 1.2 # decision lines are flushed within a second
expect_eq "oldroot label update allowed" "$(decisions oldroot | jq -r 'select(.operation == "UPDATE") | .decision' | head -1)" "allow"
expect_ne "oldroot label update: the note says why it was not evaluated" \
  "$(decisions oldroot | jq -r 'select(.operation == "UPDATE") | .note' | head -1)" ""
expect_eq "dry-run flagged" "$(decisions dry-root | jq -r .dry_run)" "true"
for ns in kube-system e2e-optout rootgate; do
  expect_eq "excluded $ns never reached rootgate" "$(decisions "excl-$ns")" ""
done
expect_eq "warn decision" "$(decisions warn-root | jq -r .decision)" "warn"
expect_eq "audit decision" "$(decisions audit-root | jq -r .decision)" "audit"

stop_serve "$serve_pid" rootgate
finish webhook
