#!/usr/bin/env bash
# Makes what the plain manifests need to run: a CA and a serving certificate for rootgate's
# Service (rootgate.<ns>, rootgate.<ns>.svc, rootgate.<ns>.svc.<cluster-domain>), the TLS Secret
# manifest, and a copy of every manifest in deploy/ with the webhook's caBundle filled in (and the
# namespace and image changed when asked). Apply the result in order, the webhook last, once
# rootgate is ready:
#
#   deploy/gen-certs.sh [--namespace rootgate] [--image REF] [--out deploy/rendered]
#   for f in deploy/rendered/[0-5]*.yaml; do kubectl apply -f "$f"; done
#   kubectl -n rootgate rollout status deployment/rootgate
#   kubectl apply -f deploy/rendered/60-validatingwebhook.yaml
#
# Re-running keeps the CA in OUT/pki (so the caBundle does not change) and issues a new serving
# certificate; apply OUT/25-tls-secret.yaml again and rootgate reloads it without a restart.
# --new-ca makes a new CA too (then apply 60-validatingwebhook.yaml again as well).
# OUT/pki/ca.key can sign certificates the API server trusts for this webhook: keep it secret.
#
# Needs: openssl, base64, sed. Exit 0 on success, 2 on bad usage, 1 on any other failure.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
namespace=rootgate
service=rootgate
image=""
out="$here/rendered"
cluster_domain=cluster.local
ca_days=3650
cert_days=825
new_ca=0

usage() {
  sed -n '2,/^# Needs/p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "options: --namespace NS  --image REF  --out DIR  --cluster-domain D  --ca-days N" \
       " --cert-days N  --new-ca" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    -n|--namespace) namespace="${2:?}"; shift 2;;
    --image) image="${2:?}"; shift 2;;
    -o|--out) out="${2:?}"; shift 2;;
    --cluster-domain) cluster_domain="${2:?}"; shift 2;;
    --ca-days) ca_days="${2:?}"; shift 2;;
    --cert-days) cert_days="${2:?}"; shift 2;;
    --new-ca) new_ca=1; shift;;
    -h|--help) usage;;
    *) echo "gen-certs.sh: unknown argument \"$1\"" >&2; usage;;
  esac
done
[[ "$namespace" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] ||
  { echo "gen-certs.sh: \"$namespace\" is not a valid namespace name" >&2; exit 2; }
[[ "$ca_days$cert_days" =~ ^[0-9]+$ ]] || { echo "gen-certs.sh: days must be numbers" >&2; exit 2; }

pki="$out/pki"
mkdir -p "$pki"
chmod 700 "$pki"
umask 077

if [ "$new_ca" -eq 1 ] || [ ! -s "$pki/ca.crt" ] || [ ! -s "$pki/ca.key" ]; then
  openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days "$ca_days" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" -subj "/CN=rootgate-webhook-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  echo "gen-certs.sh: new CA in $pki/ca.crt" >&2
else
  echo "gen-certs.sh: reusing the CA in $pki/ca.crt" >&2
fi

dns="$service.$namespace.svc"
cat >"$pki/serving.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:$service,DNS:$service.$namespace,DNS:$dns,DNS:$dns.$cluster_domain
EOF
openssl req -new -nodes -newkey rsa:2048 -keyout "$pki/tls.key" -out "$pki/tls.csr" \
  -subj "/CN=$dns" 2>/dev/null
openssl x509 -req -sha256 -days "$cert_days" -in "$pki/tls.csr" -CA "$pki/ca.crt" \
  -CAkey "$pki/ca.key" -CAcreateserial -extfile "$pki/serving.ext" -out "$pki/tls.crt" 2>/dev/null
rm -f "$pki/tls.csr" "$pki/ca.srl" "$pki/serving.ext"
openssl verify -CAfile "$pki/ca.crt" -verify_hostname "$dns" "$pki/tls.crt" >/dev/null

umask 022
b64() { base64 -w0 <"$1"; }
# Copies deploy/NN-*.yaml with the namespace (and image) replaced. The manifests spell the
# namespace exactly as `namespace: rootgate`, `name: rootgate` (the Namespace object) and in the
# excluded-namespace lists `[kube-system, kube-node-lease, rootgate]`.
render() {
  sed -e "s/\(namespace: \)rootgate\$/\1$namespace/" \
      -e "s/\[kube-system, kube-node-lease, rootgate\]/[kube-system, kube-node-lease, $namespace]/" \
      "$@"
}
for f in "$here"/[0-9][0-9]-*.yaml; do
  name="$(basename "$f")"
  case "$name" in
    00-namespace.yaml) render -e "s/^\(  name: \)rootgate\$/\1$namespace/" "$f" >"$out/$name";;
    30-deployment.yaml)
      if [ -n "$image" ]; then render -e "s|^\(  *image: \)rootgate:.*\$|\1$image|" "$f"; else render "$f"; fi \
        >"$out/$name";;
    60-validatingwebhook.yaml)
      render -e "s|CA_BUNDLE_PLACEHOLDER|$(b64 "$pki/ca.crt")|" "$f" >"$out/$name";;
    *) render "$f" >"$out/$name";;
  esac
done

cat >"$out/25-tls-secret.yaml" <<EOF
# rootgate's serving certificate for $dns, signed by the CA in
# 60-validatingwebhook.yaml's caBundle. Written by deploy/gen-certs.sh.
apiVersion: v1
kind: Secret
metadata:
  name: rootgate-tls
  namespace: $namespace
  labels:
    app.kubernetes.io/name: rootgate
    app.kubernetes.io/part-of: rootgate
type: kubernetes.io/tls
data:
  tls.crt: $(b64 "$pki/tls.crt")
  tls.key: $(b64 "$pki/tls.key")
  ca.crt: $(b64 "$pki/ca.crt")
EOF
chmod 600 "$out/25-tls-secret.yaml"

echo "gen-certs.sh: wrote $out (namespace $namespace, certificate for $dns," \
     "valid $cert_days days). Next:" >&2
echo "  for f in $out/[0-5]*.yaml; do kubectl apply -f \"\$f\"; done" >&2
echo "  kubectl -n $namespace rollout status deployment/rootgate" >&2
echo "  kubectl apply -f $out/60-validatingwebhook.yaml" >&2
