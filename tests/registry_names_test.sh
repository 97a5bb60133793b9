#!/usr/bin/env bash
# Named image users (issue 18) against Debian's docker-registry on loopback: images built with
# umoci (layers crafted with Python's tarfile where the case needs a tar that umoci would not
# write: a path twice in one layer, `./etc/passwd`, PAX and GNU long names), pushed with skopeo,
# checked with the built-in policy (namedUsers: resolve) through `rootgate check
# --resolve-images` and through `rootgate serve`. Expected verdicts come from SEMANTICS.md ("The
# image's user", rule 4): a name's uid is read from the /etc/passwd extraction leaves (the last
# entry of a path in a layer wins; whiteouts honoured), as containerd/CRI-O/runc read it
# (trimmed lines, first match, a missing or non-integer uid is 0); unresolvable is unknown.
# With the registry bench binary as second argument, it also prints the cost of resolving names
# for images shaped like common ones (bytes from the registry's access log, times from the bench).
# usage: tests/registry_names_test.sh path/to/rootgate [path/to/rootgate_registry_bench]
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

"$root/scripts/deps.sh" docker-registry umoci skopeo openssl python3 jq curl >&2 ||
  { echo "registry_names_test: cannot install docker-registry/umoci/skopeo; skipped" >&2; exit 77; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() {
  for _ in $(seq 100); do
    curl -sk -o /dev/null -m 1 "$1" && return 0
    sleep 0.1
  done
  echo "registry_names_test: $1 did not come up" >&2; return 1
}

# --- the registry -----------------------------------------------------------------------------
port=$(free_port)
mkdir -p "$work/data"
cat >"$work/config.yml" <<CFG
version: 0.1
log: {level: warn, accesslog: {disabled: false}}
storage: {filesystem: {rootdirectory: $work/data}}
http: {addr: 127.0.0.1:$port}
CFG
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$port/v2/" || exit 1
reg="127.0.0.1:$port"

# --- layers and images ----------------------------------------------------------------------
oci="$work/oci"
umoci init --layout "$oci" >/dev/null
umoci new --image "$oci:empty" >/dev/null
# layer NAME FORMAT then PATH=CONTENT... : an uncompressed tar with the files in that order
# (FORMAT gnu, pax or ustar; CONTENT may hold \n). PATH "@pad:N" is N bytes of random data;
# "sym:PATH=TARGET" and "hard:PATH=TARGET" are a symbolic and a hard link.
layer() {
  python3 - "$work/$1.tar" "$2" "${@:3}" <<'PY'
import io, os, sys, tarfile
out, fmt, files = sys.argv[1], sys.argv[2], sys.argv[3:]
formats = {"gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT, "ustar": tarfile.USTAR_FORMAT}
with tarfile.open(out, "w", format=formats[fmt]) as t:
    for spec in files:
        path, content = spec.split("=", 1)
        if path.startswith(("sym:", "hard:")):  # a symbolic or hard link PATH to CONTENT
            kind, path = path.split(":", 1)
            info = tarfile.TarInfo(path)
            info.type = tarfile.SYMTYPE if kind == "sym" else tarfile.LNKTYPE
            info.linkname, info.mode = content, 0o777 if kind == "sym" else 0o644
            t.addfile(info)
            continue
        if path.startswith("@pad:"):
            data, path = os.urandom(int(path[5:])), "srv/padding.bin"
        else:
            data = content.encode().decode("unicode_escape").encode("latin-1")
        info = tarfile.TarInfo(path)
        info.size, info.mode = len(data), 0o644
        t.addfile(info, io.BytesIO(data))
PY
}
# image TAG USER LAYER...: the empty image with these layers (bottom first) and config.user.
image() {
  local tag=$1 user=$2 from=empty; shift 2
  for l in "$@"; do
    umoci raw add-layer --image "$oci:$from" --tag "$tag" "$work/$l.tar" >/dev/null || fail "add-layer $l to $tag"
    from=$tag
  done
  [ "$from" == empty ] && umoci tag --image "$oci:empty" "$tag" >/dev/null
  umoci config --image "$oci:$tag" --config.user "$user" --os linux --architecture amd64 >/dev/null
  skopeo copy -q --dest-tls-verify=false "oci:$oci:$tag" "docker://$reg/names/$tag:1" >/dev/null 2>"$work/skopeo.err" ||
    fail "push $tag: $(cat "$work/skopeo.err")"
}
std='root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n'
layer std gnu "etc/passwd=${std}"
layer toor gnu "etc/passwd=root:x:0:0:root:/root:/bin/sh\ntoor:x:0:0:root:/root:/bin/sh\n"
layer app_files gnu "srv/app=binary" "srv/config=x"
layer hosts gnu "etc/hosts=127.0.0.1 localhost\n"
layer whiteout gnu "etc/.wh.passwd="
layer twice gnu "etc/passwd=app:x:1000:1000::/:\n" "usr/share/doc=x" "etc/passwd=app:x:0:0::/:\n"
layer twice_pax pax "etc/passwd=app:x:1000:1000::/:\n" "./etc/passwd=app:x:0:0::/:\n"
layer dotslash ustar "./etc/passwd=app:x:0:0::/:\n"
long="./$(printf 'd%.0s' $(seq 110))/../etc/passwd"
layer pax_long pax "$long=app:x:0:0::/:\n"
layer gnu_long gnu "$long=app:x:0:0::/:\n"
layer indented gnu "etc/passwd=  app:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n"
layer duplicate gnu "etc/passwd=app:x:0:0::/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n"
layer short gnu "etc/passwd=root:x:0:0::/root:/bin/sh\napp:x\n"
layer nonint gnu "etc/passwd=app:x:1e3:1000::/:/bin/sh\n"
layer spaced gnu "etc/passwd=app:x: 1000:1000::/:/bin/sh\n"
layer useradd gnu "etc/passwd=root:x:0:0::/root:/bin/sh\nsvc:x:999:999::/:/usr/sbin/nologin\n"
layer pad gnu "@pad:6291456="  # 6 MiB of random bytes: gzip cannot shrink them
layer node gnu "etc/passwd=root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/bash\n"
layer lib gnu "usr/lib/passwd=root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/:/bin/sh\n"
layer lib0 gnu "usr/lib/passwd=app:x:0:0::/:/bin/sh\n"
layer sym_rel gnu "sym:etc/passwd=../usr/lib/passwd"
layer sym_abs gnu "sym:etc/passwd=/usr/lib/passwd"
layer sym_escape pax "sym:etc/passwd=../../../../../usr/lib/passwd"
layer sym_dangling gnu "sym:etc/passwd=/nowhere/passwd"
layer sym_loop gnu "sym:etc/passwd=passwd2" "sym:etc/passwd2=/etc/passwd"
layer hard_same gnu "usr/lib/passwd=app:x:1000:1000::/:/bin/sh\n" "hard:etc/passwd=usr/lib/passwd" \
  "usr/lib/passwd=app:x:0:0::/:/bin/sh\n"
layer hard_lower gnu "hard:etc/passwd=usr/lib/passwd"

# tag user layers... | expected verdict with the built-in policy
cases=(
  "toor|toor|toor|deny rootUser"
  "app|app|std app_files|allow"
  "ghost|ghost|std app_files|deny unknownUser"
  "nopasswd|app|app_files hosts|deny unknownUser"
  "whiteout|app|std hosts whiteout|deny unknownUser"
  "twice|app|twice|deny rootUser"
  "twice-pax|app|twice_pax|deny rootUser"
  "dotslash|app|std dotslash|deny rootUser"
  "pax-long|app|std pax_long|deny rootUser"
  "gnu-long|app|std gnu_long|deny rootUser"
  "indented|app|indented|deny rootUser"
  "duplicate|app|duplicate|deny rootUser"
  "short|app|short|deny rootUser"
  "nonint|app|nonint|deny rootUser"
  "spaced|app|spaced|deny rootUser"
  "useradd|svc|std useradd app_files|allow"
  "padded|app|std pad|allow"
  "root-numeric|0|std|deny rootUser"
  # /etc/passwd as a link: what the runtime opens (a symlink resolved inside the root, in the
  # merged layers; a hard link to its target as extraction made it); not resolvable: unknown.
  "sym-rel|app|lib sym_rel|allow"
  "sym-abs-root|app|lib0 sym_abs|deny rootUser"
  "sym-upper|app|sym_abs lib lib0|deny rootUser"
  "sym-escape|app|lib sym_escape|allow"
  "sym-dangling|app|std sym_dangling|deny unknownUser"
  "sym-loop|app|sym_loop|deny unknownUser"
  "hard-same|app|hard_same|allow"
  "hard-lower|app|lib0 hard_lower|deny rootUser"
)
for c in "${cases[@]}"; do
  IFS='|' read -r tag user layers _ <<<"$c"
  # shellcheck disable=SC2086
  image "$tag" "$user" $layers
done

pod() { printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: demo}\nspec:\n  containers:\n  - name: c\n    image: "%s"\n' "$1" "$2"; }
for c in "${cases[@]}"; do IFS='|' read -r tag _ <<<"$c"; pod "$tag" "$reg/names/$tag:1"; done >"$work/pods.yaml"
verdicts() { jq -r '.results[] | "\(.name) \(if .allowed then "allow" else "deny " + ([.violations[].rule]|unique|join(",")) end)"'; }
message_of() { jq -r --arg n "$1" '.results[] | select(.name==$n) | [.violations[].message, .warnings[].message] | join(" | ")' <<<"$out"; }
want=""
for c in "${cases[@]}"; do IFS='|' read -r tag _ _ verdict <<<"$c"; want+="$tag $verdict"$'\n'; done

# --- 1. check --resolve-images, built-in policy -------------------------------------------
out="$("$bin" check -o json --resolve-images --allow-registry "$reg" --insecure-registry "$reg" "$work/pods.yaml" 2>"$work/err")"
expect_eq "check: exit code" "$?" 1
expect_eq "check: verdicts" "$(verdicts <<<"$out")"$'\n' "$want"
expect_contains "toor: uid 0 named" "$(message_of toor)" 'has USER "toor" (registry '"$reg"'; uid 0 in its /etc/passwd)'
expect_contains "ghost: reason" "$(message_of ghost)" "USER ghost is not in the image's /etc/passwd; the container would not start"
expect_contains "nopasswd: reason" "$(message_of nopasswd)" "the image has no /etc/passwd"
expect_contains "whiteout: reason" "$(message_of whiteout)" "the image has no /etc/passwd"
expect_contains "sym-dangling: reason" "$(message_of sym-dangling)" "its /etc/passwd is a link to /nowhere/passwd, which the image does not have"
expect_contains "sym-loop: reason" "$(message_of sym-loop)" "more than 8 links to follow"
expect_eq "no warnings: nothing assumed" "$(jq '[.results[].warnings[]] | length' <<<"$out")" 0

# --- 2. the byte cap: a padding layer above /etc/passwd makes the name unknown -------------
pod padded "$reg/names/padded:1" >"$work/padded.yaml"
out="$("$bin" check -o json --resolve-images --allow-registry "$reg" --insecure-registry "$reg" \
       --named-user-max-bytes 4Mi "$work/padded.yaml" 2>"$work/err")"
expect_eq "cap: verdict" "$(verdicts <<<"$out")" "padded deny unknownUser"
expect_contains "cap: reason" "$(message_of padded)" "not reached within the 4 MiB layer byte cap"

# --- 3. namedUsers: assume is the explicit opt-in that trusts image authors ---------------
printf 'namedUsers: assume\n' >"$work/assume.yaml"
pod ghost "$reg/names/ghost:1" >"$work/ghost.yaml"
out="$("$bin" check -o json --resolve-images --policy "$work/assume.yaml" --allow-registry "$reg" \
       --insecure-registry "$reg" "$work/ghost.yaml" 2>"$work/err")"
expect_eq "assume: ghost allowed with a warning" "$(jq -r '.results[0] | "\(.allowed) \([.warnings[].rule]|join(","))"' <<<"$out")" "true unknownUser"

# --- 4. check --image gives the same verdicts ----------------------------------------------
out="$("$bin" check -o json --allow-registry "$reg" --insecure-registry "$reg" --image "$reg/names/twice:1" \
       --image "$reg/names/app:1" 2>"$work/err")"
expect_eq "check --image" "$(jq -r '[.results[] | .allowed] | join(" ")' <<<"$out")" "false true"

# --- 5. Dockerfiles: a USER the Dockerfile does not create comes from its base's /etc/passwd --
# SEMANTICS.md rule 4 (Dockerfiles): "a name it does not create comes from the base image's
# passwd (with --resolve-images), else it is unknown" -- whatever the base's own config User is.
image node-base "" node app_files   # like node:20: config User empty, node:x:1000 in its passwd
image toor-base "" toor             # toor:x:0 in its passwd
dockerfile_case() {  # NAME TEXT: writes $work/NAME/Dockerfile
  mkdir -p "$work/$1" && printf '%b' "$2" >"$work/$1/Dockerfile"
}
dockerfile_case df-node "FROM $reg/names/node-base:1\nUSER node\n"
dockerfile_case df-toor "FROM $reg/names/toor-base:1\nUSER toor\n"
dockerfile_case df-ghost "FROM $reg/names/node-base:1\nUSER ghost\n"
dockerfile_case df-chain "FROM $reg/names/node-base:1 AS base\nRUN true\nFROM base\nUSER node:node\n"
dockerfile_case df-created "FROM $reg/names/toor-base:1 AS base\nRUN useradd -u 2000 toor\nFROM base\nUSER toor\n"
dockerfile_case df-sideways "FROM $reg/names/toor-base:1 AS build\nRUN useradd -u 2000 toor\nFROM $reg/names/toor-base:1\nUSER toor\n"
closed=$(free_port)  # nothing listens there
dockerfile_case df-unreachable "FROM 127.0.0.1:$closed/names/node-base:1\nUSER node\n"
dfcheck() {  # NAME [FLAGS...]: "allow" or "deny RULES", then the messages
  local name=$1; shift
  "$bin" check -o json "$@" "$work/$name/Dockerfile" 2>"$work/err" |
    jq -r '.results[0] | "\(if .allowed then "allow" else "deny " + ([.violations[].rule]|unique|join(",")) end)\t\([.violations[].message, .warnings[].message] | join(" | "))"'
}
resolve=(--resolve-images --allow-registry "$reg" --insecure-registry "$reg")
for c in "df-node|allow" "df-toor|deny rootUser" "df-ghost|deny unknownUser" "df-chain|allow" \
         "df-created|allow" "df-sideways|deny rootUser"; do
  IFS='|' read -r name verdict <<<"$c"
  got="$(dfcheck "$name" "${resolve[@]}")"
  expect_eq "dockerfile $name: verdict" "${got%%$'\t'*}" "$verdict"
done
expect_contains "dockerfile df-toor: where the uid came from" "$(dfcheck df-toor "${resolve[@]}")" \
  "from the /etc/passwd of base image $reg/names/toor-base:1 (registry $reg; uid 0 in its /etc/passwd)"
expect_contains "dockerfile df-ghost: reason names the base" "$(dfcheck df-ghost "${resolve[@]}")" \
  "its uid comes from the /etc/passwd of base image $reg/names/node-base:1 (registry $reg): USER ghost is not in the image's /etc/passwd"
got="$(dfcheck df-unreachable --resolve-images --allow-registry "127.0.0.1:$closed" --insecure-registry "127.0.0.1:$closed" \
       --registry-timeout 5s)"
expect_eq "dockerfile df-unreachable: verdict" "${got%%$'\t'*}" "deny unknownUser"
expect_contains "dockerfile df-unreachable: reason" "$got" \
  "base image 127.0.0.1:$closed/names/node-base:1, which was not read (registry 127.0.0.1:$closed: "
# Several names asked of one base in one check: one layer walk (each layer fetched once).
dockerfile_case df-node2 "FROM $reg/names/node-base:1\nUSER node:node\n"
: >"$work/registry.log"
"$bin" check -o json "${resolve[@]}" "$work/df-node/Dockerfile" "$work/df-ghost/Dockerfile" \
  "$work/df-node2/Dockerfile" >"$work/three.json" 2>"$work/err"
expect_eq "dockerfiles sharing a base: verdicts" "$(jq -r '[.results[] | .allowed] | join(" ")' "$work/three.json")" "true false true"
layer_gets=$(grep -acF '"GET /v2/names/node-base/blobs/' "$work/registry.log")
manifest="$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$reg/v2/names/node-base/manifests/1")"
expect_eq "dockerfiles sharing a base: each layer fetched once" "$layer_gets" "$(jq '.layers | length' <<<"$manifest")"
got="$(dfcheck df-node)"  # no --resolve-images: the base's passwd is not read
expect_eq "dockerfile df-node offline: verdict" "${got%%$'\t'*}" "deny unknownUser"
expect_contains "dockerfile df-node offline: reason" "$got" "which was not read (no image facts; registry lookups are off)"

# --- 6. serve ------------------------------------------------------------------------------
(cd "$work" && openssl req -x509 -newkey rsa:2048 -nodes -keyout srv.key -out srv.pem -days 2 -subj /CN=localhost \
   -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1) || fail "serving certificate"
serve_port=$(free_port)
"$bin" serve --listen "127.0.0.1:$serve_port" --tls-cert "$work/srv.pem" --tls-key "$work/srv.key" --log-level warn \
  --allow-registry "$reg" --insecure-registry "$reg" >"$work/serve.out" 2>"$work/serve.log" & pids+=($!)
wait_http "https://127.0.0.1:$serve_port/healthz" || fail "serve did not start: $(cat "$work/serve.log")"
review() {
  jq -nc --arg n "$1" --arg img "$2" '{apiVersion:"admission.k8s.io/v1", kind:"AdmissionReview",
    request:{uid:$n, kind:{group:"",version:"v1",kind:"Pod"}, resource:{group:"",version:"v1",resource:"pods"},
             operation:"CREATE", namespace:"demo", userInfo:{username:"alice"},
             object:{apiVersion:"v1", kind:"Pod", metadata:{name:$n, namespace:"demo"},
                     spec:{containers:[{name:"c", image:$img}]}}}}'
}
got=""
for c in "${cases[@]}"; do
  IFS='|' read -r tag _ <<<"$c"
  reply="$(review "$tag" "$reg/names/$tag:1" | curl -s --cacert "$work/srv.pem" -H 'Content-Type: application/json' \
           --data-binary @- "https://127.0.0.1:$serve_port/validate?timeout=10s")"
  got+="$tag $(jq -r '.response | if .allowed then "allow" else "deny " + (.status.message | capture("\\[(?<r>[a-zA-Z]+)\\]").r) end' <<<"$reply")"$'\n'
  [ "$tag" == ghost ] && ghost_reply="$reply"
done
expect_eq "serve: verdicts" "$got" "$want"
expect_contains "serve: ghost reason" "$(jq -r .response.status.message <<<"$ghost_reply")" "USER ghost is not in the image's /etc/passwd"

# --- 7. the cost of resolving, for images shaped like common ones (printed, not asserted) ----
if [ -n "$bench" ]; then
  mib=1048576
  layer base28 gnu "etc/passwd=${std}" "@pad:$((28 * mib))="      # a debian/ubuntu-sized base
  layer base28_root gnu "etc/passwd=root:x:0:0::/root:/bin/sh\n" "@pad:$((28 * mib))="
  layer base3 gnu "etc/passwd=${std}" "@pad:$((3 * mib))="        # an alpine-sized base
  layer adduser gnu "etc/passwd=root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n" "etc/group=app:x:1000:\n"
  layer app5 gnu "@pad:$((5 * mib))="
  layer app1 gnu "@pad:$((1 * mib))="
  layer app64k gnu "@pad:65536="
  shapes=("shape-debian|app|base28 app5 app1 app64k" "shape-useradd|app|base28_root adduser app5 app1"
          "shape-alpine|app|base3 app5 app64k" "shape-big-app|app|base3 app5 app5 app5 app5 app5 app5 app5 app5 app5 app5 app5 app5 app5")
  args=()
  for c in "${shapes[@]}"; do
    IFS='|' read -r tag user layers <<<"$c"
    # shellcheck disable=SC2086
    image "$tag" "$user" $layers
    args+=(--named-image "$reg/names/$tag:1")
  done
  : >"$work/registry.log"
  figures="$("$bench" "${args[@]}" --iterations 5 --allow-registry "$reg" --insecure-registry "$reg" 2>&1)"
  for c in "${shapes[@]}"; do
    IFS='|' read -r tag _ layers <<<"$c"
    manifest="$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$reg/v2/names/$tag/manifests/1")"
    total=$(jq '[.layers[].size] | add' <<<"$manifest")
    read_bytes=0
    for d in $(jq -r '[.layers[].digest] | unique | .[]' <<<"$manifest"); do
      # combined log format: ... "GET /v2/... HTTP/1.1" STATUS BYTES ...
      n=$(grep -aF "GET /v2/names/$tag/blobs/$d " "$work/registry.log" | grep -aF '"rootgate/' |
          awk '{for (i = 1; i <= NF; i++) if ($i ~ /^HTTP\//) { sum += $(i + 2); break }} END { print sum + 0 }')
      read_bytes=$((read_bytes + n))
    done
    awk -v t="$tag" -v l="$layers" -v r="$read_bytes" -v all="$total" -v m="$mib" \
      'BEGIN { printf "named user, %s (%s): %.1f MiB of %.1f MiB layers read per resolving lookup\n", t, l, r / 5 / m, all / m }'
  done
  echo "$figures"
  expect_contains "bench: resolved" "$figures" "shape-useradd:1: "
fi

echo "registry names tests: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
