#!/usr/bin/env bash
# The pool's protective half, measured against Ceph RGW behind haproxy (issue 10's proof).
#
#   scripts/prove-protection.sh [ratelimit] [shared] [faults] [outage]     (default: all four)
#
# Needs the test servers' Ceph RGW (scripts/test-servers.sh start ceph; this script starts it
# when it is not running) and builds the CLI. It starts an haproxy of its own from
# scripts/servers/ (faults.lua) with three frontends, counts what each saw through haproxy's
# stats page, and prints one line per run (also appended to $RUN/proof/results.txt):
#   ratelimit  503 SlowDown (Retry-After: 1) above R accepted requests/s, every request delayed
#              by L ms (an S3-like latency: on loopback one request in flight already exceeds R).
#              Imports of N records with concurrency auto, 50 and 200: accepted rate vs R, the
#              share of requests throttled, and every record readable (count).
#   shared     two imports of N records at once (two processes) behind the same limit: together,
#              the accepted rate vs R, the share throttled, and both stored (PROOF_AUTO).
#   faults     10 % SlowDown, 5 % connections reset, 20 % delayed by 150 ms: an import of 2,000
#              records must store all of them and exit 0.
#   outage     radosgw is killed a few seconds into an import and restarted later: the breaker
#              opens, the requests haproxy saw while RGW was down are counted (no retry storm),
#              and the import goes on by itself once RGW answers again.
# Environment: PROOF_R (150), PROOF_LATENCY_MS (50), PROOF_RECORDS (3000), PROOF_FAULT_RECORDS
# (2000), PROOF_OUTAGE_RECORDS (10000), PROOF_KILL_AFTER_S (2), PROOF_OUTAGE_S (15), PROOF_PORT (7490: four consecutive ports), PROOF_CONCURRENCIES
# ("auto 50 200": the ratelimit runs), PROOF_AUTO (default: the faults and outage runs; a
# concurrency, auto, or default = the store's own), PROOF_PARAMS (extra URL parameters),
# PROOF_IMPORT_FLAGS (extra flags of `s3db import`, e.g. --metrics-listen 127.0.0.1:9464).
# Everything binds 127.0.0.1; every run is bounded (timeout) and stops itself.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
RUN=${S3DB_RUN_DIR:-$ROOT/.run}
# shellcheck source=servers/common.sh
source "$HERE/servers/common.sh"
source "$HERE/servers/ceph.sh"
source "$HERE/servers/private-haproxy.sh"
ceph_paths

R=${PROOF_R:-150}
LAT=${PROOF_LATENCY_MS:-50}
N=${PROOF_RECORDS:-3000}
NF=${PROOF_FAULT_RECORDS:-2000}
OUTAGE=${PROOF_OUTAGE_S:-15}
NO=${PROOF_OUTAGE_RECORDS:-10000}
KILL_AFTER=${PROOF_KILL_AFTER_S:-2}
AUTO=${PROOF_AUTO:-default}  # the concurrency of the faults and outage runs (default: the URL's)
P0=${PROOF_PORT:-7490}
RL_PORT=$P0 MIX_PORT=$((P0 + 1)) PASS_PORT=$((P0 + 2)) STATS_PORT=$((P0 + 3))
DIR=$RUN/proof
CLI=$ROOT/build/release/tools/s3db/s3db
scenarios=("$@")
[[ ${#scenarios[@]} -gt 0 ]] || scenarios=(ratelimit shared faults outage)

mkdir -p "$DIR" "$RUN/logs"
rgw_and_cli_ready

# --- haproxy of the proof -------------------------------------------------------------------
{ private_haproxy_head 4096; cat <<EOF
backend rgw
  server rgw 127.0.0.1:$RGW_PORT
backend rgw_mix
  server rgw 127.0.0.1:$RGW_PORT
backend rgw_pass
  server rgw 127.0.0.1:$RGW_PORT
frontend ratelimit
  bind 127.0.0.1:$RL_PORT
  stick-table type integer size 1 expire 10s store gpc0,gpc0_rate(1s)
  http-request track-sc0 int(1)
  http-request lua.delay $LAT
  acl over_limit sc0_gpc0_rate gt $R
  http-request set-var(txn.retry_after) int(1) if over_limit
  http-request use-service lua.s3_slowdown if over_limit
  http-request sc-inc-gpc0(0)
  default_backend rgw
frontend faultmix
  bind 127.0.0.1:$MIX_PORT
  option nolinger
  http-request use-service lua.s3_slowdown if { rand(100) lt 10 }
  http-request reject if { rand(100) lt 5 }
  http-request lua.delay 150 if { rand(100) lt 20 }
  default_backend rgw_mix
frontend pass
  bind 127.0.0.1:$PASS_PORT
  default_backend rgw_pass
EOF
} >"$DIR/haproxy.cfg"
private_haproxy_start "proof haproxy" "$DIR/haproxy.cfg" "$RUN/logs/proof-haproxy.log" "$STATS_PORT" "$RL_PORT" "$MIX_PORT" "$PASS_PORT"

# stat NAME TYPE COLUMN: a counter of haproxy's CSV stats (TYPE 0 = frontend, 1 = backend).
stat() { haproxy_stat "$STATS_PORT" "$@"; }

# PROOF_PARAMS: extra URL parameters of the imports (e.g. "breaker=off&retry_budget=off").
url() { echo "http://$S3DB_TEST_ACCESS_KEY:$S3DB_TEST_SECRET_KEY@127.0.0.1:$1/$S3DB_TEST_BUCKET/proof-$2${PROOF_PARAMS:+?$PROOF_PARAMS}"; }

make_input() {  # make_input FILE COUNT
  awk -v n="$2" 'BEGIN { for (i = 1; i <= n; i++) printf "{\"id\":\"r%06d\",\"n\":%d,\"text\":\"record %d of the protection proof\"}\n", i, i, i }' >"$1"
}

result() { echo "$*" | tee -a "$DIR/results.txt"; }

# import_run LABEL PORT CONCURRENCY FILE EXPECTED: one import into a fresh prefix, then a count.
import_run() {
  local label=$1 port=$2 conc=$3 file=$4 expected=$5 prefix
  prefix="$label-$(date +%s%N)"
  local u; u=$(url "$port" "$prefix")
  "$CLI" --url "$(url "$PASS_PORT" "$prefix")" create-resource items --attr "n=number" --attr "text=string" >/dev/null
  local fe0 be0 t0 t1 rc=0
  fe0=$(stat "$FRONT" 0 req_tot); be0=$(stat "$BACK" 1 stot)
  t0=$(now)
  local flag=(--concurrency "$conc")
  [[ $conc == default ]] && flag=()
  # shellcheck disable=SC2086 # PROOF_IMPORT_FLAGS: e.g. "--metrics-listen 127.0.0.1:9464"
  timeout 900 "$CLI" --url "$u" "${flag[@]}" --json import items "$file" ${PROOF_IMPORT_FLAGS:-} \
    --errors "$DIR/$label.errors.jsonl" >"$DIR/$label.out" 2>"$DIR/$label.err" || rc=$?
  t1=$(now)
  local fe1 be1; fe1=$(stat "$FRONT" 0 req_tot); be1=$(stat "$BACK" 1 stot)
  local count; count=$("$CLI" --url "$(url "$PASS_PORT" "$prefix")" count items 2>/dev/null || echo "?")
  awk -v l="$label" -v c="$conc" -v rc="$rc" -v fe=$((fe1 - fe0)) -v be=$((be1 - be0)) \
      -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v r="$R" -v cnt="$count" -v want="$expected" 'BEGIN {
    printf "%-22s concurrency=%-5s exit=%s  %.1f s  requests=%d forwarded=%d (%.1f/s = %.0f%% of R=%d)  throttled/refused=%.1f%%  stored=%s/%s\n",
      l, c, rc, t, fe, be, be / t, 100 * be / t / r, r, (fe ? 100 * (fe - be) / fe : 0), cnt, want }' | tee -a "$DIR/results.txt"
}

# shared_run LABEL CONCURRENCY FILE EXPECTED: two imports at once (two processes, each its own
# pool learning the same limit), into two fresh prefixes; the rate and share are of both together.
shared_run() {
  local label=$1 conc=$2 file=$3 expected=$4 p1 p2 rc1=0 rc2=0
  p1="$label-a-$(date +%s%N)" p2="$label-b-$(date +%s%N)"
  for p in "$p1" "$p2"; do
    "$CLI" --url "$(url "$PASS_PORT" "$p")" create-resource items --attr "n=number" --attr "text=string" >/dev/null
  done
  local flag=(--concurrency "$conc")
  [[ $conc == default ]] && flag=()
  local fe0 be0 t0 t1; fe0=$(stat "$FRONT" 0 req_tot); be0=$(stat "$BACK" 1 stot); t0=$(now)
  timeout 900 "$CLI" --url "$(url "$RL_PORT" "$p1")" "${flag[@]}" --json import items "$file" \
    --errors "$DIR/$label-a.errors.jsonl" >"$DIR/$label-a.out" 2>"$DIR/$label-a.err" & local j1=$!
  timeout 900 "$CLI" --url "$(url "$RL_PORT" "$p2")" "${flag[@]}" --json import items "$file" \
    --errors "$DIR/$label-b.errors.jsonl" >"$DIR/$label-b.out" 2>"$DIR/$label-b.err" & local j2=$!
  wait "$j1" || rc1=$?
  wait "$j2" || rc2=$?
  t1=$(now)
  local fe1 be1; fe1=$(stat "$FRONT" 0 req_tot); be1=$(stat "$BACK" 1 stot)
  local c1 c2
  c1=$("$CLI" --url "$(url "$PASS_PORT" "$p1")" count items 2>/dev/null || echo "?")
  c2=$("$CLI" --url "$(url "$PASS_PORT" "$p2")" count items 2>/dev/null || echo "?")
  awk -v l="$label" -v c="$conc" -v rc="$rc1/$rc2" -v fe=$((fe1 - fe0)) -v be=$((be1 - be0)) \
      -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v r="$R" -v cnt="$c1+$c2" -v want="$expected+$expected" 'BEGIN {
    printf "%-22s concurrency=%-5s exit=%s  %.1f s  requests=%d forwarded=%d (%.1f/s = %.0f%% of R=%d)  throttled/refused=%.1f%%  stored=%s/%s\n",
      l, c, rc, t, fe, be, be / t, 100 * be / t / r, r, (fe ? 100 * (fe - be) / fe : 0), cnt, want }' | tee -a "$DIR/results.txt"
}

result "# $(date -u +%FT%TZ) $(git -C "$ROOT" rev-parse --short HEAD) R=$R/s latency=${LAT}ms"

for s in "${scenarios[@]}"; do
  case $s in
    ratelimit)
      make_input "$DIR/ratelimit.jsonl" "$N"
      FRONT=ratelimit BACK=rgw
      for c in ${PROOF_CONCURRENCIES:-auto 50 200}; do import_run "ratelimit-$c" "$RL_PORT" "$c" "$DIR/ratelimit.jsonl" "$N"; done ;;
    shared)
      make_input "$DIR/ratelimit.jsonl" "$N"
      FRONT=ratelimit BACK=rgw
      shared_run "shared-$AUTO" "$AUTO" "$DIR/ratelimit.jsonl" "$N" ;;
    faults)
      make_input "$DIR/faults.jsonl" "$NF"
      FRONT=faultmix BACK=rgw_mix
      import_run "faults-$AUTO" "$MIX_PORT" "$AUTO" "$DIR/faults.jsonl" "$NF" ;;
    outage)
      make_input "$DIR/outage.jsonl" "$NO"
      FRONT=pass BACK=rgw_pass
      # Kill radosgw a few seconds in, count what haproxy sees while it is down, restart it.
      (
        sleep "$KILL_AFTER"
        pkill -KILL -x radosgw || true
        fe0=$(stat pass 0 req_tot); t0=$(now)
        prev=$fe0 per_s=""
        for ((i = 0; i < OUTAGE; i++)); do  # the requests of each second: a storm, or a trickle?
          sleep 1
          cur=$(stat pass 0 req_tot); per_s+=" $((cur - prev))"; prev=$cur
        done
        fe1=$(stat pass 0 req_tot); t1=$(now)
        radosgw -c "$CEPH_CONF" -n client.rgw 9>&- >>"$RUN/logs/ceph-setup.log" 2>&1
        wait_until 120 "radosgw" answers_http "http://127.0.0.1:$RGW_PORT/" >/dev/null
        echo "outage: radosgw down $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, haproxy saw $((fe1 - fe0)) requests meanwhile, per second:$per_s" >"$DIR/outage.window"
      ) &
      killer=$!
      import_run "outage-$AUTO" "$PASS_PORT" "$AUTO" "$DIR/outage.jsonl" "$NO"
      wait "$killer"
      result "$(cat "$DIR/outage.window")"
      result "outage: import stderr, breaker lines: $(grep -c 'circuit' "$DIR/outage-$AUTO.err"), failed lines by code: $(grep -o '"code":"[A-Za-z]*"' "$DIR/outage-$AUTO.errors.jsonl" 2>/dev/null | sort | uniq -c | tr -s ' \n' ' ')" ;;
    *) die "unknown scenario $s (ratelimit, shared, faults, outage)" ;;
  esac
done
