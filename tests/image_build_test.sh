#!/usr/bin/env bash
# Builds the Dockerfile with buildah (chroot isolation, vfs storage) on a Debian 12 base made
# locally with debootstrap (no base-image registry is reachable from CI machines), then checks
# the image: config User 65532:65532 and ENTRYPOINT ["/rootgate","serve"]; `rootgate version`
# runs as that user, also on a read-only bind of the image's root filesystem; no shell and no
# package manager inside. Prints the image size, pushes the image to a loopback docker-registry
# and checks the pushed config with skopeo.
#
# Slow (minutes; the first run also debootstraps the base, about 3 minutes more). Exit 0: all
# checks passed; 1: a check failed; 77: skipped because this machine cannot do chroot builds
# (not root, no mount namespaces, or the tools cannot be installed) -- never a silent pass.
#
# usage: tests/image_build_test.sh   (the image builds its own binary from this checkout)
# env:   ROOTGATE_CACHE_DIR  where the base rootfs tarball and image storage live (default .cache)
#        DEBIAN_MIRROR       debootstrap mirror (default http://deb.debian.org/debian)
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
cd "$root"

skip() { echo "SKIP: $*" >&2; exit 77; }
die() { echo "FAIL: $*" >&2; exit 1; }
fails=0; passes=0
pass() { passes=$((passes + 1)); }
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
expect_eq() { if [ "$2" == "$3" ]; then pass; else fail "$1: got [$2], want [$3]"; fi; }
t0=$SECONDS
step() { echo "== [$((SECONDS - t0))s] $*"; }

# --- can this machine build at all? ------------------------------------------------------
[ "$(id -u)" -eq 0 ] || skip "needs root for buildah --isolation chroot with vfs storage (uid $(id -u))"
unshare --mount --pid --fork true 2>/dev/null ||
  skip "cannot create mount/pid namespaces here (unprivileged container?); chroot builds impossible"

tools=(buildah debootstrap docker-registry skopeo curl jq)
packages=(buildah debootstrap docker-registry skopeo curl jq)
missing=()
for i in "${!tools[@]}"; do command -v "${tools[$i]}" >/dev/null || missing+=("${packages[$i]}"); done
if [ ${#missing[@]} -gt 0 ]; then
  step "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
    skip "could not install ${missing[*]} with apt-get"
fi

cache="${ROOTGATE_CACHE_DIR:-$root/.cache}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
exec 9>"$cache/image-test.lock"
flock -w 1800 9 || die "another image test holds $cache/image-test.lock"

work="$(mktemp -d)"
registry_pid=""
serve_pid=""
containers=()
bah() { buildah --root "$cache/containers/storage" --runroot "$cache/containers/run" \
                --storage-driver vfs "$@"; }
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null
  for c in "${containers[@]}"; do bah umount "$c" >/dev/null 2>&1; bah rm "$c" >/dev/null 2>&1; done
  bah rmi -f localhost/rootgate:image-test >/dev/null 2>&1
  bah rmi --prune >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# --- the Debian 12 base, made once and cached --------------------------------------------
base_tar="$cache/debian-12-minbase.tar"
base_image=localhost/debian-base:12
if [ ! -s "$base_tar" ]; then
  step "debootstrap bookworm (minbase) into $base_tar (cached for later runs)"
  rootfs="$cache/debootstrap.tmp"
  rm -rf "$rootfs"
  debootstrap --variant=minbase bookworm "$rootfs" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
    >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  tar -C "$rootfs" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' \
    -cf "$base_tar.tmp" . || die "tar of the rootfs failed"
  mv "$base_tar.tmp" "$base_tar"
  rm -rf "$rootfs"
fi
if ! bah inspect --type image "$base_image" >/dev/null 2>&1; then
  step "importing $base_tar as $base_image"
  c="$(bah from scratch)" || die "buildah from scratch failed"
  containers+=("$c")
  bah add "$c" "$base_tar" / || die "buildah add of the base tarball failed"
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/bash --os linux --arch amd64 "$c" || die "buildah config failed"
  bah commit --quiet --rm "$c" "$base_image" >/dev/null || die "buildah commit of the base failed"
  containers=()
fi

# --- build -------------------------------------------------------------------------------
image=localhost/rootgate:image-test
step "buildah bud (chroot isolation, vfs) -> $image"
build_start=$SECONDS
if ! bah bud --isolation chroot --build-arg BUILD_IMAGE="$base_image" --pull=never \
       -f Dockerfile -t "$image" . >"$work/build.log" 2>&1; then
  tail -40 "$work/build.log" >&2
  die "image build failed (full log above, last 40 lines)"
fi
echo "build took $((SECONDS - build_start))s"

# --- the image config ----------------------------------------------------------------------
user="$(bah inspect --type image --format '{{.OCIv1.Config.User}}' "$image")"
expect_eq "image User" "$user" "65532:65532"
expect_eq "image Entrypoint" "$(bah inspect --type image --format '{{.OCIv1.Config.Entrypoint}}' "$image")" \
  '[/rootgate serve]'
echo "image size (uncompressed, buildah images): $(bah images --noheading --format '{{.Size}}' "$image")"

# --- run it as the image's user ------------------------------------------------------------
want_version="$(sed -n 's/^project(rootgate VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
c="$(bah from --pull=never "$image")" || die "buildah from $image failed"
containers+=("$c")
mnt="$(bah mount "$c")" || die "buildah mount failed"
for f in bin/sh bin/bash usr/bin/apt-get usr/bin/dpkg var/lib/dpkg; do
  if [ -e "$mnt/$f" ]; then fail "/$f exists in the image"; else pass; fi
done
[ -s "$mnt/etc/ssl/certs/ca-certificates.crt" ] && pass || fail "no CA bundle in the image"
echo "image files:"; (cd "$mnt" && find . ! -type d | sort | sed 's/^/  /')
# Read-only root filesystem: bind the image's rootfs read-only and run the binary in it as 65532.
ro="$work/ro"; mkdir -p "$ro"
out="$(unshare --mount sh -c "mount --bind '$mnt' '$ro' && mount -o remount,bind,ro '$ro' &&
        chroot --userspec=65532:65532 '$ro' /rootgate version" 2>&1)"
expect_eq "rootgate version on a read-only root" "$out" "rootgate $want_version"
# And serve as the chart runs it: read-only root, UID 65532, certificates and a writable /tmp
# mounted in, no /proc. Answers /readyz over verified TLS, denies a recorded root Pod, and exits
# 0 on SIGTERM.
if chroot --userspec=65532:65532 "$mnt" /rootgate serve --help >/dev/null 2>&1; then
  deploy/gen-certs.sh --out "$work/certs" --namespace image-test >/dev/null 2>&1 || die "gen-certs.sh failed"
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  unshare --mount sh -c "mount --bind '$mnt' '$ro' && mount -o remount,bind,ro '$ro' &&
      mount -t tmpfs -o size=16m,mode=1777 tmpfs '$ro/tmp' && mkdir '$ro/tmp/tls' &&
      cp '$work/certs/pki/tls.crt' '$work/certs/pki/tls.key' '$ro/tmp/tls/' &&
      chown -R 65532:65532 '$ro/tmp/tls' &&
      exec chroot --userspec=65532:65532 '$ro' /rootgate serve --listen 127.0.0.1:$port \
        --tls-cert /tmp/tls/tls.crt --tls-key /tmp/tls/tls.key --log-format json" \
    >"$work/serve.log" 2>&1 &
  serve_pid=$!
  url="https://rootgate.image-test.svc:$port"
  curl_tls() { curl -sS --cacert "$work/certs/pki/ca.crt" --resolve "rootgate.image-test.svc:$port:127.0.0.1" "$@"; }
  ready=""
  for _ in $(seq 100); do
    if [ "$(curl_tls -o /dev/null -w '%{http_code}' "$url/readyz" 2>/dev/null)" = 200 ]; then ready=1; break; fi
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -n "$ready" ]; then pass; else fail "serve in the image never became ready: $(cat "$work/serve.log")"; fi
  reply="$(jq -c .body tests/fixtures/admission/003-pod-create-no-securitycontext.json |
           curl_tls -H 'Content-Type: application/json' --data-binary @- "$url/validate?timeout=10s")"
  expect_eq "serve in the image denies a Pod with no user" \
    "$(jq -c '[.response.allowed, .response.status.code]' <<<"$reply" 2>&1)" "[false,403]"
  kill -TERM "$serve_pid"
  wait "$serve_pid"
  expect_eq "serve in the image exits 0 on SIGTERM" "$?" 0
  serve_pid=""
else
  fail "the image's rootgate has no serve verb"
fi
bah umount "$c" >/dev/null
# The way a runtime runs it: buildah run (chroot isolation) as the image's user.
out="$(bah run --isolation chroot --user "$user" "$c" -- /rootgate version 2>&1)"
expect_eq "rootgate version as $user" "$out" "rootgate $want_version"
id_out="$(bah run --isolation chroot --user "$user" "$c" -- /bin/sh -c true 2>&1)" &&
  fail "a shell ran inside the image: $id_out" || pass


# --- push to a loopback registry -----------------------------------------------------------
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
mkdir -p "$work/registry"
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
EOF
step "docker-registry on 127.0.0.1:$port"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do
  curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null || { cat "$work/registry.log" >&2; die "registry did not start"; }
ref="127.0.0.1:$port/rootgate:$want_version"
bah push --quiet --tls-verify=false "$image" "docker://$ref" >"$work/push.log" 2>&1 ||
  { cat "$work/push.log" >&2; die "buildah push failed"; }
config="$(skopeo inspect --config --tls-verify=false "docker://$ref")" || die "skopeo inspect --config failed"
expect_eq "pushed config User" "$(jq -r .config.User <<<"$config")" "65532:65532"
expect_eq "pushed config Entrypoint" "$(jq -c .config.Entrypoint <<<"$config")" '["/rootgate","serve"]'
manifest="$(skopeo inspect --raw --tls-verify=false "docker://$ref")" || die "skopeo inspect --raw failed"
compressed="$(jq '[.layers[].size] | add' <<<"$manifest")"
echo "image size (compressed, pushed layers): $compressed bytes ($(numfmt --to=iec "$compressed"))"
[ "$compressed" -gt 0 ] && pass || fail "pushed image has no layer bytes"

echo "image_build_test: $passes passed, $fails failed, $((SECONDS - t0))s"
[ "$fails" -eq 0 ]
