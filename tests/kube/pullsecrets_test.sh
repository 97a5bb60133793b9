#!/usr/bin/env bash
# Pull secrets like the kubelet (issue 14, items 1 and 4): `rootgate serve --kube-api` behind a
# real kube-apiserver v1.32.13, reading pods' imagePullSecrets through a token of a service
# account that holds exactly the chart's kubeApi RBAC, against Debian's docker-registry with TLS
# and htpasswd auth on loopback. Expected verdicts come from the images' real USER (pushed here:
# 1000 and 0) and SEMANTICS.md (an unreadable image is unknownUser, denied by the default policy),
# never from rootgate's output.
#
# usage: tests/kube/pullsecrets_test.sh path/to/rootgate      (exit 77: no kube-apiserver or no
# docker-registry/umoci/skopeo)
[ $# -eq 1 ] || { echo "usage: $0 path/to/rootgate" >&2; exit 2; }
source "$(dirname "$0")/e2e_lib.sh"
"$root/scripts/deps.sh" docker-registry umoci skopeo apache2-utils >&2 ||
  { echo "skipped: cannot install docker-registry/umoci/skopeo/htpasswd"; exit 77; }
for tool in docker-registry umoci skopeo htpasswd; do
  command -v "$tool" >/dev/null || { echo "skipped: no $tool"; exit 77; }
done

# Secrets and service accounts are read with `get`; the audit log records the reads of the
# webhook's service account only, so the test can count them.
cat >"$work/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["system:serviceaccount:rootgate:rg-rootgate"]
  - level: None
    verbs: [get, list, watch]
  - level: Metadata
EOF
KUBE_AUDIT_POLICY="$work/audit-policy.yaml"
e2e_start
section "API server ready"

# --- a registry with TLS and htpasswd auth, two images --------------------------------------------
password="rg-$(openssl rand -hex 16)"
reg_port="$(kube_free_port)"
reg="localhost:$reg_port"
mkdir -p "$work/reg/data" "$work/reg/certs"
(cd "$work/reg/certs" &&
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=rootgate-test-registry-ca &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost &&
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext &&
  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext &&
  mkdir -p skopeo && cp ca.pem skopeo/ca.crt) >/dev/null 2>&1 || { fail "registry certificates"; finish kube_pullsecrets; }
htpasswd -Bbn team "$password" >"$work/reg/htpasswd"
cat >"$work/reg/config.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/reg/data}}
auth: {htpasswd: {realm: rootgate-test, path: $work/reg/htpasswd}}
http:
  addr: 127.0.0.1:$reg_port
  tls: {certificate: $work/reg/certs/srv.pem, key: $work/reg/certs/srv.key}
EOF
docker-registry serve "$work/reg/config.yml" >"$work/reg/log" 2>&1 &
serve_pids+=($!)  # stopped by serve_lib's EXIT trap with the rest
for _ in $(seq 100); do
  curl -s -o /dev/null --cacert "$work/reg/certs/ca.pem" "https://$reg/v2/" && break
  sleep 0.1
done
oci="$work/oci"
umoci init --layout "$oci" >/dev/null
for image in nonroot:1000 root:0; do
  tag="${image%%:*}"
  umoci new --image "$oci:$tag" >/dev/null &&
    umoci config --image "$oci:$tag" --config.user "${image#*:}" --os linux --architecture amd64 >/dev/null &&
    skopeo copy -q "oci:$oci:$tag" "docker://$reg/team/$tag:1" --dest-cert-dir "$work/reg/certs/skopeo" \
      --dest-creds "team:$password" >/dev/null 2>"$work/skopeo.err" || fail "push $tag: $(cat "$work/skopeo.err")"
done
out="$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/reg/certs/ca.pem" "https://$reg/v2/team/nonroot/manifests/1")"
expect_eq "the registry refuses anonymous reads" "$out" "401"

# --- the webhook's identity: the chart's ServiceAccount with exactly the chart's kubeApi RBAC ----
section "the chart's kubeApi RBAC"
kube_namespace rootgate
"$helm" template rg charts/rootgate -n rootgate --set kubeApi.enabled=true \
  --show-only templates/serviceaccount.yaml --show-only templates/rbac-kubeapi.yaml >"$work/rbac.yaml" ||
  { fail "helm template rbac-kubeapi"; finish kube_pullsecrets; }
kubectl apply -f "$work/rbac.yaml" >/dev/null || { fail "apply the chart's RBAC"; finish kube_pullsecrets; }
sa_user="system:serviceaccount:rootgate:rg-rootgate"
for check in "get secrets:yes" "get serviceaccounts:yes" "list secrets:no" "watch secrets:no" \
             "create secrets:no" "get configmaps:no" "list pods:no"; do
  kc "can-i ${check%%:*}" auth can-i ${check%%:*} -n team-a --as "$sa_user"
  expect_eq "the chart's role: ${check%%:*}" "$out" "${check#*:}"
done
token="$(kubectl -n rootgate create token rg-rootgate --duration=1h)" || fail "kubectl create token"
sa_kubeconfig="$(kube_kubeconfig_token rg-rootgate "$token")"

webhook_certs "$work/pki"
printf 'mode: enforce\npreset: default\n' >"$work/policy.yaml"
E2E_SERVE_NAME=rootgate
start_serve rootgate --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" --policy "$work/policy.yaml" \
  --kube-api --kubeconfig "$sa_kubeconfig" --allow-registry "$reg" --registry-ca "$work/reg/certs/ca.pem" \
  --log-level debug || finish kube_pullsecrets
port="$serve_port"
register_webhook "$port" || finish kube_pullsecrets

# --- namespaces, secrets, pods --------------------------------------------------------------------
kube_namespace team-a
kube_namespace team-b
kc "regcred" -n team-a create secret docker-registry regcred --docker-server="$reg" --docker-username=team \
  --docker-password="$password"
expect_allowed "create the pull secret"
kc "opaque" -n team-a create secret generic opaque --from-literal=.dockerconfigjson='{"auths":{}}'
expect_allowed "create an Opaque secret"
# pod NAME IMAGE [POD_EXTRA_YAML_LINES]: a Pod without runAsUser, so its image's USER decides.
pod() {
  printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\nspec:\n  containers:\n    - {name: app, image: %s}\n' "$1" "$2"
  [ -z "${3:-}" ] || printf '%s\n' "$3"
}
nonroot="$reg/team/nonroot:1"
rootimg="$reg/team/root:1"
with_regcred='  imagePullSecrets: [{name: regcred}]'

section "a pod's imagePullSecrets"
kc "secret nonroot" -n team-a create -f - <<<"$(pod a-nonroot "$nonroot" "$with_regcred")"
expect_allowed "USER 1000 read with the pod's pull secret"
kc "secret root" -n team-a create -f - <<<"$(pod a-root "$rootimg" "$with_regcred")"
expect_denied "USER 0 read with the pod's pull secret" "[rootUser]"

section "the same pod without the secret"
kc "no secret" -n team-a create -f - <<<"$(pod a-nosecret "$nonroot")"
expect_denied "no pull secret: the image cannot be read" "[unknownUser]" "authentication required (401)"
expect_contains "no pull secret: the reason names the missing service account" "$out" \
  'serviceaccount "default" in namespace "team-a" not found'

section "a second namespace right after, same image"
kc "team-b no secret" -n team-b create -f - <<<"$(pod b-nosecret "$nonroot")"
expect_denied "team-b without the secret does not get team-a's answer" "[unknownUser]" "authentication required (401)"
kc "team-b regcred wrong" -n team-b create secret docker-registry regcred --docker-server="$reg" \
  --docker-username=team --docker-password=not-the-password
kc "team-b wrong secret" -n team-b create -f - <<<"$(pod b-wrong "$nonroot" "$with_regcred")"
expect_denied "team-b with a secret of the same name but another password" "[unknownUser]" \
  'imagePullSecrets "regcred"' "401"

section "a service account carrying the secret"
kubectl -n team-a create serviceaccount builder >/dev/null
kubectl -n team-a patch serviceaccount builder -p '{"imagePullSecrets":[{"name":"regcred"}]}' >/dev/null
kc "sa nonroot" -n team-a create -f - <<<"$(pod sa-nonroot "$nonroot" '  serviceAccountName: builder')"
expect_allowed "USER 1000 read with the service account's pull secret"
kc "sa root" -n team-a create -f - <<<"$(pod sa-root "$rootimg" '  serviceAccountName: builder')"
expect_denied "USER 0 read with the service account's pull secret" "[rootUser]"
kc "sa deployment" -n team-a create -f - <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: sa-deploy}
spec:
  selector: {matchLabels: {app: sa-deploy}}
  template:
    metadata: {labels: {app: sa-deploy}}
    spec:
      serviceAccountName: builder
      containers: [{name: app, image: $rootimg}]
EOF
expect_denied "a Deployment's pod template: the service account's secret reads USER 0" "[rootUser]"

section "missing and unusable secrets"
kc "missing" -n team-a create -f - <<<"$(pod a-missing "$nonroot" '  imagePullSecrets: [{name: nosuch}]')"
expect_denied "a missing secret" "[unknownUser]" 'imagePullSecrets "nosuch" in namespace "team-a" not found'
kc "opaque pod" -n team-a create -f - <<<"$(pod a-opaque "$nonroot" '  imagePullSecrets: [{name: opaque}]')"
expect_denied "a secret of the wrong type" "[unknownUser]" 'has type "Opaque"'
kc "missing then good" -n team-a create -f - <<<"$(pod a-two "$nonroot" '  imagePullSecrets: [{name: nosuch}, {name: regcred}]')"
expect_allowed "a missing secret before a good one: the good one is used"

section "one API read per secret for a burst"
kube_namespace team-c
kubectl -n team-c create secret docker-registry regcred --docker-server="$reg" --docker-username=team \
  --docker-password="$password" >/dev/null || fail "create team-c/regcred"
for i in $(seq 12); do pod "burst-$i" "$nonroot" "$with_regcred" >"$work/burst-$i.yaml"; done
seq 12 | xargs -P 12 -I{} sh -c "'$KUBECTL' -n team-c create --dry-run=server -f '$work/burst-{}.yaml' >'$work/burst-{}.out' 2>&1 || echo refused" \
  >"$work/burst.refused"
expect_eq "12 pods at once, all allowed" "$(wc -l <"$work/burst.refused")" "0"
reads="$(jq -r --arg u "$sa_user" 'select(.user.username == $u and .verb == "get" and .objectRef.resource == "secrets" and .objectRef.namespace == "team-c" and .objectRef.name == "regcred") | .auditID' "$KUBE_AUDIT_LOG" | sort -u | wc -l)"
expect_eq "the webhook read team-c/regcred once for 12 pods at once" "$reads" "1"
forbidden="$(jq -r --arg u "$sa_user" 'select(.user.username == $u and .responseStatus.code == 403) | .requestURI' "$KUBE_AUDIT_LOG")"
expect_eq "no request of the webhook was forbidden" "$forbidden" ""
verbs="$(jq -r --arg u "$sa_user" 'select(.user.username == $u) | .verb + " " + .objectRef.resource' "$KUBE_AUDIT_LOG" | sort -u | tr '\n' ',')"
expect_eq "the webhook only ever gets secrets and serviceaccounts" "$verbs" "get secrets,get serviceaccounts,"

section "rootgate audit --resolve-images reads the same secrets"
# A namespace the webhook ignores (the chart's opt-out label), so root pods can be stored.
kube_namespace team-x rootgate.io/ignore=true
kubectl -n team-x create secret docker-registry regcred --docker-server="$reg" --docker-username=team \
  --docker-password="$password" >/dev/null || fail "create team-x/regcred"
kubectl -n team-x create -f - >/dev/null <<<"$(pod x-root "$rootimg" "$with_regcred")" || fail "create x-root"
kubectl -n team-x create -f - >/dev/null <<<"$(pod x-nonroot "$nonroot" "$with_regcred")" || fail "create x-nonroot"
kubectl -n team-x create -f - >/dev/null <<<"$(pod x-nosecret "$nonroot")" || fail "create x-nosecret"
audit_out="$("$bin" audit -n team-x --resolve-images --allow-registry "$reg" --registry-ca "$work/reg/certs/ca.pem" \
  -o json 2>"$work/audit.err")"
audit_code=$?
expect_eq "audit exit (something denied)" "$audit_code" "1"
verdict() { jq -r --arg n "$1" '.results[] | select(.name == $n) | "\(.allowed) \([.violations[].rule] | join(","))"' <<<"$audit_out"; }
expect_eq "audit: USER 0 read with the pod's secret" "$(verdict x-root)" "false rootUser"
expect_eq "audit: USER 1000 read with the pod's secret" "$(verdict x-nonroot)" "true "
expect_eq "audit: no secret, unknown" "$(verdict x-nosecret)" "false unknownUser"
expect_contains "audit: the reason names the 401" \
  "$(jq -r '.results[] | select(.name == "x-nosecret") | .violations[0].message' <<<"$audit_out")" "authentication required (401)"
for what in "$password" "$(printf 'team:%s' "$password" | base64 -w0)"; do
  expect_not_contains "secret not in audit's output" "$audit_out$(cat "$work/audit.err")" "$what"
done

section "serve --kube-api --audit-interval: the background audit reads the same secrets"
# A second replica (admin kubeconfig: the audit lists every namespace) with the audit on; its
# gauges for team-x must show what the audit CLI found above: x-root read through its pod's
# secret as USER 0 (rootUser), x-nosecret unknown (unknownUser), x-nonroot allowed.
kube_namespace rootgate
POD_NAME=bg E2E_SERVE_NAME=bg start_serve bg --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" \
  --policy "$work/policy.yaml" --kube-api --kubeconfig "$KUBECONFIG" --audit-interval 2s \
  --audit-lease-namespace rootgate --allow-registry "$reg" --registry-ca "$work/reg/certs/ca.pem" ||
  finish kube_pullsecrets
bg_port="$serve_port"
bg_gauge() { curl -sS --cacert "$work/pki/ca.crt" "https://127.0.0.1:$bg_port/metrics" | awk -v k="$1" '$1 == k { print $2 }'; }
for _ in $(seq 150); do [ "$(bg_gauge rootgate_audit_last_scan_success)" == 1 ] && break; sleep 0.2; done
expect_eq "background audit: a scan succeeded" "$(bg_gauge rootgate_audit_last_scan_success)" "1"
expect_eq "background audit: team-x rootUser (USER 0 through the pod's secret)" \
  "$(bg_gauge 'rootgate_audit_violations{namespace="team-x",rule="rootUser"}')" "1"
expect_eq "background audit: team-x unknownUser (the pod without a secret)" \
  "$(bg_gauge 'rootgate_audit_violations{namespace="team-x",rule="unknownUser"}')" "1"
expect_eq "background audit: team-x allowed (USER 1000 through the pod's secret)" \
  "$(bg_gauge 'rootgate_audit_workloads{namespace="team-x",decision="allow"}')" "1"
for what in "$password" "$(printf 'team:%s' "$password" | base64 -w0)"; do
  expect_not_contains "secret not in the audit replica's log" "$(cat "$work/bg.log" "$work/bg.out" 2>/dev/null)" "$what"
done
E2E_SERVE_NAME=rootgate

section "rootgate check --resolve-images --kubeconfig reads the same secrets"
# Manifests on disk, judged with the cluster's secrets: one in team-x (named), one without a
# namespace (the context's namespace, set to team-x), one in team-b (whose regcred is wrong).
ctx_kubeconfig="$work/admin-team-x.kubeconfig"
sed 's/context: {cluster: test, user: admin}/context: {cluster: test, user: admin, namespace: team-x}/' "$KUBECONFIG" >"$ctx_kubeconfig"
{ pod c-root "$rootimg" "$with_regcred" | sed 's/^metadata: {name: c-root}/metadata: {name: c-root, namespace: team-x}/'
  echo ---; pod c-nonroot "$nonroot" "$with_regcred"
  echo ---; pod c-wrong "$nonroot" "$with_regcred" | sed 's/^metadata: {name: c-wrong}/metadata: {name: c-wrong, namespace: team-b}/'
} >"$work/check-pods.yaml"
check_out="$("$bin" check --resolve-images --kubeconfig "$ctx_kubeconfig" --allow-registry "$reg" \
  --registry-ca "$work/reg/certs/ca.pem" -o json "$work/check-pods.yaml" 2>"$work/check.err")"
verdict() { jq -r --arg n "$1" '.results[] | select(.name == $n) | "\(.allowed) \([.violations[].rule] | join(","))"' <<<"$check_out"; }
expect_eq "check: USER 0 read with the pod's secret" "$(verdict c-root)" "false rootUser"
expect_eq "check: no namespace, the context's secret reads USER 1000" "$(verdict c-nonroot)" "true "
expect_eq "check: team-b's wrong secret, unknown" "$(verdict c-wrong)" "false unknownUser"
expect_contains "check: the refused secret named" \
  "$(jq -r '.results[] | select(.name == "c-wrong") | .violations[0].message' <<<"$check_out")" 'imagePullSecrets "regcred"'
"$bin" check --resolve-images --allow-registry "$reg" --registry-ca "$work/reg/certs/ca.pem" -o json \
  "$work/check-pods.yaml" >"$work/check-nocluster.json" 2>/dev/null
expect_eq "check without cluster access: no secrets" \
  "$(jq -r '[.results[] | .violations[].rule] | unique | join(",")' "$work/check-nocluster.json")" "unknownUser"
for what in "$password" "$(printf 'team:%s' "$password" | base64 -w0)"; do
  expect_not_contains "secret not in check's output" "$check_out$(cat "$work/check.err")" "$what"
done

section "the password never leaves"
sleep 1.2  # log lines are flushed within a second
metrics="$(curl -s --cacert "$work/pki/ca.crt" "https://127.0.0.1:$port/metrics")"
expect_contains "metrics answered" "$metrics" "rootgate_"
basic="$(printf 'team:%s' "$password" | base64 -w0)"
for what in "$password" "$basic"; do
  expect_not_contains "secret not in rootgate's log" "$(cat "$work/rootgate.log" "$work/rootgate.out")" "$what"
  expect_not_contains "secret not in /metrics" "$metrics" "$what"
done
expect_contains "the log names an unusable secret" "$(cat "$work/rootgate.log")" '"name":"nosuch"'

# Figures, printed (never asserted): rootgate's own decision times.
echo "figures: decision with a cold pull secret (API get + registry token + fetch): $(decisions a-nonroot | jq -r .duration_ms | head -1) ms;" \
  "same image and secret, cached: $(decisions a-two | jq -r .duration_ms | head -1) ms;" \
  "burst of 12, slowest: $(for i in $(seq 12); do decisions "burst-$i" | jq -r .duration_ms; done | sort -g | tail -1) ms"
stop_serve "$serve_pid" rootgate
finish kube_pullsecrets
