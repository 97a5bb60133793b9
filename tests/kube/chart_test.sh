#!/usr/bin/env bash
# The chart and the plain manifests against a real kube-apiserver v1.32.13 (issue 12, item 4):
#   * helm install (helm 3.10.1 from npm) creates every object, each accepted by v1.32's
#     validation (nothing runs: no kubelet), with the default values and with most optional
#     objects on (HPA, NetworkPolicy, ResourceQuota for system-cluster-critical, mTLS);
#   * a release with webhook.url pointing at a rootgate serve on loopback: the chart's own
#     ValidatingWebhookConfiguration makes the API server call it (a root pod denied);
#   * helm upgrade keeps the self-signed CA and serving certificate (the chart's `lookup`);
#   * helm uninstall leaves no ValidatingWebhookConfiguration, Secret or RBAC object behind;
#   * deploy/ (after deploy/gen-certs.sh fills in the caBundle) with
#     kubectl apply --server-side --dry-run=server.
# The expected object kinds are the chart's documented ones (issue 5, charts/rootgate/README.md).
#
# usage: tests/kube/chart_test.sh path/to/rootgate      (exit 77: no kube-apiserver)
[ $# -eq 1 ] || { echo "usage: $0 path/to/rootgate" >&2; exit 2; }
source "$(dirname "$0")/e2e_lib.sh"
e2e_start
section "API server ready"
export HELM_CACHE_HOME="$work/helm/cache" HELM_CONFIG_HOME="$work/helm/config" HELM_DATA_HOME="$work/helm/data"
chart=charts/rootgate

# kinds_of RELEASE NAMESPACE: "Kind/name" of every object the release's manifest names, looked up
# in the API server (kubectl get); one per line, sorted. A missing object prints MISSING.
kinds_of() {
  "$helm" get manifest "$1" -n "$2" | python3 -c '
import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d: print(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace", ""))' |
  while read -r kind name ns; do
    if kubectl get "$kind" "$name" ${ns:+-n "$ns"} -o name >/dev/null 2>&1; then echo "$kind"; else echo "MISSING $kind/$name"; fi
  done | sort | tr '\n' ' '
}

# --- install with the defaults ----------------------------------------------------------------
section "install with the defaults"
if out="$("$helm" install rg "$chart" -n rootgate --create-namespace 2>&1)"; then pass; else fail "helm install: $out"; fi
expect_eq "default release: every object created" "$(kinds_of rg rootgate)" \
  "ConfigMap Deployment PodDisruptionBudget Secret Service ServiceAccount ValidatingWebhookConfiguration "
vwc=rg-rootgate
expect_eq "webhook registered" "$(kubectl get validatingwebhookconfiguration "$vwc" -o 'jsonpath={.webhooks[0].name}')" "pods.rootgate.io"
secret_ca() { kubectl -n rootgate get secret rg-rootgate-tls -o "jsonpath={.data.$1}"; }
ca1="$(secret_ca 'ca\.crt')" crt1="$(secret_ca 'tls\.crt')"
bundle1="$(kubectl get validatingwebhookconfiguration "$vwc" -o 'jsonpath={.webhooks[0].clientConfig.caBundle}')"
expect_eq "caBundle is the Secret's CA" "$bundle1" "$ca1"
base64 -d <<<"$crt1" >"$work/crt1.pem"; base64 -d <<<"$ca1" >"$work/ca1.pem"
if openssl verify -CAfile "$work/ca1.pem" "$work/crt1.pem" >/dev/null 2>&1; then pass; else fail "serving certificate not signed by the CA"; fi

# --- upgrade keeps the CA ---------------------------------------------------------------------
section "upgrade keeps the CA"
if out="$("$helm" upgrade rg "$chart" -n rootgate --set replicaCount=3 2>&1)"; then pass; else fail "helm upgrade: $out"; fi
expect_eq "upgrade applied" "$(kubectl -n rootgate get deployment rg-rootgate -o 'jsonpath={.spec.replicas}')" "3"
expect_eq "upgrade keeps the CA" "$(secret_ca 'ca\.crt')" "$ca1"
expect_eq "upgrade keeps the serving certificate" "$(secret_ca 'tls\.crt')" "$crt1"
expect_eq "upgrade keeps the caBundle" \
  "$(kubectl get validatingwebhookconfiguration "$vwc" -o 'jsonpath={.webhooks[0].clientConfig.caBundle}')" "$ca1"
expect_eq "release revision" "$("$helm" status rg -n rootgate -o json | jq -r .version)" "2"

# --- uninstall leaves nothing -----------------------------------------------------------------
section "uninstall leaves nothing"
if out="$("$helm" uninstall rg -n rootgate 2>&1)"; then pass; else fail "helm uninstall: $out"; fi
left="$(kubectl get validatingwebhookconfigurations,secrets,serviceaccounts,configmaps,services,deployments,poddisruptionbudgets,roles,rolebindings,clusterroles,clusterrolebindings \
  -A -l app.kubernetes.io/instance=rg -o name 2>&1)"
expect_eq "uninstall: nothing labelled with the release" "$left" ""
kc "vwc after uninstall" get validatingwebhookconfiguration "$vwc"
expect_contains "uninstall: no webhook configuration" "$out" "NotFound"
expect_eq "uninstall: no Secret left in the namespace (TLS or release)" "$(kubectl -n rootgate get secrets -o name)" ""
kc "pod after uninstall" -n default create -f - <<<"$(pod_yaml after-uninstall Pod)"
expect_allowed "after uninstall the API server calls no stale webhook"

# --- most optional objects on -----------------------------------------------------------------
section "most optional objects on"
full=(--set autoscaling.enabled=true --set networkPolicy.enabled=true
      --set priorityClassName=system-cluster-critical --set registryAuth.existingSecret=regcred
      --set clientCA.enabled=true --set clientCA.secretName=apiserver-ca
      --set webhook.objectSelector.matchLabels.team=a --set policy.restartOnChange=true
      --set webhook.failurePolicy=Ignore)
if out="$("$helm" install full "$chart" -n webhooks --create-namespace "${full[@]}" 2>&1)"; then pass
else fail "helm install (full): $out"; fi
expect_eq "full release: every object created" "$(kinds_of full webhooks)" \
  "ConfigMap Deployment HorizontalPodAutoscaler NetworkPolicy PodDisruptionBudget ResourceQuota Secret Service ServiceAccount ValidatingWebhookConfiguration "
if out="$("$helm" uninstall full -n webhooks 2>&1)"; then pass; else fail "helm uninstall full: $out"; fi

# --- webhook.url: the chart's webhook calls a rootgate outside the cluster -------------------
section "webhook.url: the chart's webhook calls a rootgate outside the cluster"
webhook_certs "$work/pki"
E2E_SERVE_NAME=rootgate
start_serve rootgate --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" --offline || finish chart
if out="$("$helm" install outside "$chart" -n outside --create-namespace \
            --set "webhook.url=https://127.0.0.1:$serve_port/validate" \
            --set "webhook.caBundle=$(base64 -w0 "$work/pki/ca.crt")" 2>&1)"; then pass
else fail "helm install (webhook.url): $out"; fi
kube_namespace e2e
wait_webhook_active
kc "url root" -n e2e create -f - <<<"$(pod_yaml url-root Pod "$SC_ROOT")"
expect_denied "the chart's url webhook: root pod" "[rootUser]"
kc "url ok" -n e2e create -f - <<<"$(pod_yaml url-ok Pod)"
expect_allowed "the chart's url webhook: non-root pod"
if out="$("$helm" uninstall outside -n outside 2>&1)"; then pass; else fail "helm uninstall outside: $out"; fi
stop_serve "$serve_pid" rootgate

# --- deploy/: server-side dry-run -------------------------------------------------------------
section "deploy/: server-side dry-run"
if out="$(deploy/gen-certs.sh --out "$work/rendered" 2>&1)"; then pass; else fail "gen-certs.sh: $out"; fi
kubectl get namespace rootgate >/dev/null 2>&1 || kubectl create namespace rootgate >/dev/null
for f in "$work"/rendered/*.yaml; do
  kc "deploy $(basename "$f")" apply --server-side --dry-run=server -f "$f"
  expect_allowed "deploy/ $(basename "$f"): kubectl apply --server-side --dry-run=server"
  expect_contains "deploy/ $(basename "$f"): server dry run" "$out" "(server dry run)"
done
expect_eq "deploy/ dry-run created nothing" "$(kubectl -n rootgate get all,configmaps,secrets,serviceaccounts -o name | grep -v serviceaccount/default)" ""

finish chart
