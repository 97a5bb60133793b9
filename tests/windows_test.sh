#!/usr/bin/env bash
# Windows through the real binary (issue 17): Pod Security Admission's own windowsHostProcess
# fixtures (tests/fixtures/psa, which PSA's baseline fails) and the pod of the issue, under every
# preset. Expected verdicts come from SEMANTICS.md and PSA's check_windowsHostProcess.
# usage: tests/windows_test.sh path/to/rootgate
source "$(dirname "$0")/cli_lib.sh"

rules() { jq -r '[.results[0].violations[].rule] | unique | join(",")' <<<"$out"; }
fields() { jq -r '[.results[0].violations[] | select(.rule=="privileged") | .field] | join(" ")' <<<"$out"; }

pod_field="spec.securityContext.windowsOptions.hostProcess"
containers_fields="spec.initContainers[0].securityContext.windowsOptions.hostProcess spec.containers[0].securityContext.windowsOptions.hostProcess"

# --- PSA's fixtures: privileged in pss-baseline, pss-restricted and default ----------------
for level in baseline restricted; do
  for n in 0 1; do
    f="tests/fixtures/psa/$level/windowshostprocess$n.yaml"
    want_fields="$pod_field"; [ "$n" = 1 ] && want_fields="$containers_fields"
    for preset in pss-baseline pss-restricted default; do
      run "$bin" check --preset "$preset" -o json "$f"
      expect_eq "$level/$n $preset exit" "$code" 1
      expect_eq "$level/$n $preset privileged fields" "$(fields)" "$want_fields"
    done
    run "$bin" check --preset pss-baseline -o json "$f"
    expect_eq "$level/$n pss-baseline rules" "$(rules)" "privileged"
    run "$bin" check --preset pss-restricted -o json "$f"
    # The baseline minimal pod sets no runAsNonRoot; the restricted one does.
    want="privileged"; [ "$level" = baseline ] && want="privileged,runAsNonRoot"
    expect_eq "$level/$n pss-restricted rules" "$(rules)" "$want"
  done
done

# --- the issue's pod: HostProcess as NT AUTHORITY\SYSTEM ----------------------------------
cat >"$work/hpc.yaml" <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      os: {name: windows}
      hostNetwork: true
      securityContext:
        windowsOptions: {hostProcess: true, runAsUserName: "NT AUTHORITY\\SYSTEM"}
      containers:
      - {name: agent, image: mcr.microsoft.com/windows/nanoserver:ltsc2022}
YAML
run "$bin" check -o json "$work/hpc.yaml"
expect_eq "issue pod default exit" "$code" 1
expect_eq "issue pod default rules" "$(rules)" "privileged,rootUser"
expect_eq "issue pod hostProcess field" "$(fields)" "spec.template.spec.securityContext.windowsOptions.hostProcess"
expect_eq "issue pod rootUser field" \
  "$(jq -r '.results[0].violations[] | select(.rule=="rootUser") | .field' <<<"$out")" \
  "spec.template.spec.securityContext.windowsOptions.runAsUserName"
run "$bin" check -o text "$work/hpc.yaml"
expect_contains "text names the account" "$out" 'NT AUTHORITY\SYSTEM'
expect_contains "HostProcess fix" "$out" 'NT AUTHORITY\Local service'
if grep -q "UID" <<<"$out"; then fail "Windows messages name a UID: $out"; else pass; fi
run "$bin" check --preset pss-baseline -o json "$work/hpc.yaml"
expect_eq "issue pod pss-baseline rules" "$(rules)" "privileged"

# --- a Server Core image (no User) is ContainerAdministrator -------------------------------
printf 'imageOverrides:\n  - image: "mcr.microsoft.com/windows/servercore:*"\n    user: ""\n' >"$work/sc.yaml"
cat >"$work/servercore.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: iis, namespace: web}
spec:
  os: {name: windows}
  containers:
  - {name: iis, image: mcr.microsoft.com/windows/servercore:ltsc2022}
YAML
run "$bin" check --policy "$work/sc.yaml" -o json "$work/servercore.yaml"
expect_eq "servercore exit" "$code" 1
expect_eq "servercore rules" "$(rules)" "rootUser"
expect_contains "servercore message" "$(jq -r '.results[0].violations[0].message' <<<"$out")" \
  'would run as the Windows administrator account ContainerAdministrator'

echo "windows tests: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
