#!/usr/bin/env bash
# Failure behaviour with the real caller (issue 12, item 3), kube-apiserver v1.32.13 calling
# rootgate serve on loopback:
#   * rootgate stopped: creates refused under failurePolicy Fail, allowed (failing open, in the
#     audit log) under Ignore, each with the API server's own message;
#   * a registry that stalls (tests/registry_fake.py stall): rootgate answers within the
#     webhook's timeoutSeconds with its onTimeout verdict (deny; allow with a warning), never the
#     API server's "context deadline exceeded";
#   * the serving certificate and key swapped on disk (atomic ..data symlink, as the kubelet does)
#     during a loop of kubectl creates: no failed call, the new certificate served afterwards;
#   * mTLS from the API server (--admission-control-config-file with a client certificate,
#     --client-ca on rootgate): refused without the certificate, judged with it.
#
# usage: tests/kube/failure_test.sh path/to/rootgate      (exit 77: no kube-apiserver)
[ $# -eq 1 ] || { echo "usage: $0 path/to/rootgate" >&2; exit 2; }
source "$(dirname "$0")/e2e_lib.sh"
webhook_certs "$work/pki"
# mTLS (last section): the API server presents a client certificate to 127.0.0.1:$mtls_port, as
# its --admission-control-config-file says; it reads that file at start.
mkdir -p "$work/caller"
( cd "$work/caller" &&
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=caller-ca" \
    -keyout ca.key -out ca.crt 2>/dev/null &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=kube-apiserver-webhook-client" \
    -keyout client.key -out client.csr 2>/dev/null &&
  printf 'extendedKeyUsage=clientAuth\n' >client.ext &&
  openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile client.ext \
    -out client.crt 2>/dev/null ) || { echo "FAIL: openssl: the API server's client certificate" >&2; exit 1; }
mtls_port="$(kube_free_port)"
cat >"$work/caller/kubeconfig" <<EOF
apiVersion: v1
kind: Config
users:
  - name: "127.0.0.1:$mtls_port"
    user:
      client-certificate: $work/caller/client.crt
      client-key: $work/caller/client.key
EOF
cat >"$work/caller/admission.yaml" <<EOF
apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
  - name: ValidatingAdmissionWebhook
    configuration:
      apiVersion: apiserver.config.k8s.io/v1
      kind: WebhookAdmissionConfiguration
      kubeConfigFile: $work/caller/kubeconfig
EOF
KUBE_APISERVER_ARGS=(--admission-control-config-file="$work/caller/admission.yaml")
e2e_start
section "API server ready"
kube_namespace e2e

# --- rootgate stopped: Fail, then Ignore ------------------------------------------------------
section "rootgate stopped: Fail, then Ignore"
E2E_SERVE_NAME=down
start_serve down --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" --offline || finish failure
down_port="$serve_port"
register_webhook "$down_port" || finish failure
stop_serve "$serve_pid" down
kc "down Fail" -n e2e create -f - <<<"$(pod_yaml down-fail Pod)"
if [ "$code" -ne 0 ]; then pass; else fail "rootgate down, Fail: a pod was created: $out"; fi
expect_contains "down Fail: the API server's message" "$out" 'failed calling webhook "pods.rootgate.io"'
expect_contains "down Fail: the cause" "$out" "connection refused"

register_args=(--set webhook.failurePolicy=Ignore)
"$helm" template rg charts/rootgate -n rootgate --show-only templates/webhook.yaml \
  --set "webhook.url=https://127.0.0.1:$down_port/validate" --set "webhook.caBundle=$(base64 -w0 "$work/pki/ca.crt")" \
  --set certificates.mode=existingSecret --set certificates.existingSecret.name=unused \
  --set certificates.existingSecret.caBundle=unused "${register_args[@]}" | kubectl apply -f - >/dev/null
for _ in $(seq 50); do # until the API server's informer has the new failurePolicy
  kubectl -n e2e create --dry-run=server -f - <<<"$(pod_yaml down-probe Pod)" >/dev/null 2>&1 && break
  sleep 0.2
done
kc "down Ignore" -n e2e create -f - <<<"$(pod_yaml down-ignore Pod "$SC_ROOT")"
expect_allowed "rootgate down, Ignore: even a root pod is created unchecked"
audit_line="$(jq -c 'select(.objectRef.name? == "down-ignore" and .verb == "create")' "$KUBE_AUDIT_LOG")"
expect_eq "down Ignore: the API server records failing open" \
  "$(jq -r '.annotations["failed-open.validating.webhook.admission.k8s.io/round_0_index_0"] // "none"' <<<"$audit_line")" \
  "pods.rootgate.io"
expect_contains "down Ignore: the API server's log" "$(cat "$KUBE_APISERVER_LOG")" "Failed calling webhook, failing open pods.rootgate.io"

# --- a registry that stalls -------------------------------------------------------------------
section "a registry that stalls"
python3 "$root/tests/registry_fake.py" stall >"$work/stall.port" 2>/dev/null & serve_pids+=($!)
for _ in $(seq 50); do [ -s "$work/stall.port" ] && break; sleep 0.1; done
reg="127.0.0.1:$(head -1 "$work/stall.port")"
printf 'mode: enforce\npreset: default\nonTimeout: deny\n' >"$work/stall-policy.yaml"
E2E_SERVE_NAME=stall
start_serve stall --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" --policy "$work/stall-policy.yaml" \
  --allow-registry "$reg" --insecure-registry "$reg" --reload-interval 200ms || finish failure
register_webhook "$serve_port" --set webhook.timeoutSeconds=3 || finish failure
plain='{}' # no runAsUser: the image's USER decides, and its registry never answers
t0=$(date +%s%N)
kc "stall deny" -n e2e create -f - <<<"$(pod_yaml stall-deny Pod "$plain" | sed "s#registry.example/app:1#$reg/team/app:1#")"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "stalling registry, onTimeout deny: kubectl returned after $ms ms (webhook timeoutSeconds 3)"
expect_denied "stalling registry, onTimeout deny" "[unknownUser]" "timed out after"
expect_not_contains "stall deny: not the API server's timeout" "$out" "context deadline exceeded"
printf 'mode: enforce\npreset: default\nonTimeout: allow\n' >"$work/stall-policy.yaml.new"
mv "$work/stall-policy.yaml.new" "$work/stall-policy.yaml"
sleep 1.5 # --reload-interval 200ms
kc "stall allow" -n e2e create -f - <<<"$(pod_yaml stall-allow Pod "$plain" | sed "s#registry.example/app:1#$reg/team/other:1#")"
expect_allowed "stalling registry, onTimeout allow"
expect_contains "stall allow: kubectl shows the warning" "$out" "Warning: rootgate:"
expect_not_contains "stall allow: not the API server's timeout" "$out" "context deadline exceeded"
stop_serve "$serve_pid" stall

# --- certificate rotation during a loop of creates --------------------------------------------
section "certificate rotation during a loop of creates"
# The kubelet's layout for a mounted Secret: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>.
mount="$work/mount"
publish() { # DIR-NAME CERT-BASENAME: a new ..<name> directory swapped in atomically
  mkdir -p "$mount/..$1" && cp "$work/pki/$2.crt" "$mount/..$1/tls.crt" && cp "$work/pki/$2.key" "$mount/..$1/tls.key"
  ln -sfn "..$1" "$mount/..data_tmp" && mv -T "$mount/..data_tmp" "$mount/..data"
}
publish v1 tls && ln -s ..data/tls.crt "$mount/tls.crt" && ln -s ..data/tls.key "$mount/tls.key"
new_serving_cert "$work/pki" tls2 && new_serving_cert "$work/pki" tls3
E2E_SERVE_NAME=rotate
start_serve rotate --tls-cert "$mount/tls.crt" --tls-key "$mount/tls.key" --offline --reload-interval 100ms || finish failure
register_webhook "$serve_port" || finish failure
n=30
for i in $(seq "$n"); do
  if pod_yaml "rot-$i" Pod | kubectl -n e2e create -f - >/dev/null 2>>"$work/rotate.err"; then echo ok; else echo failed; fi
  case "$i" in 8) publish v2 tls2 ;; 18) publish v3 tls3 ;; esac
done >"$work/rotate.results"
expect_eq "creates during two certificate swaps" "$(grep -c ok "$work/rotate.results")/$n" "$n/$n"
[ ! -s "$work/rotate.err" ] || fail "rotation: kubectl errors: $(head -5 "$work/rotate.err")"
fp() { openssl x509 -noout -fingerprint -sha256 "$@"; }
served="$(openssl s_client -connect "127.0.0.1:$serve_port" -CAfile "$work/pki/ca.crt" </dev/null 2>/dev/null | fp)"
expect_eq "the last certificate is served" "$served" "$(fp -in "$work/pki/tls3.crt")"
kc "after rotation" -n e2e create -f - <<<"$(pod_yaml rot-root Pod "$SC_ROOT")"
expect_denied "after rotation: still judged" "[rootUser]"
stop_serve "$serve_pid" rotate

# --- mTLS from the API server to rootgate -----------------------------------------------------
section "mTLS from the API server to rootgate"
# With the client certificate: the port the API server's admission kubeconfig names.
E2E_SERVE_NAME=mtls
start_serve mtls --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" --client-ca "$work/caller/ca.crt" \
  --offline --listen "127.0.0.1:$mtls_port" || finish failure
register_webhook "$mtls_port" || finish failure
kc "mtls root" -n e2e create -f - <<<"$(pod_yaml mtls-root Pod "$SC_ROOT")"
expect_denied "mTLS with the client certificate: root pod judged by rootgate" "[rootUser]"
kc "mtls ok" -n e2e create -f - <<<"$(pod_yaml mtls-ok Pod)"
expect_allowed "mTLS with the client certificate: non-root pod"
stop_serve "$serve_pid" mtls
# Without it: the same rootgate on a port the kubeconfig does not name.
E2E_SERVE_NAME=nocert
start_serve nocert --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" --client-ca "$work/caller/ca.crt" \
  --offline || finish failure
"$helm" template rg charts/rootgate -n rootgate --show-only templates/webhook.yaml \
  --set "webhook.url=https://127.0.0.1:$serve_port/validate" --set "webhook.caBundle=$(base64 -w0 "$work/pki/ca.crt")" \
  --set certificates.mode=existingSecret --set certificates.existingSecret.name=unused \
  --set certificates.existingSecret.caBundle=unused | kubectl apply -f - >/dev/null
for _ in $(seq 50); do # until the API server calls the new URL (and fails there)
  kc "mtls without a client certificate" -n e2e create -f - <<<"$(pod_yaml mtls-none Pod)"
  grep -qF "127.0.0.1:$serve_port" <<<"$out" && break
  sleep 0.2
done
if [ "$code" -ne 0 ]; then pass; else fail "mTLS: the API server without a client certificate got through: $out"; fi
expect_contains "mTLS refused: the API server's message" "$out" "failed calling webhook \"pods.rootgate.io\": failed to call webhook: Post \"https://127.0.0.1:$serve_port/validate"
expect_not_contains "mTLS refused: not a rootgate verdict" "$out" "denied the request"
sleep 1.2 # decision lines are flushed within a second
expect_eq "mTLS refused: no decision made" "$(decisions mtls-none)" ""
stop_serve "$serve_pid" nocert
finish failure
