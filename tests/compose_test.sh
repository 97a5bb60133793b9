#!/usr/bin/env bash
# Issue 15 through the real binary: Compose files in `rootgate check` (detection by name and
# --type compose, the override file beside compose.yaml, -f merging, .env / --env-file /
# environment interpolation, extends, profiles, errors naming lines, every output format) and
# YAML merge keys in manifests and policies. With `registry` as $2: `image:` and build bases
# with --resolve-images against Debian's docker-registry on loopback (images made with umoci,
# pushed with skopeo, as tests/registry_test.sh does). Expected verdicts are written from
# SEMANTICS.md "Compose services" and the issue, never from the program's output.
# usage: tests/compose_test.sh path/to/rootgate [registry]
source "$(dirname "$0")/cli_lib.sh"

verdicts() { # JSON report on stdin → "name verdict rules" per ComposeService result, sorted
  jq -r '.results[] | select(.kind == "ComposeService") | "\(.name) \(if .skipped then "skip" elif .allowed then "allow" else "deny" end) \([.violations[].rule] | unique | join(","))"' | sort
}
finding() { # JSON report on stdin, service, jq path of the first violation's field
  jq -r --arg s "$1" ".results[] | select(.kind == \"ComposeService\" and .name == \$s) | .violations[0].$2"
}

if [ "${2:-}" != registry ]; then
# --- the shipped example: build, image, user, extends, profiles, .env, override -------------
run "$bin" check -o json examples/compose/compose.yaml
expect_eq "example exit" "$code" 1
expect_eq "example errors" "$err" ""
expect_eq "example verdicts" "$(verdicts <<<"$out")" "admin deny rootUser
api allow 
cache allow 
debug deny privileged
web deny unknownUser
worker deny rootUser"
expect_eq "kind and project" "$(jq -r '[.results[] | "\(.kind)/\(.namespace)"] | unique | join(",")' <<<"$out")" "ComposeService/shop"
expect_eq "worker field" "$(finding worker field <<<"$out")" "services.worker.build"
expect_eq "worker line (build:)" "$(finding worker line <<<"$out")" 17
expect_contains "worker names its Dockerfile line" "$(finding worker message <<<"$out")" "examples/compose/worker/Dockerfile"
expect_contains "worker names USER root's line" "$(finding worker message <<<"$out")" "USER root at line 6"
expect_eq "web line (image:)" "$(finding web line <<<"$out")" 19
expect_eq "admin line (user: root)" "$(finding admin line <<<"$out")" 26
expect_contains "admin userns_mode: host from the override file" "$(finding admin message <<<"$out")" "userns_mode: host turns off"
expect_eq "debug line (privileged:)" "$(finding debug line <<<"$out")" 30
expect_eq "debug profile" "$(jq -r '.results[] | select(.name == "debug") | .profiles | join(",")' <<<"$out")" debug
expect_eq "source" "$(jq -r '[.results[].source] | unique | join(",")' <<<"$out")" "examples/compose/compose.yaml"

# The directory: the Compose project once (the override file adds no result of its own) and
# the two Dockerfiles on their own.
run "$bin" check -o json examples/compose
expect_eq "directory errors" "$err" ""
expect_eq "directory: services" "$(jq '[.results[] | select(.kind == "ComposeService")] | length' <<<"$out")" 6
expect_eq "directory: Dockerfiles" "$(jq -r '[.results[] | select(.kind == "Dockerfile") | "\(.source | split("/") | .[-2]) \(.allowed)"] | sort | join(",")' <<<"$out")" "api true,worker false"

# Text, JUnit and SARIF name the service, its profile, the file and the line.
run "$bin" check examples/compose/compose.yaml
expect_contains "text: profile" "$out" "ComposeService shop/debug (profile debug)"
expect_contains "text: where (the service key)" "$out" "(examples/compose/compose.yaml:16)"
expect_contains "text: finding" "$out" "[rootUser] service worker, services.worker.build:"
run "$bin" check -o junit examples/compose/compose.yaml
expect_contains "junit: test case" "$out" "ComposeService shop/worker"
expect_contains "junit: line" "$out" "compose.yaml:17"
run "$bin" check -o sarif examples/compose/compose.yaml
expect_eq "sarif: worker location" "$(jq -r '.runs[0].results[] | select(.message.text | contains("service \"worker\"")) | .locations[0].physicalLocation | "\(.artifactLocation.uri) \(.region.startLine)"' <<<"$out")" "examples/compose/compose.yaml 17"
expect_eq "sarif: every result located" "$(jq '[.runs[0].results[] | select(.locations[0].physicalLocation.region.startLine > 0)] | length' <<<"$out")" 4
if [ -d "$here/sarif/node_modules/ajv" ] && command -v node >/dev/null; then
  printf '%s' "$out" >"$work/compose.sarif"  # SARIF 2.1.0 schema (tests/sarif, as shift_left)
  if node "$here/sarif/validate.js" "$work/compose.sarif"; then pass; else fail "SARIF schema validation"; fi
fi

# --- interpolation: the environment over .env; --env-file instead of .env --------------------
run env APP_UID=0 "$bin" check -o json examples/compose/compose.yaml
expect_eq "environment APP_UID=0" "$(verdicts <<<"$out" | grep '^api')" "api deny rootUser"
printf 'APP_UID=0\n' >"$work/root.env"
run "$bin" check -o json --env-file "$work/root.env" examples/compose/compose.yaml
expect_eq "--env-file APP_UID=0" "$(verdicts <<<"$out" | grep '^api')" "api deny rootUser"
run "$bin" check --env-file "$work/none.env" examples/compose/compose.yaml
expect_eq "--env-file missing exit" "$code" 2
expect_contains "--env-file missing message" "$err" "$work/none.env"

# --- -f a -f b: later files override; without the default override file -------------------
cat >"$work/prod.yaml" <<'YAML'
services:
  web:
    user: "101"
  cache:
    privileged: true
YAML
run "$bin" check -o json -f examples/compose/compose.yaml -f "$work/prod.yaml"
expect_eq "-f verdicts" "$(verdicts <<<"$out")" "admin deny rootUser
api allow 
cache deny privileged
debug deny privileged
web allow 
worker deny rootUser"
expect_eq "-f: cache finding in the later file" "$(jq -r '.results[] | select(.name == "cache") | "\(.source) \(.violations[0].line)"' <<<"$out")" "$work/prod.yaml 5"
expect_contains "-f: no override file, so no userns_mode: host" "$(finding admin message <<<"$out")" "userns-remap would map it"

# --- --type compose on another name; a name that is not Compose stays a manifest ---------------
printf 'services:\n  one:\n    image: x\n    user: "0"\n' >"$work/stack.yml"
run "$bin" check -o json "$work/stack.yml"
expect_eq "stack.yml as a manifest" "$code" 2
expect_contains "stack.yml: no kind" "$err" "document has no kind"
run "$bin" check -o json --type compose "$work/stack.yml"
expect_eq "--type compose verdict" "$(verdicts <<<"$out")" "one deny rootUser"
expect_eq "--type compose project from the directory" "$(jq -r '.results[0].namespace' <<<"$out")" "$(basename "$work" | tr 'A-Z' 'a-z' | tr -cd 'a-z0-9_-')"

# --- errors name the line; the other services are still checked ------------------------------
mkdir -p "$work/bad"
cat >"$work/bad/compose.yaml" <<'YAML'
services:
  typo:
    image: x
    usr: root
  good:
    image: x
    user: "1000"
  gone:
    build: ./missing
YAML
run "$bin" check -o json "$work/bad/compose.yaml"
expect_eq "bad exit" "$code" 2
expect_contains "unknown field line" "$err" "$work/bad/compose.yaml: line 4: services.typo.usr: unknown field"
expect_contains "missing Dockerfile" "$err" "line 9: services.gone.build: cannot read the Dockerfile $work/bad/missing/Dockerfile"
expect_eq "good still checked" "$(verdicts <<<"$out")" "good allow "

# --- merge keys in manifests (kubectl's go-yaml v2 order) and policies ------------------------
cat >"$work/deploy.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: demo}
spec:
  template:
    spec:
      containers:
        - &app
          name: app
          image: registry.example.com/app:1
          securityContext: {runAsUser: 1000}
        - <<: *app
          name: sidecar
          securityContext: {runAsUser: 0}
YAML
run "$bin" check -o json "$work/deploy.yaml"
expect_eq "manifest merge exit" "$code" 1
expect_eq "manifest merge: only the sidecar is root" "$(jq -r '[.results[0].violations[] | "\(.rule) \(.container)"] | join(",")' <<<"$out")" "rootUser sidecar"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  <<: [x]\n' >"$work/badmerge.yaml"
run "$bin" check "$work/badmerge.yaml"
expect_eq "bad merge exit" "$code" 2
expect_contains "bad merge line" "$err" "line 5: merge key (<<) needs a mapping or a list of mappings; item 0 is a scalar"
cat >"$work/policy.yaml" <<'YAML'
apiVersion: rootgate.io/v1alpha1
kind: Policy
preset: default
namespaceOverrides:
  - &quiet
    namespaces: [demo]
    mode: warn
  - <<: *quiet
    namespaces: [shop]
YAML
run "$bin" check -o json --policy "$work/policy.yaml" examples/compose/compose.yaml
expect_eq "policy merge: project shop warns" "$code" 0
expect_eq "policy merge: findings are warnings" "$(jq '[.results[].violations[]] | length' <<<"$out")" 0
else
# --- --resolve-images against a loopback registry ---------------------------------------------
"$root/scripts/deps.sh" docker-registry umoci skopeo jq curl python3 >&2 ||
  { echo "compose_test: cannot install docker-registry/umoci/skopeo; skipped" >&2; exit 77; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/data"
printf 'version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
  "$work/data" "$port" >"$work/registry.yml"
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -s -o /dev/null -m 1 "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
reg="127.0.0.1:$port"
oci="$work/oci"
umoci init --layout "$oci" >/dev/null
for image in nonroot:1001 noroot: ; do
  tag=${image%%:*}; user=${image#*:}
  umoci new --image "$oci:$tag" >/dev/null
  args=(--os linux --architecture amd64)
  [ -n "$user" ] && args+=(--config.user "$user")
  umoci config --image "$oci:$tag" "${args[@]}" >/dev/null
  skopeo copy -q "oci:$oci:$tag" "docker://$reg/team/$tag:1" --dest-tls-verify=false >/dev/null ||
    fail "push $tag"
done
mkdir -p "$work/p/base-root" "$work/p/base-nonroot"
printf 'FROM %s/team/noroot:1\nRUN true\n' "$reg" >"$work/p/base-root/Dockerfile"
printf 'FROM %s/team/nonroot:1\n' "$reg" >"$work/p/base-nonroot/Dockerfile"
cat >"$work/p/compose.yaml" <<YAML
services:
  good:
    image: $reg/team/nonroot:1
  bad:
    image: $reg/team/noroot:1
  built-bad:
    build: ./base-root
  built-good:
    build: ./base-nonroot
YAML
flags=(--resolve-images --allow-registry "$reg" --insecure-registry "$reg")
run "$bin" check -o json "${flags[@]}" "$work/p/compose.yaml"
expect_eq "registry exit" "$code" 1
expect_eq "registry errors" "$err" ""
expect_eq "registry verdicts" "$(verdicts <<<"$out")" "bad deny rootUser
built-bad deny rootUser
built-good allow 
good allow "
expect_contains "registry: the image's USER" "$(finding bad message <<<"$out")" "has no USER"
expect_contains "registry: the base image named" "$(finding built-bad message <<<"$out")" "$reg/team/noroot:1"
run "$bin" check -o json "$work/p/compose.yaml"
expect_eq "offline: unknown" "$(verdicts <<<"$out")" "bad deny unknownUser
built-bad deny unknownUser
built-good deny unknownUser
good deny unknownUser"
fi

echo "compose_test: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
