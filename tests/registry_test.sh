#!/usr/bin/env bash
# Registry lookups against real registries on loopback: Debian's docker-registry (plain HTTP;
# and TLS with a test CA and htpasswd basic auth), images built with umoci and pushed with
# skopeo, checked through `rootgate check --resolve-images` (and `rootgate serve` when it takes
# the registry flags); plus tests/registry_fake.py for the bearer flow and faults (stall,
# oversized manifest, redirects to loopback and to the metadata address, basic auth without
# credentials); images with zstd layers built with the zstd CLI and jq. Expected verdicts come
# from SEMANTICS.md ("The image's user").
# usage: tests/registry_test.sh path/to/rootgate [path/to/rootgate_registry_bench]
set -uo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
bench="${2:-}"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

fails=0; passes=0
pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_eq() { if [ "$2" == "$3" ]; then pass; else fail "$1: got [$2], want [$3]"; fi; }
expect_contains() { if grep -qF -- "$3" <<<"$2"; then pass; else fail "$1: [$3] not in: $2"; fi; }

"$root/scripts/deps.sh" docker-registry umoci skopeo apache2-utils openssl python3 jq curl zstd >&2 ||
  { echo "registry_test: cannot install docker-registry/umoci/skopeo; skipped" >&2; exit 77; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url: until it answers at all (any status), 10 s at most
  for _ in $(seq 100); do
    curl -sk -o /dev/null -m 1 "$1" && return 0
    sleep 0.1
  done
  echo "registry_test: $1 did not come up" >&2; return 1
}

# --- registries ----------------------------------------------------------------------------
plain_port=$(free_port)
tls_port=$(free_port)
mkdir -p "$work/plain/data" "$work/tls/data" "$work/certs"
cat >"$work/plain/config.yml" <<EOF
version: 0.1
log: {level: warn, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $work/plain/data}}
http: {addr: 127.0.0.1:$plain_port}
EOF
# A test CA and a serving certificate for localhost / 127.0.0.1; htpasswd (bcrypt) user:pass.
(cd "$work/certs" &&
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=rootgate-test-ca &&
  openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=localhost &&
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext &&
  openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile ext &&
  mkdir -p skopeo && cp ca.pem skopeo/ca.crt) >/dev/null 2>&1 || { fail "test certificates"; exit 1; }
htpasswd -Bbn user pass >"$work/tls/htpasswd"
cat >"$work/tls/config.yml" <<EOF
version: 0.1
log: {level: warn, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $work/tls/data}}
auth: {htpasswd: {realm: rootgate-test, path: $work/tls/htpasswd}}
http:
  addr: 127.0.0.1:$tls_port
  tls: {certificate: $work/certs/srv.pem, key: $work/certs/srv.key}
EOF
docker-registry serve "$work/plain/config.yml" >"$work/plain/log" 2>&1 & pids+=($!)
docker-registry serve "$work/tls/config.yml" >"$work/tls/log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$plain_port/v2/" && wait_http "https://127.0.0.1:$tls_port/v2/" || exit 1
plain="127.0.0.1:$plain_port"
tls="localhost:$tls_port"

# --- images (umoci) ------------------------------------------------------------------------
oci="$work/oci"
umoci init --layout "$oci" >/dev/null
passwd=$'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nadmin:x:0:0:admin:/:/bin/sh\n'
mk_image() { # tag user [arch] [with-passwd]
  umoci new --image "$oci:$1" >/dev/null
  if [ -n "${4:-}" ]; then
    umoci unpack --image "$oci:$1" "$work/bundle" >/dev/null
    mkdir -p "$work/bundle/rootfs/etc"
    printf '%s' "$passwd" >"$work/bundle/rootfs/etc/passwd"
    umoci repack --image "$oci:$1" "$work/bundle" >/dev/null
    rm -rf "$work/bundle"
  fi
  local user=()
  [ -n "$2" ] && user=(--config.user "$2")
  umoci config --image "$oci:$1" "${user[@]}" --os linux --architecture "${3:-amd64}" >/dev/null
}
push() { # tag dest [skopeo flags]
  local tag=$1 dest=$2; shift 2
  skopeo copy -q "$@" "oci:$oci:$tag" "docker://$dest" >/dev/null 2>"$work/skopeo.err" ||
    fail "push $tag to $dest: $(cat "$work/skopeo.err")"
}
declare -A users=([empty]="" [zero]="0" [root]="root" [zerozero]="0:0" [u1000]="1000"
                  [u1000g]="1000:1000" [plus5]="+5" [app]="app" [admin]="admin")
for tag in "${!users[@]}"; do
  passwd_layer=""
  [ "$tag" == app ] || [ "$tag" == admin ] && passwd_layer=yes
  mk_image "$tag" "${users[$tag]}" amd64 "$passwd_layer"
  push "$tag" "$plain/team/$tag:1" --dest-tls-verify=false
done
push u1000 "$plain/team/docker-u1000:1" --dest-tls-verify=false --format v2s2
push empty "$plain/team/coalesce:1" --dest-tls-verify=false
push u1000 "$tls/team/private:1" --dest-cert-dir "$work/certs/skopeo" --dest-creds user:pass
# A multi-platform index whose platforms disagree: amd64 has no USER, arm64 runs as 1000.
mk_image multi-amd "" amd64
mk_image multi-arm "1000" arm64
desc() { jq -c --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | del(.annotations)' "$oci/index.json"; }
jq -nc --argjson a "$(desc multi-amd)" --argjson b "$(desc multi-arm)" \
  '{schemaVersion:2, mediaType:"application/vnd.oci.image.index.v1+json",
    manifests:[($a|.platform={os:"linux",architecture:"amd64"}), ($b|.platform={os:"linux",architecture:"arm64"})]}' \
  | tr -d '\n' >"$work/index.json"
idx_digest=$(sha256sum "$work/index.json" | cut -d' ' -f1)
cp "$work/index.json" "$oci/blobs/sha256/$idx_digest"
jq --arg d "sha256:$idx_digest" --argjson s "$(stat -c %s "$work/index.json")" \
  '.manifests += [{mediaType:"application/vnd.oci.image.index.v1+json", digest:$d, size:$s,
                   annotations:{"org.opencontainers.image.ref.name":"multi"}}]' "$oci/index.json" >"$work/ix" &&
  mv "$work/ix" "$oci/index.json"
push multi "$plain/team/multi:1" --dest-tls-verify=false --all

# --- manifests ------------------------------------------------------------------------------
pod() { # name image [securityContext json]
  printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: demo}\nspec:\n  containers:\n  - name: c\n    image: "%s"\n' "$1" "$2"
  [ -n "${3:-}" ] && printf '    securityContext: %s\n' "$3"
  return 0
}
{
  for tag in empty zero root zerozero u1000 u1000g plus5 app admin; do pod "$tag" "$plain/team/$tag:1"; done
  pod docker-u1000 "$plain/team/docker-u1000:1"
  pod multi "$plain/team/multi:1"
  pod app-nonroot "$plain/team/app:1" '{runAsNonRoot: true}'
  pod missing "$plain/team/missing:1"
} >"$work/pods.yaml"
verdicts() { jq -r '.results[] | "\(.name) \(if .allowed then "allow" else "deny" end) \([.violations[].rule]|unique|join(",")) \([.warnings[].rule]|unique|join(","))"'; }
run_check() { # sets out, err, code
  out="$("$bin" check -o json --resolve-images "$@" 2>"$work/stderr")"; code=$?; err="$(cat "$work/stderr")"
}
message_of() { jq -r --arg n "$1" '.results[] | select(.name==$n) | [.violations[].message, .warnings[].message] | join(" | ")' <<<"$out"; }

# --- 1. plain registry, default policy (named users resolved through /etc/passwd) ---------
run_check --allow-registry "$plain" --insecure-registry "$plain" "$work/pods.yaml"
expect_eq "plain: exit code" "$code" 1
expect_eq "plain: verdicts" "$(verdicts <<<"$out")" "empty deny rootUser 
zero deny rootUser 
root deny rootUser 
zerozero deny rootUser 
u1000 allow  
u1000g allow  
plus5 allow  
app allow  
admin deny rootUser 
docker-u1000 allow  
multi deny rootUser 
app-nonroot deny unknownUser 
missing deny unknownUser "
expect_contains "plain: no USER from the registry" "$(message_of empty)" "image $plain/team/empty:1 has no USER (registry $plain)"
expect_contains "plain: missing image" "$(message_of missing)" "registry $plain: manifest not found (404"
expect_contains "plain: admin resolved to uid 0" "$(message_of admin)" 'has USER "admin" (registry '"$plain"'; uid 0 in its /etc/passwd)'

# --- 2. namedUsers: resolve (the default, written out) reads /etc/passwd from the layers ----
printf 'namedUsers: resolve\n' >"$work/resolve.yaml"
run_check --policy "$work/resolve.yaml" --allow-registry "$plain" --insecure-registry "$plain" "$work/pods.yaml"
expect_eq "resolve: app" "$(verdicts <<<"$out" | grep '^app ')" "app allow  "
expect_eq "resolve: admin is uid 0" "$(verdicts <<<"$out" | grep '^admin ')" "admin deny rootUser "
expect_contains "resolve: admin message" "$(message_of admin)" "uid 0 in its /etc/passwd"
expect_contains "resolve: runAsNonRoot names the uid" "$(message_of app-nonroot)" 'numeric UID of "app" (1000)'

# --- 2b. zstd layers (as BuildKit writes with compression=zstd): built here, since umoci writes
# gzip only: a tar compressed with the zstd CLI, a config and a manifest made with jq, pushed
# with the registry API (POST + PUT blob, PUT manifest). admin is uid 0 in this passwd, so a
# rootUser denial proves the zstd layer was read; an unreadable one leaves the name unresolved.
put_blob() { # repo file: uploads a blob, prints its digest
  local d="sha256:$(sha256sum "$2" | cut -d' ' -f1)" loc
  loc=$(curl -s -o /dev/null -w '%header{location}' -X POST "http://$plain/v2/$1/blobs/uploads/")
  [[ "$loc" == /* ]] && loc="http://$plain$loc"
  curl -s -f -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$2" \
    "$loc$([[ "$loc" == *\?* ]] && echo '&' || echo '?')digest=$d" || fail "upload $2 to $1"
  echo "$d"
}
zstd_image() { # repo manifest-type layer-type zstd-flags...: USER admin, /etc/passwd in one zstd layer
  local repo=$1 mtype=$2 ltype=$3 ctype; shift 3
  mkdir -p "$work/zroot/etc" && printf '%s' "$passwd" >"$work/zroot/etc/passwd"
  tar --owner=0 --group=0 --numeric-owner -C "$work/zroot" -cf "$work/layer.tar" etc
  zstd -q -c "$@" <"$work/layer.tar" >"$work/layer.tar.zst"  # from stdin: no content size, as streamed
  ctype=application/vnd.oci.image.config.v1+json
  [ "$mtype" = application/vnd.docker.distribution.manifest.v2+json ] && ctype=application/vnd.docker.container.image.v1+json
  jq -nc --arg diff "sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)" \
    '{architecture:"amd64", os:"linux", config:{User:"admin"}, rootfs:{type:"layers", diff_ids:[$diff]}}' >"$work/zconfig.json"
  jq -nc --arg mt "$mtype" --arg ct "$ctype" --arg lt "$ltype" \
    --arg cd "$(put_blob "$repo" "$work/zconfig.json")" --argjson cs "$(stat -c %s "$work/zconfig.json")" \
    --arg ld "$(put_blob "$repo" "$work/layer.tar.zst")" --argjson ls "$(stat -c %s "$work/layer.tar.zst")" \
    '{schemaVersion:2, mediaType:$mt, config:{mediaType:$ct, digest:$cd, size:$cs},
      layers:[{mediaType:$lt, digest:$ld, size:$ls}]}' >"$work/zmanifest.json"
  curl -s -f -o /dev/null -X PUT -H "Content-Type: $mtype" --data-binary @"$work/zmanifest.json" \
    "http://$plain/v2/$repo/manifests/1" || fail "push manifest of $repo"
  rm -rf "$work/zroot"
}
zstd_image team/zstd-oci application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.layer.v1.tar+zstd -19
zstd_image team/zstd-docker application/vnd.docker.distribution.manifest.v2+json \
  application/vnd.docker.image.rootfs.diff.tar.zstd -3
zstd_image team/zstd-wide application/vnd.oci.image.manifest.v1+json application/vnd.oci.image.layer.v1.tar+zstd --long=27
expect_eq "zstd: the layer's frame declares a 128 MiB window" \
  "$(zstd -lv "$work/layer.tar.zst" 2>/dev/null | sed -n 's/^Window Size: *//p')" "128 MiB (134217728 B)"
{ pod zstd-oci "$plain/team/zstd-oci:1"; pod zstd-docker "$plain/team/zstd-docker:1"; pod zstd-wide "$plain/team/zstd-wide:1"; } >"$work/zstd.yaml"
run_check --policy "$work/resolve.yaml" --allow-registry "$plain" --insecure-registry "$plain" "$work/zstd.yaml"
expect_eq "zstd: verdicts" "$(verdicts <<<"$out" | grep -v '^zstd-wide ')" "zstd-oci deny rootUser 
zstd-docker deny rootUser "
# Unread: the user is unknown (a denial once named users fail closed, SEMANTICS.md 4; a warning before).
expect_contains "zstd: too wide a window leaves the user unknown" "$(verdicts <<<"$out" | grep '^zstd-wide ')" "unknownUser"
expect_contains "zstd: read through the OCI zstd layer" "$(message_of zstd-oci)" "uid 0 in its /etc/passwd"
expect_contains "zstd: read through the Docker zstd layer" "$(message_of zstd-docker)" "uid 0 in its /etc/passwd"
expect_contains "zstd: a window over 8 MiB is refused, not allocated" "$(message_of zstd-wide)" \
  "its /etc/passwd was not read: layer needs a zstd window larger than 8 MiB"

# --- 3. platforms: --platform names the nodes' platforms -------------------------------------
pod multi "$plain/team/multi:1" >"$work/multi.yaml"
run_check --allow-registry "$plain" --insecure-registry "$plain" --platform linux/arm64 "$work/multi.yaml"
expect_eq "arm64 nodes only" "$(verdicts <<<"$out")" "multi allow  "
run_check --allow-registry "$plain" --insecure-registry "$plain" --platform linux/amd64,linux/arm64 "$work/multi.yaml"
expect_eq "amd64 and arm64 nodes" "$(verdicts <<<"$out")" "multi deny rootUser "
expect_contains "amd64 runs as root" "$(message_of multi)" "linux/amd64 runs as root (of linux/amd64, linux/arm64, the most privileged applies)"
run_check --allow-registry "$plain" --insecure-registry "$plain" --platform linux/s390x "$work/multi.yaml"
expect_eq "s390x nodes: unknown" "$(verdicts <<<"$out")" "multi deny unknownUser "
expect_contains "no such platform" "$(message_of multi)" "no manifest for linux/s390x in the index (it has linux/amd64, linux/arm64)"

# --- 3a. multi-platform images judged for the platforms each pod can land on (issue 19) ------
# Platform images pushed by tag into team/mp (OCI) and team/mpd (Docker v2s2), then indexes
# written for the purpose and PUT as an OCI index or a Docker manifest list.
mk_plat() { # tag os arch user
  umoci new --image "$oci:$1" >/dev/null
  local user=()
  [ -n "$4" ] && user=(--config.user "$4")
  umoci config --image "$oci:$1" "${user[@]}" --os "$2" --architecture "$3" >/dev/null
}
mk_plat p-amd-1000 linux amd64 1000; mk_plat p-arm64-0 linux arm64 0; mk_plat p-arm64-1000 linux arm64 1000
mk_plat p-arm-root linux arm ""; mk_plat p-arm-1000 linux arm 1000; mk_plat p-ppc-1000 linux ppc64le 1000
mk_plat p-s390x-1000 linux s390x 1000; mk_plat p-386-1000 linux 386 1000
mk_plat p-win-admin windows amd64 ContainerAdministrator; mk_plat p-win-user windows amd64 ContainerUser
oci_manifest=application/vnd.oci.image.manifest.v1+json
docker_manifest=application/vnd.docker.distribution.manifest.v2+json
for t in p-amd-1000 p-arm64-0 p-arm64-1000 p-arm-root p-arm-1000 p-ppc-1000 p-s390x-1000 p-386-1000 p-win-admin p-win-user; do
  push "$t" "$plain/team/mp:$t" --dest-tls-verify=false
  push "$t" "$plain/team/mpd:$t" --dest-tls-verify=false --format v2s2
done
entry() { # repo tag manifest-type platform(os/arch[/variant]): an index entry for a pushed tag
  local headers digest size
  headers="$(curl -sI -H "Accept: $3" "http://$plain/v2/$1/manifests/$2")"
  digest="$(grep -i '^docker-content-digest:' <<<"$headers" | tr -d '\r' | cut -d' ' -f2)"
  size="$(grep -i '^content-length:' <<<"$headers" | tr -d '\r' | cut -d' ' -f2)"
  IFS=/ read -r os arch variant <<<"$4"
  jq -nc --arg t "$3" --arg d "$digest" --argjson s "$size" --arg os "$os" --arg arch "$arch" --arg v "${variant:-}" \
    '{mediaType:$t, digest:$d, size:$s, platform:({os:$os, architecture:$arch} + (if $v == "" then {} else {variant:$v} end))}'
}
put_index() { # repo tag index-type manifest-type (platform=tag)...
  local repo=$1 tag=$2 type=$3 mtype=$4; shift 4
  local entries=()
  for pt in "$@"; do entries+=("$(entry "$repo" "${pt#*=}" "$mtype" "${pt%%=*}")"); done
  printf '%s\n' "${entries[@]}" | jq -sc --arg t "$type" '{schemaVersion:2, mediaType:$t, manifests:.}' >"$work/put.json"
  curl -sf -X PUT -H "Content-Type: $type" --data-binary @"$work/put.json" \
    "http://$plain/v2/$repo/manifests/$tag" >/dev/null || fail "PUT index $repo:$tag: $(cat "$work/put.json")"
}
oci_index=application/vnd.oci.image.index.v1+json
docker_list=application/vnd.docker.distribution.manifest.list.v2+json
put_index team/mp disagree $oci_index $oci_manifest linux/amd64=p-amd-1000 linux/arm64=p-arm64-0 windows/amd64=p-win-admin
put_index team/mpd disagree $docker_list $docker_manifest linux/amd64=p-amd-1000 linux/arm64=p-arm64-0 windows/amd64=p-win-admin
put_index team/mp agree $oci_index $oci_manifest linux/amd64=p-amd-1000 linux/arm64=p-arm64-1000 linux/arm/v7=p-arm-1000
put_index team/mpd agree $docker_list $docker_manifest linux/amd64=p-amd-1000 linux/arm64=p-arm64-1000 linux/arm/v7=p-arm-1000
put_index team/mp armv7 $oci_index $oci_manifest linux/amd64=p-amd-1000 linux/arm/v7=p-arm-root
put_index team/mp win-user $oci_index $oci_manifest linux/amd64=p-arm-root windows/amd64=p-win-user
put_index team/mp two $oci_index $oci_manifest linux/amd64=p-amd-1000 linux/arm64=p-arm64-1000
put_index team/mp six $oci_index $oci_manifest linux/amd64=p-amd-1000 linux/arm64=p-arm64-1000 \
  linux/arm/v7=p-arm-1000 linux/ppc64le=p-ppc-1000 linux/s390x=p-s390x-1000 linux/386=p-386-1000
aff() { # operator value: required node affinity on kubernetes.io/arch
  printf '{nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: kubernetes.io/arch, operator: %s, values: [%s]}]}]}}}' "$1" "$2"
}
ppod() { # name image [nodeSelector json] [affinity json] [os]
  printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: demo}\nspec:\n' "$1"
  [ -n "${3:-}" ] && printf '  nodeSelector: %s\n' "$3"
  [ -n "${4:-}" ] && printf '  affinity: %s\n' "$4"
  [ -n "${5:-}" ] && printf '  os: {name: %s}\n' "$5"
  printf '  containers:\n  - name: c\n    image: "%s"\n' "$2"
}
{
  ppod oci-any "$plain/team/mp:disagree"
  ppod oci-sel-amd64 "$plain/team/mp:disagree" '{kubernetes.io/arch: amd64}'
  ppod oci-sel-arm64 "$plain/team/mp:disagree" '{kubernetes.io/arch: arm64, kubernetes.io/os: linux}'
  ppod oci-in-amd64 "$plain/team/mp:disagree" "" "$(aff In amd64)"
  ppod oci-notin-amd64 "$plain/team/mp:disagree" "" "$(aff NotIn amd64)"
  ppod oci-notin-arm64 "$plain/team/mp:disagree" "" "$(aff NotIn arm64)"
  ppod oci-s390x "$plain/team/mp:disagree" '{kubernetes.io/arch: s390x}'
  ppod oci-windows "$plain/team/mp:disagree" "" "" windows
  ppod list-any "$plain/team/mpd:disagree"
  ppod list-sel-amd64 "$plain/team/mpd:disagree" '{kubernetes.io/arch: amd64}'
  ppod list-in-arm64 "$plain/team/mpd:disagree" "" "$(aff In arm64)"
  ppod oci-agree "$plain/team/mp:agree"
  ppod list-agree "$plain/team/mpd:agree"
  ppod armv7-any "$plain/team/mp:armv7"
  ppod armv7-sel-amd64 "$plain/team/mp:armv7" '{kubernetes.io/arch: amd64}'
  ppod winuser-linux "$plain/team/mp:win-user"
  ppod winuser-windows "$plain/team/mp:win-user" "" "" windows
} >"$work/mp.yaml"
run_check --allow-registry "$plain" --insecure-registry "$plain" "$work/mp.yaml"
expect_eq "multi-platform: verdicts" "$(verdicts <<<"$out")" "oci-any deny rootUser 
oci-sel-amd64 allow  
oci-sel-arm64 deny rootUser 
oci-in-amd64 allow  
oci-notin-amd64 deny rootUser 
oci-notin-arm64 allow  
oci-s390x deny unknownUser 
oci-windows deny rootUser 
list-any deny rootUser 
list-sel-amd64 allow  
list-in-arm64 deny rootUser 
oci-agree allow  
list-agree allow  
armv7-any deny rootUser 
armv7-sel-amd64 allow  
winuser-linux deny rootUser 
winuser-windows allow  "
expect_contains "OCI index: arm64 named" "$(message_of oci-any)" "linux/arm64 runs as root (of linux/amd64, linux/arm64, the most privileged applies)"
expect_contains "manifest list: arm64 named" "$(message_of list-any)" "linux/arm64 runs as root"
expect_contains "nodeSelector arm64: one platform" "$(message_of oci-sel-arm64)" "has USER \"0\" (registry $plain; linux/arm64 runs as root)"
expect_contains "no platform left" "$(message_of oci-s390x)" "the index has no entry for a platform the pod can land on"
expect_contains "Windows pod: the Windows entry" "$(message_of oci-windows)" "windows/amd64 runs as root"
expect_contains "arm/v7 variant named" "$(message_of armv7-any)" "linux/arm/v7 runs as root"
# The cluster's platforms, from the flag and from the policy's nodePlatforms.
run_check --allow-registry "$plain" --insecure-registry "$plain" --platform linux/amd64 "$work/mp.yaml"
expect_eq "amd64 cluster: oci-any" "$(verdicts <<<"$out" | grep '^oci-any ')" "oci-any allow  "
expect_eq "amd64 cluster: armv7-any" "$(verdicts <<<"$out" | grep '^armv7-any ')" "armv7-any allow  "
expect_eq "amd64 cluster: arm64 pod lands nowhere" "$(verdicts <<<"$out" | grep '^oci-sel-arm64 ')" "oci-sel-arm64 deny unknownUser "
printf 'nodePlatforms: [linux/amd64, windows/amd64]\n' >"$work/nodes.yaml"
run_check --policy "$work/nodes.yaml" --allow-registry "$plain" --insecure-registry "$plain" "$work/mp.yaml"
expect_eq "nodePlatforms: oci-any" "$(verdicts <<<"$out" | grep '^oci-any ')" "oci-any allow  "
expect_eq "nodePlatforms: Windows pod" "$(verdicts <<<"$out" | grep '^oci-windows ')" "oci-windows deny rootUser "
printf 'nodePlatforms: [linux]\n' >"$work/bad-nodes.yaml"
out="$("$bin" check --policy "$work/bad-nodes.yaml" "$work/mp.yaml" 2>&1)"; code=$?
expect_eq "nodePlatforms: bad entry exit code" "$code" 2
expect_contains "nodePlatforms: bad entry" "$out" "nodePlatforms[0]: platform \"linux\": expected os/arch[/variant]"
# --image REF: every platform of the index.
run_check --allow-registry "$plain" --insecure-registry "$plain" --image "$plain/team/mp:disagree"
expect_eq "check --image index" "$(jq -r '.results[0].allowed' <<<"$out")" false
expect_contains "check --image names the platform" "$(jq -r '[.results[0].violations[].message] | join(" ")' <<<"$out")" "linux/arm64 runs as root"

# --- 3b. mirrors: docker.io images looked up at the loopback registry (air-gapped clusters) ---
push u1000 "$plain/hub-mirror/library/busybox:1.36" --dest-tls-verify=false
push empty "$plain/hub-mirror/bitnami/redis:7" --dest-tls-verify=false
printf 'registries:\n  mirrors:\n    - registry: docker.io\n      mirror: %s/hub-mirror\n' "$plain" >"$work/mirror.yaml"
{ pod busybox "busybox:1.36"; pod redis "docker.io/bitnami/redis:7"; } >"$work/hub.yaml"
run_check --policy "$work/mirror.yaml" --insecure-registry "$plain" "$work/hub.yaml"
expect_eq "mirror: verdicts" "$(verdicts <<<"$out")" "busybox allow  
redis deny rootUser "
expect_contains "mirror: named in the message" "$(message_of redis)" "(registry docker.io via $plain)"

# --- 4. loopback refused unless allowed -----------------------------------------------------
pod u1000 "$plain/team/u1000:1" >"$work/one.yaml"
run_check --insecure-registry "$plain" "$work/one.yaml"
expect_eq "loopback refused" "$(verdicts <<<"$out")" "u1000 deny unknownUser "
expect_contains "loopback reason" "$(message_of u1000)" "$plain is a loopback address: refused (name it in registries.allow or --allow-registry"
run_check --allow-registry "$plain" "$work/one.yaml"  # HTTPS to a plain-HTTP registry
expect_contains "TLS by default" "$(message_of u1000)" "TLS handshake failed"
run_check --offline "$work/one.yaml"
expect_contains "offline" "$(message_of u1000)" "registry lookups are off (--offline)"
run_check --allow-registry "127.0.0.1:$(free_port)" --insecure-registry 127.0.0.1 "$work/one.yaml"
expect_contains "allow list" "$(message_of u1000)" "not in registries.allow or --allow-registry"
out="$("$bin" check --allow-registry "$plain" "$work/one.yaml" 2>&1)"; code=$?
expect_eq "registry flags need --resolve-images" "$code" 2

# --- 5. TLS registry with a test CA and htpasswd basic auth --------------------------------
pod private "$tls/team/private:1" >"$work/private.yaml"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$tls" "$(printf user:pass | base64)" >"$work/auth.json"
printf '{"auths": {"%s": {"username": "user", "password": "wrong"}}}\n' "$tls" >"$work/bad-auth.json"
run_check --allow-registry "$tls" --registry-ca "$work/certs/ca.pem" --registry-auth "$work/auth.json" "$work/private.yaml"
expect_eq "tls+auth" "$(verdicts <<<"$out")" "private allow  "
run_check --allow-registry "$tls" --registry-ca "$work/certs/ca.pem" "$work/private.yaml"
expect_contains "401 without credentials" "$(message_of private)" "authentication required (401) and no credentials for $tls"
run_check --allow-registry "$tls" --registry-ca "$work/certs/ca.pem" --registry-auth "$work/bad-auth.json" "$work/private.yaml"
expect_contains "wrong credentials" "$(message_of private)" "unauthorized (401"
expect_eq "no password in the reply" "$(grep -c wrong <<<"$out$err")" 0
run_check --allow-registry "$tls" --registry-auth "$work/auth.json" "$work/private.yaml"
expect_contains "unknown CA" "$(message_of private)" "TLS certificate verification failed"

# --- 6. the fake registry: bearer flow and faults --------------------------------------------
fakes=0
start_fake() { # mode [args...]: sets fake_port
  local log="$work/fake-$1.log" port_file="$work/fake-$((++fakes)).port"
  : >"$log"
  python3 "$here/registry_fake.py" "$@" --log "$log" >"$port_file" 2>/dev/null & pids+=($!)
  fake_port=""
  for _ in $(seq 100); do
    fake_port=$(head -1 "$port_file" 2>/dev/null)
    [ -n "$fake_port" ] && break
    sleep 0.1
  done
  [ -n "$fake_port" ] || fail "fake registry $1 did not start"
}
fake_check() { # mode-port name: check one pod against the fake on that port
  pod "$2" "127.0.0.1:$1/team/app:${3:-1}" >"$work/fake.yaml"
  # Plain HTTP to any loopback port, so that redirects meet the address checks.
  run_check --allow-registry "127.0.0.1:$1" --insecure-registry 127.0.0.1 "$work/fake.yaml"
}
start_fake bearer --user 1000
{ pod a "127.0.0.1:$fake_port/team/app:1"; pod b "127.0.0.1:$fake_port/team/app:2"; } >"$work/bearer.yaml"
run_check --allow-registry "127.0.0.1:$fake_port" --insecure-registry "127.0.0.1:$fake_port" "$work/bearer.yaml"
expect_eq "bearer: verdicts" "$(verdicts <<<"$out")" "a allow  
b allow  "
expect_eq "bearer: one token for both" "$(grep -c '^TOKEN /token?service=fake-registry&scope=repository%3Ateam%2Fapp%3Apull' "$work/fake-bearer.log")" 1
start_fake basic
fake_check "$fake_port" basic
expect_contains "basic without credentials" "$(message_of basic)" "authentication required (401) and no credentials"
start_fake huge
fake_check "$fake_port" huge
expect_contains "oversized manifest" "$(message_of huge)" "manifest larger than 4 MiB"
other=$(free_port)
start_fake redirect --target "http://127.0.0.1:$other/blob/"
fake_check "$fake_port" loop
expect_contains "redirect to loopback" "$(message_of loop)" "127.0.0.1:$other is a loopback address: refused"
start_fake redirect --target "http://169.254.169.254/latest/meta-data/"
fake_check "$fake_port" meta
expect_contains "redirect to metadata" "$(message_of meta)" "plain HTTP to 169.254.169.254:80 refused"
start_fake redirect --target "https://169.254.169.254/latest/meta-data/"
fake_check "$fake_port" meta2
expect_contains "redirect to metadata (https)" "$(message_of meta2)" "169.254.169.254 is a cloud metadata address: refused"
down=$(free_port)
fake_check "$down" down
expect_contains "registry down" "$(message_of down)" "cannot connect to 127.0.0.1:$down"
start_fake stall
pod stall "127.0.0.1:$fake_port/team/app:1" >"$work/stall.yaml"
t0=$(date +%s%N)
run_check --registry-timeout 2s --allow-registry "127.0.0.1:$fake_port" --insecure-registry "127.0.0.1:$fake_port" "$work/stall.yaml"
elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "stall: verdict" "$(verdicts <<<"$out")" "stall deny unknownUser "
expect_contains "stall: timed out" "$(message_of stall)" "registry 127.0.0.1:$fake_port: timed out after 2s"
if [ "$elapsed_ms" -lt 3500 ]; then pass; else fail "stall: took ${elapsed_ms} ms for a 2s deadline"; fi

# --- 7. the webhook: `rootgate serve` with the same flags ----------------------------------
serve_port=$(free_port)
"$bin" serve --listen "127.0.0.1:$serve_port" --tls-cert "$work/certs/srv.pem" --tls-key "$work/certs/srv.key" \
  --log-level warn --allow-registry "$plain" --insecure-registry "$plain" \
  --allow-registry "127.0.0.1" --insecure-registry "127.0.0.1" >"$work/serve.out" 2>"$work/serve.log" &
serve_pid=$!; pids+=($serve_pid)
wait_http "https://127.0.0.1:$serve_port/healthz" || fail "serve did not start: $(cat "$work/serve.log")"
review() { # uid image: an AdmissionReview of a Pod CREATE
  jq -nc --arg n "$1" --arg img "$2" '{apiVersion:"admission.k8s.io/v1", kind:"AdmissionReview",
    request:{uid:$n, kind:{group:"",version:"v1",kind:"Pod"}, resource:{group:"",version:"v1",resource:"pods"},
             operation:"CREATE", namespace:"demo", userInfo:{username:"alice"},
             object:{apiVersion:"v1", kind:"Pod", metadata:{name:$n, namespace:"demo"},
                     spec:{containers:[{name:"c", image:$img}]}}}}'
}
post() { # timeout: the body on stdin
  curl -s --cacert "$work/certs/ca.pem" -H 'Content-Type: application/json' --data-binary @- \
    "https://127.0.0.1:$serve_port/validate?timeout=$1"
}
serve_verdict() { # uid image → "allow" or "deny RULE"
  review "$1" "$2" | post 10s | jq -r '.response | if .allowed then "allow" else "deny " + (.status.message | capture("\\[(?<r>[a-zA-Z]+)\\]").r) end'
}
got=""
for tag in empty zero root zerozero u1000 u1000g plus5 app multi missing; do
  got+="$tag $(serve_verdict "$tag" "$plain/team/${tag/missing/nope}:1")"$'\n'
done
expect_eq "serve: verdicts" "$got" "empty deny rootUser
zero deny rootUser
root deny rootUser
zerozero deny rootUser
u1000 allow
u1000g allow
plus5 allow
app allow
multi deny rootUser
missing deny unknownUser
"
review_spec() { # uid spec-json: an AdmissionReview of a Pod CREATE with this spec
  jq -nc --arg n "$1" --argjson spec "$2" '{apiVersion:"admission.k8s.io/v1", kind:"AdmissionReview",
    request:{uid:$n, kind:{group:"",version:"v1",kind:"Pod"}, resource:{group:"",version:"v1",resource:"pods"},
             operation:"CREATE", namespace:"demo", userInfo:{username:"alice"},
             object:{apiVersion:"v1", kind:"Pod", metadata:{name:$n, namespace:"demo"}, spec:$spec}}}'
}
spec_for() { # image [extra spec json]
  local extra="${2:-}"
  [ -n "$extra" ] || extra='{}'
  jq -nc --arg img "$1" --argjson extra "$extra" '{containers:[{name:"c", image:$img}]} + $extra'
}
mp_serve() { # uid spec-json → "allow" or "deny RULE: message"
  review_spec "$1" "$2" | post 10s | jq -r '.response | if .allowed then "allow" else "deny " + .status.message end'
}
notin_amd='{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/arch","operator":"NotIn","values":["amd64"]}]}]}}}}'
in_amd='{"affinity":{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":[{"matchExpressions":[{"key":"kubernetes.io/arch","operator":"In","values":["amd64"]}]}]}}}}'
amd_digest="$(entry team/mp p-amd-1000 $oci_manifest linux/amd64 | jq -r .digest)"
amd_gets() { grep "GET /v2/team/mp/manifests/$amd_digest HTTP" "$work/plain/log" | grep -c '"rootgate/'; }
amd_before=$(amd_gets)
expect_contains "serve: OCI index, any platform" "$(mp_serve mp1 "$(spec_for "$plain/team/mp:disagree")")" "linux/arm64 runs as root"
expect_eq "serve: nodeSelector amd64" "$(mp_serve mp2 "$(spec_for "$plain/team/mp:disagree" '{"nodeSelector":{"kubernetes.io/arch":"amd64"}}')")" allow
expect_eq "serve: affinity In amd64" "$(mp_serve mp3 "$(spec_for "$plain/team/mpd:disagree" "$in_amd")")" allow
expect_contains "serve: affinity NotIn amd64" "$(mp_serve mp4 "$(spec_for "$plain/team/mpd:disagree" "$notin_amd")")" "[rootUser]"
expect_contains "serve: Windows pod" "$(mp_serve mp5 "$(spec_for "$plain/team/mp:disagree" '{"os":{"name":"windows"}}')")" "windows/amd64 runs as root"
expect_eq "serve: Windows pod, non-admin entry" "$(mp_serve mp6 "$(spec_for "$plain/team/mp:win-user" '{"os":{"name":"windows"}}')")" allow
expect_contains "serve: arm/v7" "$(mp_serve mp7 "$(spec_for "$plain/team/mp:armv7")")" "linux/arm/v7 runs as root"
expect_contains "serve: no platform left" "$(mp_serve mp8 "$(spec_for "$plain/team/mp:agree" '{"nodeSelector":{"kubernetes.io/arch":"s390x"}}')")" "[unknownUser]"
# mp:disagree, mp:armv7 and mp:agree share the linux/amd64 manifest: fetched once (cached by digest).
expect_eq "serve: a platform manifest shared by 3 indexes fetched once" "$(( $(amd_gets) - amd_before ))" 1
for tag in empty app; do  # `rootgate review --resolve-images` answers as the webhook does
  review "$tag" "$plain/team/$tag:1" >"$work/review-$tag.json"
  from_serve="$(post 10s <"$work/review-$tag.json" | jq -S .)"
  from_review="$("$bin" review --resolve-images --allow-registry "$plain" --insecure-registry "$plain" \
                 "$work/review-$tag.json" | jq -S .)"
  expect_eq "review --resolve-images = serve ($tag)" "$from_review" "$from_serve"
done
push empty "$plain/team/coalesce-serve:1" --dest-tls-verify=false
review coalesce "$plain/team/coalesce-serve:1" >"$work/coalesce.json"
seq 100 | xargs -P 100 -I{} sh -c "curl -s --cacert '$work/certs/ca.pem' -H 'Content-Type: application/json' \
  --data-binary @'$work/coalesce.json' 'https://127.0.0.1:$serve_port/validate?timeout=10s' >'$work/coalesce.{}.out'"
expect_eq "serve: 100 concurrent replies" "$(cat "$work"/coalesce.*.out | jq -r .response.allowed | sort | uniq -c | tr -s ' ')" " 100 false"
expect_eq "serve: 100 concurrent requests, 1 manifest fetch in the registry's log" \
  "$(grep 'GET /v2/team/coalesce-serve/manifests/1 HTTP' "$work/plain/log" | grep -c '"rootgate/')" 1
start_fake stall
t0=$(date +%s%N)
stalled="$(review stall "127.0.0.1:$fake_port/team/app:1" | post 2s)"
elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "serve: stalled registry denied" "$(jq -r .response.allowed <<<"$stalled")" false
expect_contains "serve: stalled registry reason" "$(jq -r .response.status.message <<<"$stalled")" "registry 127.0.0.1:$fake_port: timed out after 1."
if [ "$elapsed_ms" -lt 2000 ]; then pass; else fail "serve: answered after ${elapsed_ms} ms, over the 2s timeout"; fi
metrics="$(curl -s --cacert "$work/certs/ca.pem" "https://127.0.0.1:$serve_port/metrics")"
expect_contains "serve: lookup metrics" "$metrics" 'rootgate_image_lookups_total{result="timeout"} 1'
expect_contains "serve: cache metric" "$metrics" "rootgate_image_cache_entries "
expect_contains "serve: fetch histogram" "$metrics" "rootgate_registry_fetch_duration_seconds_count "
# The stalled fetch is still running (it may outlive its request by 10s to fill the cache);
# SIGTERM must not wait for it.
t0=$(date +%s%N)
kill -TERM "$serve_pid"
wait "$serve_pid"; serve_code=$?
elapsed_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "serve: exit code after SIGTERM" "$serve_code" 0
if [ "$elapsed_ms" -lt 3000 ]; then pass; else fail "serve: took ${elapsed_ms} ms to stop with a stalled lookup"; fi

# --- 8. coalescing and speed (rootgate_registry_bench), counted in the registry's log --------
if [ -n "$bench" ]; then
  push u1000 "$plain/team/mp-single:1" --dest-tls-verify=false
  figures="$("$bench" --image "$plain/team/coalesce:1" --allow-registry "$plain" --insecure-registry "$plain" \
             --concurrency 100 --iterations 20000 --single "$plain/team/mp-single:1" \
             --index "$plain/team/mp:two" --index "$plain/team/mp:six" 2>&1)"
  echo "$figures"
  expect_contains "bench: coalesced" "$figures" "100 concurrent lookups"
  expect_contains "bench: all answered" "$figures" "100 answered"
  expect_contains "bench: 2-platform index" "$figures" "multi-platform: $plain/team/mp:two: cached"
  expect_contains "bench: 6-platform index" "$figures" "multi-platform: $plain/team/mp:six: cached"
  # 100 concurrent lookups, then the uncached runs: the access log tells the first fetch apart.
  first_round=$(grep 'GET /v2/team/coalesce/manifests/1 HTTP' "$work/plain/log" | grep -c '"rootgate/')
  uncached_runs=$(grep -oE 'median over [0-9]+' <<<"$figures" | grep -oE '[0-9]+$')
  expect_eq "coalescing: manifest fetches in the registry's log" "$((first_round - uncached_runs))" 1
fi

echo "registry tests: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
