#!/usr/bin/env bash
# Runs the real rootgate binary: `check` exit codes, JSON shape and bad inputs; `review` on every
# recorded fixture; policy errors. Expected verdicts come from SEMANTICS.md, not from output.
# usage: tests/cli_test.sh path/to/rootgate
source "$(dirname "$0")/cli_lib.sh"

# --- check on the shipped examples -------------------------------------------------------
run "$bin" check -o json examples/manifests
expect_eq "examples exit" "$code" 1
expect_eq "summary" "$(jq -c .summary <<<"$out")" '{"allowed":3,"checked":7,"denied":4,"errors":0,"skipped":1}'
verdicts="$(jq -r '.results[] | "\(.kind) \(.namespace)/\(.name) \(if .skipped then "skip" elif .allowed then "allow" else "deny" end) \([.violations[].rule] | unique | join(","))"' <<<"$out")"
expect_eq "example verdicts" "$verdicts" "Pod demo/web deny unknownUser
Deployment demo/api allow 
Service demo/db skip 
StatefulSet demo/db deny rootUser
DaemonSet monitoring/node-agent deny privileged
CronJob demo/report allow 
Pod demo/debug deny rootUser
Job demo/migrate allow "
expect_eq "violation field" "$(jq -r '.results[] | select(.kind=="StatefulSet") | .violations[0].field' <<<"$out")" \
  "spec.template.spec.securityContext.runAsUser"
expect_eq "violation container" "$(jq -r '.results[] | select(.kind=="DaemonSet") | .violations[0].container' <<<"$out")" "agent"
expect_eq "list item index" "$(jq -r '[.results[] | select(.source|endswith("06-list.json")) | .item] | join(",")' <<<"$out")" "0,1"

run "$bin" check examples/manifests/02-deployment-nonroot.yaml
expect_eq "allowed exit" "$code" 0
expect_contains "text allow line" "$out" "ALLOW Deployment demo/api"
if grep -q $'\033' <<<"$out"; then fail "colour codes when stdout is not a terminal"; else pass; fi

run "$bin" check examples/manifests/03-statefulset-runasuser-0.yaml
expect_contains "text deny line" "$out" "DENY  StatefulSet demo/db"
expect_contains "text violation line" "$out" "[rootUser] container postgres, spec.template.spec.securityContext.runAsUser"
expect_contains "text fix" "$out" "set runAsUser to a non-zero UID"

# --- stdin, presets ----------------------------------------------------------------------
run bash -c "cat examples/manifests/05-cronjob-runasnonroot.yaml | '$bin' check -o json -"
expect_eq "stdin exit" "$code" 0
expect_eq "stdin source" "$(jq -r '.results[0].source' <<<"$out")" "-"
run "$bin" check --preset pss-restricted -o json examples/manifests/02-deployment-nonroot.yaml
expect_eq "pss-restricted allows nonroot deployment" "$code" 0
run "$bin" check --preset pss-restricted -o json examples/manifests/01-pod-image-default-user.yaml
expect_eq "pss-restricted denies pod without runAsNonRoot" "$(jq -r '.results[0].violations[0].rule' <<<"$out")" "runAsNonRoot"
run "$bin" check --preset nope examples/manifests
expect_eq "unknown preset exit" "$code" 2
expect_contains "unknown preset msg" "$err" 'unknown preset "nope"'

# --- bad input: the bad document is reported, the others still checked ------------------
cat >"$work/mixed.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: ok, namespace: t}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000}
  containers: [{name: a, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: broken
spec: [
---
metadata: {name: nokind}
---
apiVersion: v1
kind: Pod
metadata: {name: root, namespace: t}
spec:
  containers: [{name: a, image: busybox, securityContext: {runAsUser: 0}}]
YAML
run "$bin" check -o json "$work/mixed.yaml"
expect_eq "bad input exit" "$code" 2
expect_eq "good documents still checked" "$(jq -r '[.results[] | "\(.document):\(.name):\(.allowed)"] | join(" ")' <<<"$out")" "0:ok:true 3:root:false"
expect_contains "stderr names file and document 1" "$err" "mixed.yaml: document 1"
expect_contains "stderr names file and document 2" "$err" "mixed.yaml: document 2"
expect_contains "no kind message" "$err" "document has no kind"

run "$bin" check "$work/does-not-exist.yaml" examples/manifests/02-deployment-nonroot.yaml
expect_eq "unreadable file exit" "$code" 2
expect_contains "unreadable file named" "$err" "does-not-exist.yaml"
expect_contains "other file still checked" "$out" "ALLOW Deployment demo/api"

printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: t}\nspec:\n  containers:\n  - name: a\n    image: x\n    securityContext: {runAsUser: "0"}\n' >"$work/typed.yaml"
run "$bin" check "$work/typed.yaml"
expect_eq "wrong type exit" "$code" 2
expect_contains "wrong type names field" "$err" "spec.containers[0].securityContext.runAsUser: expected an integer"

run "$bin" check
expect_eq "no input exit" "$code" 2
run "$bin" check --bogus x
expect_eq "unknown flag exit" "$code" 2

# --- policies ----------------------------------------------------------------------------
run "$bin" check --policy examples/policies/annotated.yaml -o json examples/manifests
expect_eq "annotated policy loads" "$(jq -r '.summary.errors' <<<"$out")" "0"
printf 'mode: enforce\nrules:\n  rootUsr: deny\n' >"$work/badrule.yaml"
run "$bin" check --policy "$work/badrule.yaml" examples/manifests
expect_eq "bad rule exit" "$code" 2
expect_contains "bad rule line and field" "$err" "line 3: rules.rootUsr: unknown rule ID"
printf 'mode: enforce\nexemptions:\n  namespace: [a]\n' >"$work/badfield.yaml"
run "$bin" check --policy "$work/badfield.yaml" examples/manifests
expect_contains "unknown field line" "$err" "line 3: exemptions.namespace: unknown field"
printf 'mode: [enforce]\n' >"$work/badtype.yaml"
run "$bin" check --policy "$work/badtype.yaml" examples/manifests
expect_contains "wrong type line" "$err" "line 1: mode: expected a string"
printf 'mode: enforce\n  preset: x\n' >"$work/badyaml.yaml"
run "$bin" check --policy "$work/badyaml.yaml" examples/manifests
expect_eq "bad yaml exit" "$code" 2
expect_contains "bad yaml line" "$err" "line 2"
printf 'mode: warn\n' >"$work/warn.yaml"
run "$bin" check --policy "$work/warn.yaml" -o json examples/manifests
expect_eq "warn mode allows" "$code" 0
expect_eq "warn mode warns" "$(jq -r '[.results[] | select(.name=="db" and .kind=="StatefulSet") | .warnings[].rule] | join(",")' <<<"$out")" "rootUser"

# --- review on every recorded fixture (verdicts from SEMANTICS.md, default preset) --------
declare -A want=(
  [000]=false [001]=false [002]=false [003]=false [004]=true [005]=true [006]=false [007]=false
  [008]=true [009]=true [010]=true [011]=false [012]=false [013]=false [014]=true [015]=true)
for f in tests/fixtures/admission/*.json; do
  n="$(basename "$f" | cut -c1-3)"
  jq .body "$f" >"$work/review.json"
  run "$bin" review "$work/review.json"
  expect_eq "review $n exit" "$code" 0
  expect_eq "review $n allowed" "$(jq -r .response.allowed <<<"$out")" "${want[$n]}"
  expect_eq "review $n uid" "$(jq -r .response.uid <<<"$out")" "$(jq -r .body.request.uid "$f")"
  expect_eq "review $n apiVersion" "$(jq -r .apiVersion <<<"$out")" "$(jq -r .body.apiVersion "$f")"
done
jq .body tests/fixtures/admission/011-daemonset-create-privileged-uid0.json | run "$bin" review -
expect_eq "review stdin status code" "$(jq -r .response.status.code <<<"$out")" "403"
printf '{"kind":"Pod"}' | run "$bin" review -
expect_eq "review non-review exit" "$code" 2
expect_contains "review non-review msg" "$err" "body.kind"
printf '{"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{}}' | run "$bin" review -
expect_eq "review without uid exit" "$code" 2
expect_contains "review without uid msg" "$err" "request.uid"
printf 'mode: audit\n' >"$work/audit.yaml"
jq .body tests/fixtures/admission/003-pod-create-no-securitycontext.json | run "$bin" review --policy "$work/audit.yaml" -
expect_eq "audit mode allowed" "$(jq -r .response.allowed <<<"$out")" "true"
expect_eq "audit annotation key" "$(jq -r '.response.auditAnnotations | keys | join(",")' <<<"$out")" "unknownUser"
printf 'mode: warn\n' >"$work/warn.yaml"
jq .body tests/fixtures/admission/011-daemonset-create-privileged-uid0.json | run "$bin" review --policy "$work/warn.yaml" -
expect_eq "warn mode warnings" "$(jq -r '.response.warnings | length' <<<"$out")" "2"

# A `kind: List` over 16 MiB is read item by item (server/cli/check_stream.h); the same verdicts and
# counts as the generator's (every 5th pod root, every 5th+1 privileged), from a file and stdin.
python3 - "$work/big-list.json" <<'PY'
import json, sys
items = []
for i in range(6000):
    ctx = {"runAsUser": 0} if i % 5 == 0 else {"runAsUser": 1000, "privileged": i % 5 == 1}
    items.append({"apiVersion": "v1", "kind": "Pod",
                  "metadata": {"name": f"p{i}", "namespace": f"ns{i % 3}", "labels": {"pad": "x" * 3000}},
                  "spec": {"containers": [{"name": "app", "image": "registry.test/app:1", "securityContext": ctx}]}})
json.dump({"apiVersion": "v1", "kind": "List", "metadata": {}, "items": items}, open(sys.argv[1], "w"))
PY
run "$bin" check -o json "$work/big-list.json"
expect_eq "streamed List: exit" "$code" 1
expect_eq "streamed List: summary" "$(jq -cS .summary <<<"$out")" '{"allowed":3600,"checked":6000,"denied":2400,"errors":0,"skipped":0}'
expect_eq "streamed List: item 5" "$(jq -c '.results[5] | [.item, .name, .allowed, .violations[0].rule]' <<<"$out")" '[5,"p5",false,"rootUser"]'
expect_eq "streamed List: item 6" "$(jq -c '.results[6] | [.item, .name, .allowed, .violations[0].rule]' <<<"$out")" '[6,"p6",false,"privileged"]'
run "$bin" check "$work/big-list.json"
expect_contains "streamed List, text: the namespace table" "$out" "ns1"
expect_contains "streamed List, text: the last line" "$out" "checked 6000: 3600 allowed, 2400 denied, 0 skipped"
out="$("$bin" check -o json - <"$work/big-list.json" | jq -cS .summary)"
expect_eq "streamed List from stdin" "$out" '{"allowed":3600,"checked":6000,"denied":2400,"errors":0,"skipped":0}'
truncate -s -100 "$work/big-list.json"
run "$bin" check -o json "$work/big-list.json"
expect_eq "truncated streamed List: exit 2" "$code" 2
expect_contains "truncated streamed List: the error" "$err" "big-list.json: JSON: "

run "$bin" version
expect_contains "version" "$out" "rootgate "

# --- --help, -h and `help VERB` on every verb: usage to stdout, exit 0 (as kubectl, helm) ---
run "$bin" --help
expect_eq "--help exit" "$code" 0
expect_contains "--help usage" "$out" "usage: rootgate <verb>"
top_usage="$out"
run "$bin" -h
expect_eq "-h = --help" "$out" "$top_usage"
run "$bin" help
expect_eq "help = --help" "$out" "$top_usage"
verbs="$(awk '/^  [a-z]/ {print $1}' <<<"$top_usage" | tr '\n' ' ')"
for want in serve check test review version completion help; do
  expect_contains "verb $want listed in --help" " $verbs" " $want "
done
for v in $verbs; do
  [ "$v" = help ] && continue
  run "$bin" "$v" --help
  expect_eq "$v --help exit" "$code" 0
  expect_contains "$v --help usage on stdout" "$out" "usage: rootgate $v"
  expect_eq "$v --help stderr" "$err" ""
  usage="$out"
  run "$bin" "$v" -h
  expect_eq "$v -h = --help" "$out|$code" "$usage|0"
  run "$bin" help "$v"
  expect_eq "help $v = $v --help" "$out|$code" "$usage|0"
done
run "$bin" check --bogus --help
expect_eq "--help wins over a bad flag" "$code" 0
run "$bin" help nope
expect_eq "help of an unknown verb exit" "$code" 2
expect_contains "help of an unknown verb msg" "$err" 'unknown verb "nope"'
run "$bin" version extra
expect_eq "version with an argument exit" "$code" 2

# --- completion: the bash script sourced and asked, the way bash asks (COMP_WORDS/COMP_CWORD) ---
run "$bin" completion bash
expect_eq "completion bash exit" "$code" 0
printf '%s\n' "$out" >"$work/rootgate.bash"
complete_bash() { # words of the command line, the last one being completed → the replies, sorted
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
           _rootgate; printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$work/rootgate.bash" rootgate "$@"
}
sorted() { tr ' ,' '\n\n' | grep -v '^$' | sort; }
expect_eq "bash: verbs" "$(complete_bash "")" "$(printf '%s\n' $verbs --help --version | sort)"
expect_eq "bash: a verb's prefix" "$(complete_bash ch)" "check"
expect_eq "bash: a flag's prefix" "$(complete_bash check --pre)" "--preset"
# The choices are those the binary names when given a wrong one.
run "$bin" check --preset nope examples/manifests
expect_eq "bash: --preset names" "$(complete_bash check --preset "")" "$(sed -n 's/.*(known: \(.*\)).*/\1/p' <<<"$err" | sorted)"
expect_eq "bash: --preset on serve" "$(complete_bash serve --preset pss-r)" "pss-restricted"
run "$bin" check -o nope examples/manifests
expect_eq "bash: -o formats" "$(complete_bash check -o "")" "$(sed -n 's/.*(known: \(.*\)).*/\1/p' <<<"$err" | head -1 | sorted)"
expect_eq "bash: --output formats" "$(complete_bash check --output j)" "$(printf 'json\njunit')"
run "$bin" check --type nope examples/manifests
expect_eq "bash: --type values" "$(complete_bash check --type "")" "$(sed -n 's/.*(known: \(.*\)).*/\1/p' <<<"$err" | head -1 | sorted)"
expect_eq "bash: --log-format" "$(complete_bash serve --log-format "")" "$(printf 'json\ntext')"
expect_eq "bash: --log-level" "$(complete_bash serve --log-level "")" "$(printf 'debug\nerror\ninfo\noff\nwarn')"
expect_eq "bash: shells" "$(complete_bash completion "")" "$(printf 'bash\nfish\nzsh')"
expect_eq "bash: help VERB" "$(complete_bash help re)" "review"
expect_eq "bash: files for check" "$(complete_bash check examples/manifests/03)" "examples/manifests/03-statefulset-runasuser-0.yaml"
expect_eq "bash: files for --policy" "$(complete_bash serve --policy examples/policies/ann)" "examples/policies/annotated.yaml"
expect_eq "bash: directories for --state-dir" "$(complete_bash serve --state-dir exa)" "examples"
expect_eq "bash: nothing offered for --listen" "$(complete_bash serve --listen "")" ""
expect_eq "bash: no files for serve" "$(complete_bash serve exa)" ""
# Every flag a verb's --help names is completed for that verb.
for v in $verbs; do
  [ "$v" = help ] && continue
  offered="$(complete_bash "$v" -)"
  for flag in $("$bin" "$v" --help | grep -oE '(^|[][ |(])--?[a-z][a-z-]*' | grep -oE -- '--?[a-z][a-z-]*' | sort -u); do
    expect_contains "bash: $v completes $flag" "$offered" "$flag"
  done
done
for shell in zsh fish; do
  run "$bin" completion "$shell"
  expect_eq "completion $shell exit" "$code" 0
  printf '%s\n' "$out" >"$work/rootgate.$shell"
  if command -v "$shell" >/dev/null; then
    "$shell" -n "$work/rootgate.$shell" && pass || fail "completion $shell: not valid $shell syntax"
  fi
done
if command -v fish >/dev/null; then  # fish answers for a command line itself: complete -C
  complete_fish() { fish -c 'source $argv[1]; complete -C $argv[2]' "$work/rootgate.fish" "rootgate $1" | cut -f1 | sort; }
  expect_eq "fish: verbs" "$(complete_fish "")" "$(printf '%s\n' $verbs | sort)"
  expect_eq "fish: --preset names" "$(complete_fish "check --preset ")" "$(complete_bash check --preset "")"
  expect_eq "fish: -o formats" "$(complete_fish "check -o ")" "$(complete_bash check -o "")"
  expect_eq "fish: a flag's prefix" "$(complete_fish "serve --log-f")" "--log-format"
  expect_eq "fish: files for check" "$(complete_fish "check examples/manifests/03")" "examples/manifests/03-statefulset-runasuser-0.yaml"
  expect_eq "fish: shells" "$(complete_fish "completion ")" "$(printf 'bash\nfish\nzsh')"
fi
run "$bin" completion tcsh
expect_eq "completion of an unknown shell exit" "$code" 2
expect_contains "completion of an unknown shell msg" "$err" 'unknown shell "tcsh" (known: bash, zsh, fish)'

echo "cli tests: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
