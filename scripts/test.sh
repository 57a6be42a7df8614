#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this):
#   1. install every Debian package (+ s3rver from npm) the tests need
#   2. Release build of everything; start Ceph RGW, s3rver, haproxy (faults) and redis on loopback
#   3. ctest of every test binary against the real servers (S3DB_REQUIRE_SERVERS=1: none may skip
#      for lack of a server)
#   4. ThreadSanitizer build: core, pool, storage, coord, db tests;  5. ASan/UBSan build: the same
#   6. install the library and build a consumer project with find_package(s3db) and pkg-config
# Servers are stopped on exit, whatever happens.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
start=$(date +%s)
phase() { printf '\n==== %s (t=%ss)\n' "$1" $(( $(date +%s) - start )); }

phase "install dependencies"
scripts/install-deps.sh --test

phase "release build"
export S3DB_PROMETHEUS=ON  # install-deps installed prometheus-cpp-dev: the component must build
scripts/build.sh release

phase "start test servers"
trap 'scripts/test-servers.sh stop >/dev/null 2>&1 || true' EXIT
scripts/test-servers.sh start
# shellcheck disable=SC1091
source .run/servers.env
export S3DB_REQUIRE_SERVERS=1

phase "ctest (release, real servers)"
ctest --test-dir build/release --output-on-failure -j2 --timeout 900

phase "ThreadSanitizer build + core/pool/storage/coord/db tests"
scripts/build.sh tsan --target s3db_core_tests s3db_pool_tests s3db_storage_tests s3db_coord_tests s3db_db_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build/tsan --output-on-failure -j2 -L '^(core|pool|storage|coord|db)$' --timeout 900

phase "ASan/UBSan build + unit tests"
scripts/build.sh asan --target s3db_core_tests s3db_pool_tests s3db_storage_tests s3db_coord_tests s3db_db_tests
ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1" \
  ctest --test-dir build/asan --output-on-failure -j2 -L '^(core|pool|storage|coord|db)$' --timeout 900

phase "install + consumer project (find_package and pkg-config)"
scripts/check-consumer.sh

phase "done"
