#!/usr/bin/env bash
# The main job: install build dependencies, build s3db (Release) and run the seed benchmark
# (10,000 inserts through Resource::insert, three arms) on the embedded default memory://.
# Extra arguments go to `s3db bench` (e.g. --runs 5 --json, --url file:///tmp/s3db-bench).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" release --target s3db_cli
exec "$root/build/release/tools/s3db/s3db" bench --url "${S3DB_URL:-memory://bench}" "$@"
