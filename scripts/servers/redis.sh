# shellcheck shell=bash
# redis-server on 127.0.0.1, no persistence (the shared concurrency limit's tests).
# Sourced by scripts/test-servers.sh.

redis_start() {
  require_free_port "$REDIS_PORT" "redis"
  command -v redis-server >/dev/null || die "redis-server is not installed (scripts/install-deps.sh --test)"
  local t0; t0=$(now)
  mkdir -p "$RUN/redis"
  # Foreground (daemonize no) under our own pid file: spawn records the real pid.
  spawn redis "$RUN/logs/redis.log" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
    --protected-mode yes --save "" --appendonly no --dir "$RUN/redis" --daemonize no
  wait_until 15 "redis on port $REDIS_PORT" redis_ping || die "redis did not start (see $RUN/logs/redis.log)"
  printf '%-10s %-34s started in %5ss\n' "redis" "redis://127.0.0.1:$REDIS_PORT" "$(elapsed "$t0")"
}

# PING over a raw socket: needs no redis-cli.
redis_ping() {
  local reply
  reply=$(exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3)
  [[ "$reply" == "+PONG" ]]
}

redis_stop() {
  stop_pidfile "$RUN/pids/redis.pid"
  rm -rf "$RUN/redis"
}

redis_status() {
  if pidfile_alive "$RUN/pids/redis.pid" && redis_ping; then
    echo "redis      running  redis://127.0.0.1:$REDIS_PORT"
  else
    echo "redis      DOWN"; return 1
  fi
}
