#!/usr/bin/env bash
# The streaming reader's proof (issue 12): memory that does not grow with the resource, and a
# limited query that reads `limit` documents.
#
#   scripts/prove-scan.sh [N...]        (default: 10000 100000)
#
# For each N: a fresh file:// store gets a resource of N records (s3db import), then, each as its
# own process under /usr/bin/time, `s3db export` (to /dev/null), `s3db query --where 'n>=0'
# --limit 10` and `s3db list --limit 10`. Prints one line per command: peak RSS (KiB) and, for the
# limited reads, the pool operations they ran (s3db_pool_processed_total: the catalog read, one
# LIST page, and the GETs). Peak RSS of export must not grow with N. Needs nothing but the CLI,
# which it builds; everything stays under a temporary directory that is removed at the end.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
"$HERE/build.sh" release --target s3db_cli >/dev/null
S3DB="$ROOT/build/release/tools/s3db/s3db"
[[ -x "$S3DB" ]] || S3DB=$(find "$ROOT/build/release" -type f -name s3db -perm -u+x | head -1)

work=$(mktemp -d /tmp/s3db-prove-scan-XXXXXX)
trap 'rm -rf "$work"' EXIT

rss() {  # rss LABEL CMD... : runs CMD, prints "LABEL rss_kib=…" and the pool ops it ran
  local label=$1; shift
  /usr/bin/time -f '%M' -o "$work/rss" "$@" >/dev/null 2>"$work/err"
  local ops
  ops=$(awk '/^s3db_pool_processed_total[{ ]/{print $NF}' "$work/err")
  printf '%-28s rss_kib=%s%s\n' "$label" "$(cat "$work/rss")" "${ops:+ pool_ops=$ops}"
}

for n in "${@:-10000 100000}"; do
  for count in $n; do
    store="$work/store-$count"
    mkdir -p "$store"
    url="file://$store"
    awk -v n="$count" 'BEGIN { for (i = 0; i < n; i++) printf "{\"id\":\"r%07d\",\"n\":%d,\"name\":\"record number %d\",\"tags\":[\"a\",\"b\"]}\n", i, i, i }' \
      >"$work/lines.jsonl"
    "$S3DB" --url "$url" create-resource items --attr 'n=integer' --attr 'name=string' --attr 'tags=array' >/dev/null
    "$S3DB" --url "$url" import items "$work/lines.jsonl" >/dev/null
    echo "N=$count"
    rss "  export (all)" "$S3DB" --url "$url" export items --metrics
    rss "  query n>=0 --limit 10" "$S3DB" --url "$url" query items --where 'n>=0' --limit 10 --metrics
    rss "  list --limit 10" "$S3DB" --url "$url" list items --limit 10 --metrics
    rm -rf "$store"
  done
done
