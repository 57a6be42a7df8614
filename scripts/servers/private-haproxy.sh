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
