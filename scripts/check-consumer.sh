#!/usr/bin/env bash
# Installs the Release build into a scratch prefix and builds tests/consumer against it twice:
# with CMake's find_package(s3db CONFIG) and with pkg-config. Runs both programs (and, when the
# optional prometheus component was installed, a third one linking s3db::prometheus).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(mktemp -d /tmp/s3db-prefix.XXXXXX)
work=$(mktemp -d /tmp/s3db-consumer.XXXXXX)
trap 'rm -rf "$prefix" "$work"' EXIT
cmake --install "$root/build/release" --prefix "$prefix" >/dev/null
cmake -S "$root/tests/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" -j2 >/dev/null
"$work/cmake/consumer"
# The optional prometheus-cpp component: when it was installed, find_package(s3db COMPONENTS
# prometheus) must give a working s3db::prometheus.
if [[ -f "$prefix/lib/cmake/s3db/s3dbPrometheusTargets.cmake" ]]; then
  "$work/cmake/consumer_prometheus"
fi
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
  g++ -std=c++20 "$root/tests/consumer/main.cc" -o "$work/consumer-pc" \
  $(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs s3db)
"$work/consumer-pc"
echo "consumer: find_package and pkg-config builds OK"
