#!/usr/bin/env bash
# Hedged reads, proved against Ceph RGW behind a slow haproxy (issue 13's proof): "through a
# haproxy that delays 5 % of requests by 1 s in front of Ceph RGW, 2,000 GETs: p99 latency at
# least 5× lower with hedging than without, extra requests ≤ 5 %".
#
#   scripts/prove-hedging.sh
#
# Builds the CLI, starts an haproxy of its own on 127.0.0.1 (scripts/servers/faults.lua, action
# delay) in front of the test servers' Ceph RGW (scripts/test-servers.sh start ceph; this script
# starts it when it is not running, and never stops it) that holds a random HEDGE_SLOW_PCT % of
# the GET and HEAD requests for HEDGE_SLOW_MS before passing them on — every other request (the
# bench's setup PUTs, its clean-up POST) goes straight through. Then, HEDGE_RUNS times, it runs
# `s3db bench reads` (HEDGE_OBJECTS objects written, HEDGE_OPS GETs, HEDGE_CONCURRENCY in flight)
# once with hedge=off and once with hedge=on&hedge_budget=HEDGE_BUDGET in the URL, and prints per
# bench: p50, p95, p99, max, errors, hedges sent / won and the extra requests the client counted,
# and what haproxy saw in the GET phase, counted on its stats page: GET requests (originals and
# duplicates, aborted ones included), how many of them it delayed, and the extra requests that
# makes over the bench's GETs. Then the p99 ratio off / on of each run and whether the targets
# hold (ratio ≥ 5, extra requests ≤ 5 %, both the client's count and haproxy's). Everything is
# appended to $RUN/prove-hedging/results.txt (RUN = S3DB_RUN_DIR or .run/); the JSON of every
# bench and haproxy's log are kept beside it. Everything binds 127.0.0.1; every bench is bounded
# (timeout); haproxy is stopped on exit.
#
# Environment:
#   HEDGE_SLOW_PCT (5)        share of GET/HEAD requests delayed, in % (two decimals at most)
#   HEDGE_SLOW_MS (1000)      their delay
#   HEDGE_BUDGET (0.05)       hedge_budget of the hedge=on benches
#   HEDGE_RUNS (3)            runs, each one bench with hedge=off then one with hedge=on
#   HEDGE_CONCURRENCY (16)    GETs in flight (--concurrency: the pool's limit)
#   HEDGE_OPS (2000), HEDGE_OBJECTS (200), HEDGE_SIZE (1024)   the bench's --ops, --objects, --size
#   HEDGE_PARAMS              extra URL parameters of both benches (e.g. "timeout_ms=30000")
#   HEDGE_PORT (7497)         the proxy; HEDGE_PORT+1 is haproxy's stats page
#   HEDGE_TIMEOUT_S (600)     bound of one bench
#   HEDGE_STRICT (0)          1: exit 1 when a run misses a target (default: report only)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
RUN=${S3DB_RUN_DIR:-$ROOT/.run}
# shellcheck source=servers/common.sh
source "$HERE/servers/common.sh"
source "$HERE/servers/private-haproxy.sh"

PCT=${HEDGE_SLOW_PCT:-5}
SLOW_MS=${HEDGE_SLOW_MS:-1000}
BUDGET=${HEDGE_BUDGET:-0.05}
RUNS=${HEDGE_RUNS:-3}
CONC=${HEDGE_CONCURRENCY:-16}
OPS=${HEDGE_OPS:-2000}
OBJECTS=${HEDGE_OBJECTS:-200}
SIZE=${HEDGE_SIZE:-1024}
PROXY_PORT=${HEDGE_PORT:-7497}
STATS_PORT=$((PROXY_PORT + 1))
LIMIT_S=${HEDGE_TIMEOUT_S:-600}
STRICT=${HEDGE_STRICT:-0}
TARGET_RATIO=5 TARGET_EXTRA_PCT=5
DIR=$RUN/prove-hedging
CLI=$ROOT/build/release/tools/s3db/s3db

# rand(10000) < PCT × 100: a share in hundredths of a percent.
PER10K=$(awk -v p="$PCT" 'BEGIN { if (p !~ /^[0-9]+(\.[0-9]+)?$/ || p > 100) exit 1; printf "%d", p * 100 + 0.5 }') ||
  die "HEDGE_SLOW_PCT must be a number from 0 to 100 (got '$PCT')"
[[ $SLOW_MS =~ ^[0-9]+$ ]] || die "HEDGE_SLOW_MS must be whole milliseconds (got '$SLOW_MS')"

mkdir -p "$DIR" "$RUN/logs"
rgw_and_cli_ready

# --- the proxy ------------------------------------------------------------------------------
# Three backends to the same RGW, so that haproxy's stats page counts exactly (its request log
# may drop lines): reads_fast (GET/HEAD passed at once), reads_slow (GET/HEAD delayed) and
# others (PUT, POST, DELETE). Without abortonclose, a request whose client gave up during the
# delay (a hedge won) still goes on to its backend afterwards, so it is counted too.
# The log: one line per request, "<method> <delayed: 1 or -> <status> <total ms> <termination>".
{ private_haproxy_head 4096; cat <<EOF
backend reads_fast
  server rgw 127.0.0.1:$RGW_PORT
backend reads_slow
  server rgw 127.0.0.1:$RGW_PORT
backend others
  server rgw 127.0.0.1:$RGW_PORT
frontend hedge
  bind 127.0.0.1:$PROXY_PORT
  log stdout format raw local0 info
  log-format "%HM %[var(txn.slow)] %ST %Tt %tsc"
  acl read method GET HEAD
  http-request set-var(txn.slow) int(1) if read { rand(10000) lt $PER10K }
  http-request lua.delay $SLOW_MS if { var(txn.slow) -m int 1 }
  use_backend reads_slow if { var(txn.slow) -m int 1 }
  use_backend reads_fast if read
  default_backend others
EOF
} >"$DIR/haproxy.cfg"
: >"$DIR/haproxy.log"
private_haproxy_start "prove-hedging haproxy" "$DIR/haproxy.cfg" "$DIR/haproxy.log" "$STATS_PORT" "$PROXY_PORT"

url() {  # url MODE: the bench's URL through the proxy, hedging on or off
  local params="hedge=$1"
  [[ $1 == on ]] && params+="&hedge_budget=$BUDGET"
  [[ -n ${HEDGE_PARAMS:-} ]] && params+="&$HEDGE_PARAMS"
  echo "http://$S3DB_TEST_ACCESS_KEY:$S3DB_TEST_SECRET_KEY@127.0.0.1:$PROXY_PORT/$S3DB_TEST_BUCKET/prove-hedging?$params"
}

# reads: "ALL DELAYED", the GET/HEAD requests haproxy passed on so far (stats page, exact). The
# bench's only reads are the GETs of its GET phase (setup: PUT, clean-up: POST).
reads() {
  local fast slow
  fast=$(haproxy_stat "$STATS_PORT" reads_fast 1 req_tot) slow=$(haproxy_stat "$STATS_PORT" reads_slow 1 req_tot)
  echo "$((fast + slow)) $slow"
}

result() { echo "$*" | tee -a "$DIR/results.txt"; }
row() { printf '%-4s %-5s %9s %9s %9s %9s %7s %6s %5s %8s %10s %9s %8s\n' "$@" | tee -a "$DIR/results.txt"; }

result "# $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD) s3db bench reads through haproxy delaying ${PCT} % of GET/HEAD by ${SLOW_MS} ms," \
  "ops=$OPS objects=$OBJECTS size=$SIZE concurrency=$CONC runs=$RUNS hedge_budget=$BUDGET, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
row run hedge p50_ms p95_ms p99_ms max_ms errors sent won extra% proxy_GETs delayed proxy_x%

declare -A P99 EXTRA PEXTRA
failed=0
for ((r = 1; r <= RUNS; r++)); do
  for mode in off on; do
    out="$DIR/run$r-$mode.json"
    read -r gets0 delayed0 <<<"$(reads)"
    rc=0
    timeout "$LIMIT_S" "$CLI" --url "$(url "$mode")" --concurrency "$CONC" --json bench reads \
      --ops "$OPS" --objects "$OBJECTS" --size "$SIZE" >"$out" 2>"$DIR/run$r-$mode.err" || rc=$?
    if [[ $rc != 0 ]]; then
      result "run $r hedge=$mode: s3db bench exited $rc (see $DIR/run$r-$mode.err)"
      failed=1
      continue
    fi
    # A GET delayed then abandoned for its duplicate reaches its backend when the delay ends.
    sleep "$(awk -v ms="$SLOW_MS" 'BEGIN { printf "%.1f", ms / 1000 + 1 }')"
    read -r gets delayed <<<"$(reads)"
    gets=$((gets - gets0)) delayed=$((delayed - delayed0))
    pextra=$(awk -v g="$gets" -v n="$OPS" 'BEGIN { printf "%.2f", (g - n) * 100 / n }')
    IFS=$'\t' read -r p50 p95 p99 max errors sent won extra < <(jq -r '.arms[0] as $a | .hedging as $h |
        [$a.p50_latency_ms, $a.p95_latency_ms, $a.p99_latency_ms, $a.max_latency_ms, $a.errors,
         $h.sent, $h.won, $h.extra_pct] | @tsv' "$out")
    printf -v p50 '%.1f' "$p50"; printf -v p95 '%.1f' "$p95"; printf -v p99 '%.1f' "$p99"
    printf -v max '%.1f' "$max"; printf -v extra '%.2f' "$extra"
    row "$r" "$mode" "$p50" "$p95" "$p99" "$max" "$errors" "$sent" "$won" "$extra" "$gets" "$delayed" "$pextra"
    P99[$r-$mode]=$p99 EXTRA[$r-$mode]=$extra PEXTRA[$r-$mode]=$pextra
    enabled=$(jq -r '.hedging.enabled' "$out")
    [[ $mode == on && $enabled != true ]] &&
      result "     (hedge=on: the client reports hedging disabled — this build does not hedge yet)"
  done
done

# --- the verdict ----------------------------------------------------------------------------
met_runs=0 ratios=()
for ((r = 1; r <= RUNS; r++)); do
  off=${P99[$r-off]:-} on=${P99[$r-on]:-}
  if [[ -z $off || -z $on ]]; then
    result "run $r: incomplete (a bench failed)"
    continue
  fi
  line=$(awk -v off="$off" -v on="$on" -v x="${EXTRA[$r-on]}" -v px="${PEXTRA[$r-on]}" -v tr="$TARGET_RATIO" -v tx="$TARGET_EXTRA_PCT" -v r="$r" 'BEGIN {
      ratio = on > 0 ? off / on : 0
      ok_r = ratio >= tr; ok_x = x <= tx && px <= tx
      printf "%.2f %d run %d: p99 off %.1f ms / on %.1f ms = %.2f× (target ≥ %d×: %s); extra requests with hedging: client %.2f %%, haproxy %.2f %% (target ≤ %d %%: %s) → %s",
        ratio, ok_r && ok_x, r, off, on, ratio, tr, ok_r ? "met" : "NOT met", x, px, tx, ok_x ? "met" : "NOT met", (ok_r && ok_x) ? "TARGETS MET" : "targets not met" }')
  read -r ratio ok text <<<"$line"
  ratios+=("$ratio")
  ((ok)) && met_runs=$((met_runs + 1))
  result "$text"
done
median=$(printf '%s\n' "${ratios[@]:-0}" | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
result "summary: targets met in $met_runs of $RUNS runs; median p99 ratio off/on $(printf '%.2f' "$median")×"

((failed == 0)) || exit 1
[[ $STRICT == 1 && $met_runs -lt $RUNS ]] && exit 1
exit 0
