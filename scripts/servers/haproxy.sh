# shellcheck shell=bash
# haproxy (with Lua) in front of RGW: the fault-injection frontends. Sourced by test-servers.sh.

haproxy_ports() {
  echo "$FAULT_SLOWDOWN_PORT $FAULT_DROP_PORT $FAULT_LATENCY_PORT $FAULT_BLACKHOLE_PORT $FAULT_RATELIMIT_PORT"
}

haproxy_start() {
  local port
  for port in $(haproxy_ports); do require_free_port "$port" "haproxy fault frontend"; done
  command -v haproxy >/dev/null || die "haproxy is not installed (scripts/install-deps.sh --test)"
  local t0; t0=$(now)
  mkdir -p "$RUN/haproxy"
  local cfg="$RUN/haproxy/haproxy.cfg"
  sed -e "s|@LUA@|$HERE/servers/faults.lua|" \
      -e "s|@RGW_PORT@|$RGW_PORT|" \
      -e "s|@SLOWDOWN_PORT@|$FAULT_SLOWDOWN_PORT|" -e "s|@SLOWDOWN_PERCENT@|$FAULT_SLOWDOWN_PERCENT|g" \
      -e "s|@DROP_PORT@|$FAULT_DROP_PORT|" -e "s|@DROP_PERCENT@|$FAULT_DROP_PERCENT|g" \
      -e "s|@LATENCY_PORT@|$FAULT_LATENCY_PORT|" -e "s|@LATENCY_MS@|$FAULT_LATENCY_MS|g" \
      -e "s|@BLACKHOLE_PORT@|$FAULT_BLACKHOLE_PORT|" \
      -e "s|@RATELIMIT_PORT@|$FAULT_RATELIMIT_PORT|" -e "s|@RATELIMIT_RPS@|$FAULT_RATELIMIT_RPS|g" \
      "$HERE/servers/haproxy.cfg.in" >"$cfg"
  haproxy -c -q -f "$cfg" >>"$RUN/logs/haproxy.log" 2>&1 || {
    tail -n 20 "$RUN/logs/haproxy.log" >&2; die "invalid haproxy configuration ($cfg)"; }
  # -db: stay in the foreground so the request log (stdout) lands in logs/haproxy.log and the
  # pid we record is haproxy's own.
  spawn haproxy "$RUN/logs/haproxy.log" haproxy -db -f "$cfg"
  for port in $(haproxy_ports); do
    wait_until 15 "haproxy on port $port" port_listening "$port" || die "haproxy did not start (see $RUN/logs/haproxy.log)"
  done
  printf '%-10s %-34s started in %5ss (slowdown %s%%, drop %s%%, latency %sms, blackhole, ratelimit %s/s)\n' \
    "haproxy" "127.0.0.1:$FAULT_SLOWDOWN_PORT-$FAULT_RATELIMIT_PORT" "$(elapsed "$t0")" \
    "$FAULT_SLOWDOWN_PERCENT" "$FAULT_DROP_PERCENT" "$FAULT_LATENCY_MS" "$FAULT_RATELIMIT_RPS"
}

haproxy_stop() {
  stop_pidfile "$RUN/pids/haproxy.pid"
  rm -rf "$RUN/haproxy"
}

haproxy_status() {
  local port down=0
  pidfile_alive "$RUN/pids/haproxy.pid" || down=1
  for port in $(haproxy_ports); do port_listening "$port" || down=1; done
  if [[ $down == 0 ]]; then
    echo "haproxy    running  faults on 127.0.0.1:$(haproxy_ports | tr ' ' ',')"
  else
    echo "haproxy    DOWN"; return 1
  fi
}
