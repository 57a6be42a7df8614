# shellcheck shell=bash
# haproxy (with Lua) in front of RGW: the fault-injection frontends, and a TLS frontend whose
# self-signed certificate is made at every start. Sourced by test-servers.sh.

haproxy_ports() {
  echo "$FAULT_SLOWDOWN_PORT $FAULT_DROP_PORT $FAULT_LATENCY_PORT $FAULT_BLACKHOLE_PORT $FAULT_RATELIMIT_PORT $TLS_PORT $FAULT_AFTER_APPLY_PORT"
}

haproxy_start() {
  local port
  for port in $(haproxy_ports); do require_free_port "$port" "haproxy fault frontend"; done
  command -v haproxy >/dev/null || die "haproxy is not installed (scripts/install-deps.sh --test)"
  local t0; t0=$(now)
  mkdir -p "$RUN/haproxy"
  local cfg="$RUN/haproxy/haproxy.cfg"
  # A self-signed certificate for 127.0.0.1, valid two days: it is its own CA (tls-ca.pem), which
  # tests hand to the client as ca_file. haproxy wants certificate and key in one file.
  command -v openssl >/dev/null || die "openssl is not installed (scripts/install-deps.sh --test)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=s3db test server" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$RUN/haproxy/tls.key" -out "$RUN/haproxy/tls-ca.pem" >>"$RUN/logs/haproxy.log" 2>&1 ||
    die "could not make the TLS test certificate (see $RUN/logs/haproxy.log)"
  cat "$RUN/haproxy/tls-ca.pem" "$RUN/haproxy/tls.key" >"$RUN/haproxy/tls.pem"
  sed -e "s|@LUA@|$HERE/servers/faults.lua|" \
      -e "s|@RGW_PORT@|$RGW_PORT|" \
      -e "s|@SLOWDOWN_PORT@|$FAULT_SLOWDOWN_PORT|" -e "s|@SLOWDOWN_PERCENT@|$FAULT_SLOWDOWN_PERCENT|g" \
      -e "s|@DROP_PORT@|$FAULT_DROP_PORT|" -e "s|@DROP_PERCENT@|$FAULT_DROP_PERCENT|g" \
      -e "s|@LATENCY_PORT@|$FAULT_LATENCY_PORT|" -e "s|@LATENCY_MS@|$FAULT_LATENCY_MS|g" \
      -e "s|@BLACKHOLE_PORT@|$FAULT_BLACKHOLE_PORT|" \
      -e "s|@RATELIMIT_PORT@|$FAULT_RATELIMIT_PORT|" -e "s|@RATELIMIT_RPS@|$FAULT_RATELIMIT_RPS|g" \
      -e "s|@AFTER_APPLY_PORT@|$FAULT_AFTER_APPLY_PORT|" -e "s|@AFTER_APPLY_PERCENT@|$FAULT_AFTER_APPLY_PERCENT|g" \
      -e "s|@TLS_PORT@|$TLS_PORT|" -e "s|@TLS_PEM@|$RUN/haproxy/tls.pem|" \
      "$HERE/servers/haproxy.cfg.in" >"$cfg"
  haproxy -c -q -f "$cfg" >>"$RUN/logs/haproxy.log" 2>&1 || {
    tail -n 20 "$RUN/logs/haproxy.log" >&2; die "invalid haproxy configuration ($cfg)"; }
  # -db: stay in the foreground so the request log (stdout) lands in logs/haproxy.log and the
  # pid we record is haproxy's own.
  spawn haproxy "$RUN/logs/haproxy.log" haproxy -db -f "$cfg"
  for port in $(haproxy_ports); do
    wait_until 15 "haproxy on port $port" port_listening "$port" || die "haproxy did not start (see $RUN/logs/haproxy.log)"
  done
  printf '%-10s %-34s started in %5ss (slowdown %s%%, drop %s%%, latency %sms, blackhole, ratelimit %s/s, tls, after-apply %s%%)\n' \
    "haproxy" "127.0.0.1:$FAULT_SLOWDOWN_PORT-$FAULT_AFTER_APPLY_PORT" "$(elapsed "$t0")" \
    "$FAULT_SLOWDOWN_PERCENT" "$FAULT_DROP_PERCENT" "$FAULT_LATENCY_MS" "$FAULT_RATELIMIT_RPS" "$FAULT_AFTER_APPLY_PERCENT"
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
