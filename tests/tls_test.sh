#!/usr/bin/env bash
# The TLS of the real `rootgate serve`, seen by `openssl s_client` (issue 7):
#   * TLS 1.2 and 1.3 accepted; TLS 1.0 and 1.1 refused by the server;
#   * of every TLS 1.2 cipher this OpenSSL can offer, the ones accepted are all forward-secret
#     AEAD (ECDHE with AES-GCM or ChaCha20-Poly1305, the set Go clients such as the API server
#     use, which must all be accepted); static RSA, CBC, NULL, anonymous, DHE... refused;
#     TLS 1.3: the AEAD suites accepted, CCM_8 (short tag) refused;
#   * with --client-ca: no client certificate, one from another CA and one from the right CA but
#     not for client auth refused; a good one accepted and a real POST /validate answered 200.
# The client runs at SECLEVEL=0 with everything enabled, and each refused protocol or cipher is
# also tried against an unrestricted `openssl s_server` with the same certificates: when that one
# negotiates it, the refusal provably comes from rootgate. One line per check; exit 1 on failure.
# usage: tests/tls_test.sh path/to/rootgate
source "$(dirname "$0")/cli_lib.sh"
source "$here/serve_lib.sh"

ok() { echo "ok: $*"; pass; }
bad() { fail "$*"; }

# --- certificates ----------------------------------------------------------------------------
serial=1000
make_key() { # FILE ec|rsa
  if [ "$2" = rsa ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1"
  else
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"
  fi 2>/dev/null
}
make_ca() { # NAME
  make_key "$work/$1.key" ec
  openssl req -x509 -new -key "$work/$1.key" -subj "/CN=$1" -days 2 -out "$work/$1.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
}
make_cert() { # NAME CA ec|rsa EXTENDED_KEY_USAGE [CN]
  make_key "$work/$1.key" "$3"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=%s\n' "$4" >"$work/$1.ext"
  openssl req -new -key "$work/$1.key" -subj "/CN=${5:-$1}" -out "$work/$1.csr" 2>/dev/null
  serial=$((serial + 1))
  openssl x509 -req -in "$work/$1.csr" -CA "$work/$2.crt" -CAkey "$work/$2.key" -set_serial "$serial" \
    -days 2 -extfile "$work/$1.ext" -out "$work/$1.crt" 2>/dev/null
}
make_ca ca                                   # signs the serving certificates
make_ca client-ca                            # the CA given to --client-ca
make_ca other-ca                             # a CA rootgate does not trust
make_cert server-ec ca ec serverAuth
make_cert server-rsa ca rsa serverAuth
make_cert client-good client-ca ec clientAuth kube-apiserver
make_cert client-wrong other-ca ec clientAuth kube-apiserver   # same name, wrong issuer
make_cert client-server-only client-ca ec serverAuth kube-apiserver
for f in server-ec server-rsa client-good client-wrong client-server-only; do
  [ -s "$work/$f.crt" ] || { echo "could not make certificate $f" >&2; exit 1; }
done

# --- servers ---------------------------------------------------------------------------------
declare -A port ctl_port
start_serve ec --tls-cert "$work/server-ec.crt" --tls-key "$work/server-ec.key" --offline || exit 1
ec_pid=$serve_pid; port[ec]=$serve_port
start_serve rsa --tls-cert "$work/server-rsa.crt" --tls-key "$work/server-rsa.key" --offline || exit 1
rsa_pid=$serve_pid; port[rsa]=$serve_port
cp "$work/client-ca.crt" "$work/mtls-ca.pem"   # replaced later: resumption after a CA change
start_serve mtls --tls-cert "$work/server-ec.crt" --tls-key "$work/server-ec.key" \
  --client-ca "$work/mtls-ca.pem" --offline || exit 1
mtls_pid=$serve_pid; port[mtls]=$serve_port

# The controls: OpenSSL's own server with every protocol and cipher this build has enabled.
all_tls13='TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256'
for s in ec rsa; do
  openssl s_server -accept 127.0.0.1:0 -www -cert "$work/server-$s.crt" -key "$work/server-$s.key" \
    -min_protocol TLSv1 -cipher 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' -ciphersuites "$all_tls13" \
    </dev/null >"$work/control-$s.log" 2>&1 &
  serve_pids+=($!)
  for _ in $(seq 100); do
    ctl_port[$s]="$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$work/control-$s.log")"
    [ -n "${ctl_port[$s]}" ] && break
    sleep 0.1
  done
  [ -n "${ctl_port[$s]}" ] || { echo "openssl s_server did not start: $(cat "$work/control-$s.log")" >&2; exit 1; }
done

# tls_try PORT ARGS...: one connection by openssl s_client, verifying the server against our CA,
# sending $tls_input (default nothing) and, with -ign_eof among ARGS, reading until the server
# closes. Sets tls_out (everything printed), tls_proto and tls_cipher (empty: none negotiated).
tls_try() {
  local p="$1"; shift
  # stdout and stderr apart: together, TLS 1.3 ticket notices can land inside the HTTP reply.
  printf '%s' "${tls_input:-}" | timeout 60 openssl s_client -connect "127.0.0.1:$p" \
    -servername localhost -CAfile "$work/ca.crt" -verify_return_error "$@" >"$work/s_client.out" 2>"$work/s_client.err"
  tls_out="$(cat "$work/s_client.out" "$work/s_client.err")"
  local line
  line="$(sed -n 's/^New, \(.*\), Cipher is \(.*\)$/\1 \2/p' <<<"$tls_out" | head -1)"
  tls_proto="${line%% *}"; tls_cipher="${line#* }"
  if [ -z "$line" ] || [ "$tls_proto" = "(NONE)" ]; then tls_proto=""; tls_cipher=""; fi
}
alert() { grep -o 'alert [a-z ]*' <<<"$tls_out" | head -1; }
brief() { grep -E 'alert|error|^New,|HTTP/1' <<<"$tls_out" | head -6; }  # for failure messages
# control_accepts ARGS...: the unrestricted s_server (either certificate) negotiates with ARGS.
control_accepts() {
  local s
  for s in ec rsa; do
    tls_try "${ctl_port[$s]}" "$@"
    [ -n "$tls_proto" ] && return 0
  done
  return 1
}

# --- protocol versions -----------------------------------------------------------------------
for v in 1.2 1.3; do
  for s in ec rsa; do
    tls_try "${port[$s]}" "-tls${v/./_}"
    if [ "$tls_proto" = "TLSv$v" ]; then ok "TLS $v accepted ($s certificate, $tls_cipher)"
    else bad "TLS $v refused ($s certificate): $(brief)"; fi
  done
done
old_client=(-cipher 'ALL:@SECLEVEL=0')
for v in 1 1.1; do
  flag="-tls${v/./_}"
  if ! control_accepts "$flag" "${old_client[@]}"; then
    bad "TLS $v: this openssl s_client cannot negotiate it even with an unrestricted server: $(brief)"
    continue
  fi
  for s in ec rsa; do
    tls_try "${port[$s]}" "$flag" "${old_client[@]}"
    if [ -z "$tls_proto" ] && grep -q 'alert protocol version' <<<"$tls_out"; then
      ok "TLS $v refused by the server ($s certificate: protocol_version alert; an unrestricted server accepts this client)"
    else
      bad "TLS $v ($s certificate): want a protocol_version alert from the server, got ${tls_proto:-no session}: $(brief)"
    fi
  done
done
if openssl s_client -help 2>&1 | grep -qw -- -ssl3; then
  tls_try "${port[ec]}" -ssl3 "${old_client[@]}"
  if [ -z "$tls_proto" ]; then ok "SSL 3.0 refused"; else bad "SSL 3.0 accepted"; fi
else
  echo "n/a: SSL 3.0: this openssl has no SSLv3 client to try it with"
fi

# An "R" line makes s_client renegotiate; the server must answer with a no_renegotiation alert.
for s in ec rsa; do
  { printf 'R\n'; sleep 2; } | timeout 60 openssl s_client -connect "127.0.0.1:${port[$s]}" -tls1_2 \
    -CAfile "$work/ca.crt" >"$work/reneg.out" 2>&1
  if grep -q RENEGOTIATING "$work/reneg.out" && grep -q 'no renegotiation' "$work/reneg.out"; then
    ok "TLS 1.2 client-initiated renegotiation refused ($s certificate: no_renegotiation alert)"
  else
    bad "TLS 1.2 renegotiation ($s certificate): want a no_renegotiation alert: $(grep -E 'RENEG|alert|error' "$work/reneg.out")"
  fi
done

# --- TLS 1.2 ciphers -------------------------------------------------------------------------
# Forward secrecy (ephemeral ECDH) and AEAD; the six Go's TLS 1.2 defaults share with it must work.
fs_aead='^ECDHE-(ECDSA|RSA)-(AES(128|256)-(GCM-SHA(256|384)|CCM)|CHACHA20-POLY1305)$'
required='^ECDHE-(ECDSA|RSA)-(AES128-GCM-SHA256|AES256-GCM-SHA384|CHACHA20-POLY1305)$'
mapfile -t offered < <(openssl ciphers -s -tls1_2 'ALL:COMPLEMENTOFALL:@SECLEVEL=0' | tr ':' '\n')
[ "${#offered[@]}" -gt 40 ] || bad "openssl offers only ${#offered[@]} TLS 1.2 ciphers: ${offered[*]}"
accepted=()
for c in "${offered[@]}"; do
  got=""
  for s in ec rsa; do
    tls_try "${port[$s]}" -tls1_2 -cipher "$c:@SECLEVEL=0"
    [ "$tls_cipher" = "$c" ] && got="$s"
  done
  if [ -n "$got" ]; then
    accepted+=("$c")
    if [[ $c =~ $fs_aead ]]; then ok "TLS 1.2 $c accepted ($got certificate): forward-secret AEAD"
    else bad "TLS 1.2 $c accepted ($got certificate): not a forward-secret AEAD cipher"; fi
  elif [[ $c =~ $required ]]; then
    bad "TLS 1.2 $c refused: a forward-secret AEAD cipher API server clients need"
  elif control_accepts -tls1_2 -cipher "$c:@SECLEVEL=0"; then
    ok "TLS 1.2 $c refused (an unrestricted server negotiates it with this client)"
  else
    ok "TLS 1.2 $c refused (not negotiable with these certificates even unrestricted)"
  fi
done
# The weak families the issue names, as OpenSSL cipher strings.
for family in RC4 3DES eNULL EXP aNULL kRSA SHA1 MD5 kDHE CAMELLIA ARIA; do
  members="$(openssl ciphers -s -tls1_2 "$family:@SECLEVEL=0" 2>/dev/null | tr ':' '\n')"
  if [ -z "$members" ]; then
    echo "n/a: $family: no such TLS 1.2 cipher in $(openssl version | cut -d' ' -f1-2), so no client here can offer one"
    continue
  fi
  taken="$(grep -Fxf <(printf '%s\n' "${accepted[@]}") <<<"$members")"
  if [ -z "$taken" ]; then ok "$family: all $(wc -l <<<"$members") offered ciphers refused"
  else bad "$family: accepted $taken"; fi
done

# --- TLS 1.3 suites --------------------------------------------------------------------------
for suite in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256 \
             TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256; do
  tls_try "${port[ec]}" -tls1_3 -ciphersuites "$suite"
  case "$suite:${tls_cipher:+accepted}" in
    *GCM*:accepted | *CHACHA20*:accepted) ok "TLS 1.3 $suite accepted" ;;
    *GCM*: | *CHACHA20*:) bad "TLS 1.3 $suite refused: $(brief)" ;;
    *CCM_8*:accepted) bad "TLS 1.3 $suite accepted: an 8-byte tag" ;;
    *CCM_8*:) ok "TLS 1.3 $suite refused (8-byte tag)" ;;
    *:accepted) ok "TLS 1.3 $suite accepted (AEAD)" ;;
    *:) ok "TLS 1.3 $suite refused (not in OpenSSL's default suites)" ;;
  esac
done

# --- mTLS ------------------------------------------------------------------------------------
fixture="tests/fixtures/admission/000-deployment-create.json"
body="$(jq -c .body "$fixture")"
uid="$(jq -r .body.request.uid "$fixture")"
request="$(printf 'POST /validate?timeout=10s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' "${#body}" "$body")"
# post PORT ARGS...: the request over s_client; sets status ("" when no HTTP reply) and tls_out.
# -quiet (no session printout: it would interleave with the reply) implies -ign_eof: the reply is
# read until the server closes. The -tls1_x flag in ARGS fixes the protocol.
post() {
  tls_input="$request" tls_try "$@" -quiet
  status="$(sed -n 's/^HTTP\/1\.1 \([0-9]*\).*/\1/p' <<<"$tls_out" | head -1)"
}
for v in 1.2 1.3; do
  flag="-tls${v/./_}"
  post "${port[ec]}" "$flag"
  if [ "$status" = 200 ]; then ok "TLS $v without mTLS: POST /validate without a client certificate answered 200"
  else bad "TLS $v without mTLS: want 200, got ${status:-no reply}: $(brief)"; fi

  post "${port[mtls]}" "$flag"
  if [ -z "$status" ] && [ -n "$(alert)" ]; then ok "TLS $v mTLS: no client certificate refused ($(alert))"
  else bad "TLS $v mTLS: no client certificate: want a TLS alert and no reply, got ${status:-no reply}: $(brief)"; fi

  post "${port[mtls]}" "$flag" -cert "$work/client-wrong.crt" -key "$work/client-wrong.key"
  if [ -z "$status" ] && grep -q 'alert unknown ca' <<<"$tls_out"; then ok "TLS $v mTLS: certificate from another CA refused ($(alert))"
  else bad "TLS $v mTLS: certificate from another CA: want an unknown_ca alert, got ${status:-no reply}: $(brief)"; fi

  post "${port[mtls]}" "$flag" -cert "$work/client-server-only.crt" -key "$work/client-server-only.key"
  if [ -z "$status" ] && [ -n "$(alert)" ]; then ok "TLS $v mTLS: certificate without clientAuth usage refused ($(alert))"
  else bad "TLS $v mTLS: certificate without clientAuth usage: want an alert, got ${status:-no reply}: $(brief)"; fi

  post "${port[mtls]}" "$flag" -cert "$work/client-good.crt" -key "$work/client-good.key"
  if [ "$status" = 200 ] && grep -qF "\"uid\":\"$uid\"" <<<"$tls_out"; then
    ok "TLS $v mTLS: good client certificate accepted, POST /validate answered 200 with the request's uid"
  else
    bad "TLS $v mTLS: good client certificate: want 200 with uid $uid, got ${status:-no reply}: $(brief)"
  fi
done

# Resumption skips the client certificate, so a session must not outlive the client CAs that
# checked it: after --client-ca is replaced by another CA, no session made before is resumed.
for v in 1.2 1.3; do
  post "${port[mtls]}" "-tls${v/./_}" -cert "$work/client-good.crt" -key "$work/client-good.key" \
    -sess_out "$work/session-$v"
  post "${port[mtls]}" "-tls${v/./_}" -sess_in "$work/session-$v"   # no certificate: resumed or refused
  if [ "$status" = 200 ]; then ok "TLS $v mTLS: a session made with the good certificate is resumed (200 without one)"
  else bad "TLS $v mTLS: the good certificate's session was not resumed (so what follows proves nothing): $(brief)"; fi
done
cp "$work/other-ca.crt" "$work/mtls-ca.pem.tmp" && mv "$work/mtls-ca.pem.tmp" "$work/mtls-ca.pem"
for _ in $(seq 60); do  # reloaded once the other CA's certificate is accepted
  post "${port[mtls]}" -tls1_3 -cert "$work/client-wrong.crt" -key "$work/client-wrong.key"
  [ "$status" = 200 ] && break
  sleep 0.5
done
if [ "$status" = 200 ]; then ok "mTLS: --client-ca replaced by the other CA: its certificate now accepted"
else bad "mTLS: --client-ca replaced by the other CA, but its certificate is still refused: $(brief)"; fi
for v in 1.2 1.3; do
  post "${port[mtls]}" "-tls${v/./_}" -sess_in "$work/session-$v"
  if [ -z "$status" ]; then ok "TLS $v mTLS: a session made under the replaced client CA is not resumed ($(alert))"
  else bad "TLS $v mTLS: a session made under the replaced client CA was resumed: HTTP $status without a certificate"; fi
done

# A clean shutdown (exit 0) of each server; under sanitizers this is also the leak check.
stop_serve "$ec_pid" ec
stop_serve "$rsa_pid" rsa
stop_serve "$mtls_pid" mtls
echo "tls tests: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
