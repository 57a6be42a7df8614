#!/usr/bin/env bash
# Configures and builds one flavour of s3db.
#   scripts/build.sh release|tsan|asan [cmake --build args...]
# Build dirs: build/release, build/tsan, build/asan.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
flavour=${1:-release}; shift || true
jobs=${S3DB_JOBS:-2}
case "$flavour" in
  release) extra=(-DCMAKE_BUILD_TYPE=Release) ;;
  tsan)    extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DS3DB_SANITIZE=thread -DS3DB_BUILD_BENCH=OFF -DS3DB_BUILD_CLI=OFF) ;;
  asan)    extra=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DS3DB_SANITIZE=address -DS3DB_BUILD_BENCH=OFF -DS3DB_BUILD_CLI=OFF) ;;
  *) echo "usage: scripts/build.sh release|tsan|asan [--target T...]" >&2; exit 2 ;;
esac
# S3DB_PROMETHEUS=AUTO|ON|OFF: the optional prometheus-cpp component (scripts/test.sh requires it).
cmake -S "$root" -B "$root/build/$flavour" "${extra[@]}" -DS3DB_PROMETHEUS="${S3DB_PROMETHEUS:-AUTO}" >/dev/null
cmake --build "$root/build/$flavour" -j"$jobs" "$@"
