# shellcheck shell=bash
# Helpers of the scripts that start an haproxy of their own in front of RGW (prove-protection.sh,
# bench-latency.sh). Sourced after common.sh; HERE is the scripts/ directory.

# private_haproxy_head MAXCONN: the global and defaults sections of such an haproxy — faults.lua
# loaded, its delays allowed to sleep (the 4 s Lua default would cut them), plain HTTP timeouts.
private_haproxy_head() {
  cat <<CFG
global
  maxconn $1
  lua-load $HERE/servers/faults.lua
  tune.lua.session-timeout 15m
  tune.lua.service-timeout 15m
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 30s
CFG
}

# haproxy_stat STATS_PORT PROXY TYPE COLUMN: one counter of haproxy's CSV stats page
# (TYPE 0 = frontend, 1 = backend; COLUMN e.g. req_tot, stot).
haproxy_stat() {
  curl -s "http://127.0.0.1:$1/stats;csv" | awk -F, -v px="$2" -v ty="$3" -v col="$4" '
    NR == 1 { for (i = 1; i <= NF; i++) { h = $i; sub(/^# /, "", h); idx[h] = i } next }
    $1 == px && $(idx["type"]) == ty { print $(idx[col]) + 0 }'
}

# rgw_and_cli_ready: the test servers' RGW answering (started when it is not: test-servers.sh
# start ceph) and the CLI built (release, build/release/tools/s3db/s3db).
rgw_and_cli_ready() {
  "$HERE/test-servers.sh" status >/dev/null 2>&1 || port_listening "$RGW_PORT" || "$HERE/test-servers.sh" start ceph
  "$HERE/build.sh" release --target s3db_cli >/dev/null
}

# private_haproxy_start NAME CFG LOG STATS_PORT PORT...: appends the stats page (STATS_PORT) to
# CFG, refuses ports someone holds, checks the configuration, starts haproxy in the foreground
# (its output appended to LOG) as HAPROXY_PID, stops it when the script exits, and waits for it.
private_haproxy_start() {
  local name=$1 cfg=$2 log=$3 stats_port=$4 port; shift 4
  printf 'listen stats\n  bind 127.0.0.1:%s\n  stats enable\n  stats uri /stats\n' "$stats_port" >>"$cfg"
  for port in "$stats_port" "$@"; do require_free_port "$port" "$name"; done
  haproxy -c -q -f "$cfg"
  haproxy -db -f "$cfg" >>"$log" 2>&1 &
  HAPROXY_PID=$!
  trap 'kill "$HAPROXY_PID" 2>/dev/null || true; wait "$HAPROXY_PID" 2>/dev/null || true' EXIT
  wait_until 15 "$name" port_listening "$stats_port"
}
