#!/usr/bin/env bash
# Installs every Debian package s3db needs to build (and, with --test, to run its test servers).
# Idempotent and quiet: packages already present are skipped by apt itself.
#   scripts/install-deps.sh          build dependencies only (main job on memory://)
#   scripts/install-deps.sh --test   + Ceph RGW, haproxy, redis, awscli, node/npm + s3rver
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

build_pkgs=(build-essential cmake pkg-config g++ libssl-dev libcurl4-openssl-dev libpugixml-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev libspdlog-dev libhiredis-dev libpcre2-dev libsimdjson-dev libgtest-dev libgmock-dev
  librapidcheck-dev libbenchmark-dev prometheus-cpp-dev)
test_pkgs=(radosgw ceph-mon ceph-osd ceph-common haproxy lua5.3 redis-server awscli curl openssl procps
  iproute2)
# Node.js: any node >= 18 with npm will do (Debian's, or a nodesource build that bundles npm and
# conflicts with Debian's npm package), so install Debian's only when npm is absent.
command -v npm >/dev/null 2>&1 || test_pkgs+=(nodejs npm)

want=("${build_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" ]]; then
  "$here/install-s3rver.sh"
fi
