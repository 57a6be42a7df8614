#!/usr/bin/env bash
# Installs @20minutes/s3rver@4.0.4 (the second S3 server of the tests) under .deps/s3rver.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.deps/s3rver"
if [[ ! -f "$dest/node_modules/@20minutes/s3rver/package.json" ]]; then
  mkdir -p "$dest"
  (cd "$dest" && npm install --silent --no-audit --no-fund --prefix "$dest" @20minutes/s3rver@4.0.4 >/dev/null)
fi
