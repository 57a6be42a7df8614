#!/usr/bin/env bash
# `s3db bench seed` at real-world latency (issue 13): Ceph RGW behind a proxy that delays every
# request by 20 ms ± 5 ms (uniform) — about what a client in the same region as S3 sees.
#
#   scripts/bench-latency.sh
#
# Builds the CLI, starts an haproxy of its own on 127.0.0.1 (scripts/servers/faults.lua, action
# delay_jitter) in front of the test servers' Ceph RGW (scripts/test-servers.sh start ceph; this
# script starts it when it is not running), then runs the seed's three arms (batched, unbounded,
# pool) once per concurrency of LATENCY_CONCURRENCIES — the seed's fixed 50, then auto (the pool
# tunes its own limit). haproxy's stats page counts the requests of each bench (all three arms,
# with their setup and clean-up: requests per insert) and its request log splits them by method.
# Prints the table and appends it to
# $RUN/bench-latency/results.txt (RUN = S3DB_RUN_DIR or .run/); the bench's JSON of every run is
# kept beside it. Stops its haproxy on exit; everything binds 127.0.0.1; every run is bounded
# (timeout).
#
# Environment:
#   LATENCY_MS (20), LATENCY_JITTER_MS (5)  the delay of every request: uniform in MS ± JITTER,
#                                           whole milliseconds
#   LATENCY_OPS (5000)         inserts per arm. At 20 ms a request and 50 in flight the pool arm
#                              cannot go faster than ~2,500 requests/s, so 5,000 inserts take a few
#                              seconds per arm: long enough for the auto tuner to settle and for
#                              percentiles, short enough that the whole script stays within minutes
#                              (the unbounded arm starts one thread per insert: 5,000 at once)
#   LATENCY_RUNS (1)           runs per arm; each figure is the median over the runs
#   LATENCY_CONCURRENCIES ("50 auto")  the pool's limit of each bench (--concurrency); add a
#                              small one (10) to see the regime where the delay is the limit
#   (LATENCY_MS=0 LATENCY_JITTER_MS=0: the same path without delay, the store's own ceiling)
#   LATENCY_PORT (7495)        the proxy; LATENCY_PORT+1 is haproxy's stats page
#   LATENCY_RGW_MAXCONN (256)  connections haproxy opens to RGW at most; the rest wait in
#                              haproxy's queue (a single local radosgw is not S3: thousands of
#                              simultaneous connections from the unbounded arm would only measure
#                              its accept queue)
#   LATENCY_TIMEOUT_S (900)    bound of one bench run
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
RUN=${S3DB_RUN_DIR:-$ROOT/.run}
# shellcheck source=servers/common.sh
source "$HERE/servers/common.sh"
source "$HERE/servers/private-haproxy.sh"

LAT=${LATENCY_MS:-20}
JIT=${LATENCY_JITTER_MS:-5}
OPS=${LATENCY_OPS:-5000}
RUNS=${LATENCY_RUNS:-1}
CONCURRENCIES=${LATENCY_CONCURRENCIES:-50 auto}
PROXY_PORT=${LATENCY_PORT:-7495}
STATS_PORT=$((PROXY_PORT + 1))
MAXCONN=${LATENCY_RGW_MAXCONN:-256}
LIMIT_S=${LATENCY_TIMEOUT_S:-900}
DIR=$RUN/bench-latency
CLI=$ROOT/build/release/tools/s3db/s3db

mkdir -p "$DIR" "$RUN/logs"
rgw_and_cli_ready

# --- the proxy ------------------------------------------------------------------------------
# The request log (one line per request, method included) goes to $DIR/haproxy.log.
{ private_haproxy_head 8192; cat <<EOF
backend rgw
  timeout queue 120s
  server rgw 127.0.0.1:$RGW_PORT maxconn $MAXCONN
frontend latency
  bind 127.0.0.1:$PROXY_PORT
  log stdout format raw local0 info
  option httplog
  http-request lua.delay_jitter $LAT $JIT
  default_backend rgw
EOF
} >"$DIR/haproxy.cfg"
: >"$DIR/haproxy.log"
private_haproxy_start "bench-latency haproxy" "$DIR/haproxy.cfg" "$DIR/haproxy.log" "$STATS_PORT" "$PROXY_PORT"

URL="http://$S3DB_TEST_ACCESS_KEY:$S3DB_TEST_SECRET_KEY@127.0.0.1:$PROXY_PORT/$S3DB_TEST_BUCKET/bench-latency"

# requests: the proxy frontend's request count (haproxy's stats page; exact).
requests() { haproxy_stat "$STATS_PORT" latency 0 req_tot; }

# methods FROM_LINE: requests logged since that line of the log, per method ("PUT=5000 GET=3 …").
# The split only, approximate: haproxy drops log lines when its stdout pipe is full, and a line
# written late lands in the next bench's window (a few per ten thousand here).
methods() {
  tail -n "+$1" "$DIR/haproxy.log" | grep -o '"[A-Z]* /' | tr -d '"/ ' | sort | uniq -c |
    awk '{ printf "%s%s=%d", (NR > 1 ? " " : ""), $2, $1 }'
}

# The proxy's delay, checked: 20 requests timed by curl (an unsigned GET: RGW answers 403 at once).
probe=$(for _ in $(seq 20); do curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PROXY_PORT/"; done |
  sort -n | awk '{ t[NR] = $1 * 1000 } END { printf "min %.1f ms, median %.1f ms, max %.1f ms", t[1], t[int((NR + 1) / 2)], t[NR] }')

{
  echo "# $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD) s3db bench seed through haproxy +${LAT}±${JIT} ms," \
       "ops=$OPS runs=$RUNS, $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'))"
  echo "# proxy round trip of an unsigned GET (20 probes): $probe"
  echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-12s %-10s %9s %10s %9s %9s %9s %9s %8s\n' concurrency arm duration ops/s p50_ms p99_ms cpu_ms peak_MB errors
} | tee -a "$DIR/results.txt"

for c in $CONCURRENCIES; do
  out="$DIR/seed-c$c.json"
  from=$(($(wc -l <"$DIR/haproxy.log") + 1))
  req0=$(requests)
  rc=0
  timeout "$LIMIT_S" "$CLI" --url "$URL" --concurrency "$c" --json bench seed --ops "$OPS" --runs "$RUNS" --metrics \
    >"$out" 2>"$DIR/seed-c$c.err" || rc=$?
  [[ $rc == 0 ]] || { echo "concurrency=$c: s3db bench exited $rc (see $DIR/seed-c$c.err)" | tee -a "$DIR/results.txt"; continue; }
  sleep 1  # haproxy logs a request when it ends: let the last lines land
  # Per arm: the figures of the bench's JSON; the requests are of the whole run (all arms,
  # with each arm's setup and clean-up), so they are divided by all the inserts.
  jq -r --arg c "$c" '.arms[] | [$c, .name, (.duration_ms | floor | tostring) + " ms", (.ops_per_sec | floor),
      (.p50_latency_ms * 10 | round / 10), (.p99_latency_ms * 10 | round / 10), (.cpu_ms | floor), (.peak_rss_mb | floor), .errors] | @tsv' "$out" |
    while IFS=$'\t' read -r cc arm dur rate p50 p99 cpu rss err; do
      printf '%-12s %-10s %9s %10s %9s %9s %9s %9s %8s\n' "$cc" "$arm" "$dur" "$rate" "$p50" "$p99" "$cpu" "$rss" "$err"
    done | tee -a "$DIR/results.txt"
  inserts=$((OPS * RUNS * $(jq '.arms | length' "$out")))
  total=$(($(requests) - req0))
  awk -v n="$inserts" -v c="$c" -v t="$total" -v split_="$(methods "$from")" 'BEGIN {
      printf "%-12s requests of the run: %d for %d inserts = %.3f per insert (setup and clean-up included; logged: %s)\n", c, t, n, t / n, split_ }' |
    tee -a "$DIR/results.txt"
  jq -r --arg c "$c" '.metrics.concurrency as $m |
      .metrics.latency.execution as $e |
      "\($c)  pool arm (last run): one request in flight \($e.p50_ms | round) ms p50, \($e.p99_ms | round) ms p99 (execution, queue excluded); concurrency at the end \($m.current), average \($m.avg * 10 | round / 10), utilisation \($m.utilisation * 100 | round) %, \(.metrics.decisions.total) tuner decisions \(.metrics.decisions.by_reason | tostring), last \(.metrics.decisions.last | tostring)"' \
    "$out" | tee -a "$DIR/results.txt"
done
