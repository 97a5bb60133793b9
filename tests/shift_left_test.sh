#!/usr/bin/env bash
# Issue 6 through the real binary: Dockerfiles and image configs in `rootgate check`, the
# `rootgate test` suites shipped in examples/suites (and failing/bad ones), JUnit and SARIF
# output (SARIF validated against the SARIF 2.1.0 schema when tests/sarif has its node modules,
# else against the required fields), and the per-namespace table of a cluster audit. Expected
# values come from SEMANTICS.md and the issue, not from the program's output.
# usage: tests/shift_left_test.sh path/to/rootgate
source "$(dirname "$0")/cli_lib.sh"

verdicts() { # JSON report on stdin → "kind name verdict rules" per result
  jq -r '.results[] | "\(.source | split("/") | last) \(if .skipped then "skip" elif .allowed then "allow" else "deny" end) \([.violations[].rule] | unique | join(","))"'
}

# --- Dockerfiles: found by name in directories, verdicts, lines --------------------------
run "$bin" check -o json examples/dockerfiles
expect_eq "dockerfiles exit" "$code" 1
expect_eq "dockerfile verdicts" "$(verdicts <<<"$out")" "build-arg-user.Dockerfile allow 
Dockerfile deny rootUser
external-base-no-user.Dockerfile deny unknownUser
heredoc.Dockerfile allow 
inherited-user.Dockerfile allow 
multi-stage-nonroot.Dockerfile allow 
named-user.Dockerfile allow 
root-user.Dockerfile deny rootUser
scratch-no-user.Dockerfile deny rootUser
user-only-in-build-stage.Dockerfile deny rootUser
useradd-uid0.Dockerfile deny rootUser"
expect_eq "USER root line" "$(jq -r '.results[] | select(.source|endswith("root-user.Dockerfile")) | .violations[0].line' <<<"$out")" 6
expect_eq "earlier-stage message" "$(jq -r '.results[] | select(.source|endswith("user-only-in-build-stage.Dockerfile")) | .violations[0].message | test("set only in stage \"build\"")' <<<"$out")" true
expect_eq "named user created by adduser: no warning" "$(jq -r '.results[] | select(.source|endswith("named-user.Dockerfile")) | [.warnings[].rule] | join(",")' <<<"$out")" ""
expect_contains "useradd -o -u 0 names the RUN" "$(jq -r '.results[] | select(.source|endswith("useradd-uid0.Dockerfile")) | .violations[0].message' <<<"$out")" "created by RUN useradd -o -u 0 -s /bin/sh toor at line 4"

run "$bin" check --build-arg APP_UID=0 examples/dockerfiles/build-arg-user.Dockerfile
expect_eq "--build-arg makes root" "$code" 1
expect_contains "--build-arg finding" "$out" "[rootUser] line 9, USER"
run "$bin" check --target build examples/dockerfiles/multi-stage-nonroot.Dockerfile
expect_eq "--target checks the build stage (golang: user unknown offline)" "$code" 1
printf 'FROM alpine\nUSER 10001\n' >"$work/app.txt"
run bash -c "'$bin' check --type dockerfile - <'$work/app.txt'"
expect_eq "--type dockerfile on stdin" "$code" 0
run "$bin" check "$work/app.txt"
expect_eq "other names are not Dockerfiles" "$code" 2

cat >"$work/Containerfile" <<'EOF'
FROM scratch AS base
FROOM typo
RUN <<EOF2
USER 0
EOF2
USER ${UID:-0}
EOF
run "$bin" check "$work/Containerfile" examples/dockerfiles/multi-stage-nonroot.Dockerfile
expect_eq "parse error exit" "$code" 2
expect_contains "parse error names line" "$err" "Containerfile: line 2: unknown instruction: FROOM"
expect_contains "rest of the file checked" "$out" "[rootUser] line 6, USER"
expect_contains "other files checked" "$out" "ALLOW Dockerfile final"

# Dogfood: rootgate's own image must not run as root (its final stage sets USER 65532:65532).
if [ -f Dockerfile ]; then
  run "$bin" check -o json Dockerfile
  expect_eq "own Dockerfile allowed" "$(jq -r '.results[0].allowed' <<<"$out")" true
fi

# --- Image configs and --image ------------------------------------------------------------
run "$bin" check -o json examples/image-configs
expect_eq "image configs" "$(jq -r '[.results[] | "\(.name):\(.allowed)"] | join(" ")' <<<"$out")" ":true nginx:1.25:false example/app:2.0:false"
printf '[{"Id":"sha256:1","RepoTags":["x:1"],"Config":{"User":"0:0"}}]' | run "$bin" check -
expect_eq "docker inspect on stdin" "$code" 1
expect_contains "docker inspect finding" "$out" "Config.User is \"0:0\""
# --image and Dockerfile bases read from a registry: tests/registry_fake.py serves one image
# whose config User is given; loopback and plain HTTP must be allowed by name.
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$work"' EXIT
start_fake() { # user: sets reg (host:port) of a fake registry serving that config User
  python3 "$here/registry_fake.py" ok --user "$1" >"$work/fake.port" 2>/dev/null & pids+=($!)
  for _ in $(seq 50); do [ -s "$work/fake.port" ] && break; sleep 0.1; done
  reg="127.0.0.1:$(head -1 "$work/fake.port")"; : >"$work/fake.port"
}
start_fake 0; root_reg=$reg
start_fake 10001; nonroot_reg=$reg
reg_flags=(--allow-registry "$root_reg" --insecure-registry "$root_reg" --allow-registry "$nonroot_reg" --insecure-registry "$nonroot_reg")
run "$bin" check -o json "${reg_flags[@]}" --image "$root_reg/team/app:1" --image "$nonroot_reg/team/app:1"
expect_eq "--image exit" "$code" 1
expect_eq "--image verdicts" "$(jq -r '[.results[] | "\(.kind):\(.allowed):\([.violations[].rule] | join(","))"] | join(" ")' <<<"$out")" "Image:false:rootUser Image:true:"
run "$bin" check --offline --image "$root_reg/team/app:1"
expect_eq "--image --offline is unknown" "$code" 1
expect_contains "--image --offline says why" "$out" "registry lookups are off"
printf 'FROM %s/team/app:1 AS base\nFROM base\nRUN true\n' "$root_reg" >"$work/root-base.Dockerfile"
printf 'FROM %s/team/app:1\n' "$nonroot_reg" >"$work/nonroot-base.Dockerfile"
run "$bin" check -o json --resolve-images "${reg_flags[@]}" "$work/root-base.Dockerfile" "$work/nonroot-base.Dockerfile"
expect_eq "Dockerfile bases looked up" "$(jq -r '[.results[] | "\(.allowed):\([.violations[].rule] | join(","))"] | join(" ")' <<<"$out")" "false:rootUser true:"
expect_eq "root base finding at the final FROM" "$(jq -r '.results[0].violations[0].line' <<<"$out")" 2

# --- rootgate test ----------------------------------------------------------------------
run "$bin" test examples/suites/*.yaml
expect_eq "example suites pass" "$code" 0
expect_contains "example suites summary" "$out" "0 failed"
if grep -q "FAIL" <<<"$out"; then fail "a shipped suite case fails: $out"; else pass; fi
cat >"$work/wrong.yaml" <<EOF
resources: [$root/examples/manifests]
cases:
  - {kind: StatefulSet, name: db, expect: allow}
  - {kind: Pod, name: web, expect: deny, rules: [unknownUser]}
  - {kind: Pod, expect: deny}
EOF
run "$bin" test "$work/wrong.yaml"
expect_eq "failing suite exit" "$code" 1
expect_contains "failing case" "$out" "FAIL  StatefulSet db: expected allow, got deny [rootUser]"
expect_contains "passing case" "$out" "PASS  Pod web: deny [unknownUser]"
expect_contains "ambiguous case" "$out" "2 results match"
expect_contains "summary" "$out" "3 cases: 1 passed, 2 failed"
printf 'resources: [x]\ncases:\n  - {kind: Pod, expect: sometimes}\n' >"$work/bad.yaml"
run "$bin" test "$work/bad.yaml"
expect_eq "bad suite exit" "$code" 2
expect_contains "bad suite line" "$err" "bad.yaml: line 3: cases[0].expect"
printf 'resources: [nope.yaml]\ncases: [{kind: Pod, expect: allow}]\n' >"$work/missing.yaml"
run "$bin" test "$work/missing.yaml"
expect_eq "missing resource exit" "$code" 2
expect_contains "missing resource named" "$err" "nope.yaml"

# --- JUnit --------------------------------------------------------------------------------
cat >"$work/esc.yaml" <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: "a&b<c>\"d'", namespace: t}
spec:
  containers: [{name: "x<&>", image: busybox, securityContext: {runAsUser: 0}}]
EOF
run "$bin" check -o junit examples/manifests "$work/esc.yaml"
expect_eq "junit exit follows verdicts" "$code" 1
printf '%s' "$out" >"$work/junit.xml"
junit="$(python3 - "$work/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = root.findall("./testsuite/testcase")
print(root.tag, root.get("tests"), root.get("failures"), root.get("skipped"), len(cases))
print(sum(1 for c in cases if c.find("failure") is not None), sum(1 for c in cases if c.find("skipped") is not None))
esc = [c for c in cases if c.get("name", "").startswith("Pod t/")][0]
print(esc.get("name"))
print(esc.find("failure").get("type"))
PY
)"
expect_eq "junit parses; counts" "$junit" "testsuites 9 5 1 9
5 1
Pod t/a&b<c>\"d'
rootUser"

# --- SARIF --------------------------------------------------------------------------------
run "$bin" check -o sarif examples/manifests examples/dockerfiles examples/image-configs "$work/esc.yaml"
printf '%s' "$out" >"$work/out.sarif"
expect_eq "sarif version" "$(jq -r '.version' "$work/out.sarif")" "2.1.0"
expect_eq "sarif rules are the rule IDs" "$(jq -r '[.runs[0].tool.driver.rules[].id] | join(",")' "$work/out.sarif")" \
  "rootUser,unknownUser,runAsNonRoot,runAsUser,privileged,allowPrivilegeEscalation,rootGroup,uidRange"
expect_eq "every rule has help" "$(jq '[.runs[0].tool.driver.rules[] | select((.help.text | length) > 0)] | length' "$work/out.sarif")" 8
expect_eq "every result located" "$(jq '(.runs[0].results | length) as $n | [.runs[0].results[] | select(.locations[0].physicalLocation.artifactLocation.uri and .locations[0].physicalLocation.region.startLine > 0)] | length == $n' "$work/out.sarif")" true
expect_eq "ruleIndex matches ruleId" "$(jq '[.runs[0] as $r | $r.results[] | select($r.tool.driver.rules[.ruleIndex].id != .ruleId)] | length' "$work/out.sarif")" 0
expect_eq "statefulset runAsUser line" "$(jq -r '.runs[0].results[] | select(.locations[0].physicalLocation.artifactLocation.uri | endswith("03-statefulset-runasuser-0.yaml")) | .locations[0].physicalLocation.region.startLine' "$work/out.sarif")" 26
expect_eq "list item line" "$(jq -r '.runs[0].results[] | select(.locations[0].physicalLocation.artifactLocation.uri | endswith("06-list.json")) | .locations[0].physicalLocation.region.startLine' "$work/out.sarif")" 14
expect_eq "dockerfile USER line" "$(jq -r '.runs[0].results[] | select(.locations[0].physicalLocation.artifactLocation.uri | endswith("root-user.Dockerfile")) | .locations[0].physicalLocation.region.startLine' "$work/out.sarif")" 6
# A warning-level result: a name the Dockerfile does not create, under namedUsers: assume.
printf 'FROM alpine:3.20\nUSER ghost\n' >"$work/ghost.Dockerfile"
printf 'namedUsers: assume\n' >"$work/assume.yaml"
run "$bin" check -o sarif --policy "$work/assume.yaml" "$work/ghost.Dockerfile"
expect_eq "warning level" "$(jq -r '.runs[0].results[] | select(.locations[0].physicalLocation.artifactLocation.uri | endswith("ghost.Dockerfile")) | .level' <<<"$out")" warning
expect_eq "absolute path is a file URI" "$(jq -r '[.runs[0].results[].locations[0].physicalLocation.artifactLocation.uri | select(startswith("file:///"))] | length' "$work/out.sarif")" 1
if [ -d "$here/sarif/node_modules/ajv" ] && command -v node >/dev/null; then
  if node "$here/sarif/validate.js" "$work/out.sarif"; then pass; else fail "SARIF schema validation"; fi
  echo '{"version":"2.1.0","runs":[{"tool":{"driver":{}}}]}' >"$work/invalid.sarif"
  if node "$here/sarif/validate.js" "$work/invalid.sarif" 2>/dev/null; then fail "validator accepts an invalid log"; else pass; fi
else
  echo "note: SARIF schema validation skipped (run npm ci in tests/sarif); required fields checked only" >&2
  expect_eq "sarif required fields" "$(jq '(.runs | type) == "array" and all(.runs[]; .tool.driver.name == "rootgate" and all(.results[]; (.message.text | type) == "string"))' "$work/out.sarif")" true
fi

# --- Cluster audit: per-namespace table ---------------------------------------------------
run "$bin" check examples/manifests
expect_contains "namespace table header" "$out" "namespace   checked  allowed  denied  skipped  violations"
expect_contains "namespace demo row" "$out" "demo              6        3       3        1  rootUser 2, unknownUser 1"
expect_contains "namespace monitoring row" "$out" "monitoring        1        0       1        0  privileged 1"
run "$bin" check examples/manifests/02-deployment-nonroot.yaml examples/manifests/05-cronjob-runasnonroot.yaml
if grep -q "^namespace " <<<"$out"; then fail "table shown for one namespace"; else pass; fi

echo "shift-left tests: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
