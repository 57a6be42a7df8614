#!/usr/bin/env bash
# Starts and stops the servers of s3db's tests, all on 127.0.0.1, all state under one run dir.
#
#   scripts/test-servers.sh start [SERVER...]   (re)start all, or only the named ones among
#                                                ceph s3rver haproxy redis
#   scripts/test-servers.sh stop                 stop everything started here, remove its state
#   scripts/test-servers.sh status               one line per server; exit 1 if any is down
#   scripts/test-servers.sh env                  print the path of servers.env
#
# Run dir: $S3DB_RUN_DIR, default <repo>/.run (derived from this script's location, so any clone
# works). After start, `source <run>/servers.env` exports the S3DB_TEST_* URLs the tests read
# (docs/testing.md lists them). Logs: <run>/logs/. Needs root (Ceph daemons) on Debian 12 with
# scripts/install-deps.sh --test done. Only processes recorded in <run>/pids are ever stopped.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
RUN=${S3DB_RUN_DIR:-$ROOT/.run}

# shellcheck source=servers/common.sh
source "$HERE/servers/common.sh"
source "$HERE/servers/ceph.sh"
source "$HERE/servers/s3rver.sh"
source "$HERE/servers/haproxy.sh"
source "$HERE/servers/redis.sh"

ALL_SERVERS=(ceph s3rver haproxy redis)
ENV_FILE="$RUN/servers.env"

url() { echo "http://$S3DB_TEST_ACCESS_KEY:$S3DB_TEST_SECRET_KEY@127.0.0.1:$1/$S3DB_TEST_BUCKET"; }

write_env() {
  local s tmp="$ENV_FILE.tmp"
  {
    echo "# Written by scripts/test-servers.sh start — source it before running the tests."
    echo "export AWS_ACCESS_KEY_ID=$S3DB_TEST_ACCESS_KEY"
    echo "export AWS_SECRET_ACCESS_KEY=$S3DB_TEST_SECRET_KEY"
    echo "export AWS_DEFAULT_REGION=us-east-1"
    for s in "$@"; do
      case $s in
        ceph)
          echo "export S3DB_TEST_RGW_URL=$(url "$RGW_PORT")"
          echo "export S3DB_TEST_RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT" ;;
        s3rver)
          echo "export S3DB_TEST_S3RVER_URL=$(url "$S3RVER_PORT")"
          echo "export S3DB_TEST_S3RVER_ENDPOINT=http://127.0.0.1:$S3RVER_PORT" ;;
        haproxy)
          echo "export S3DB_TEST_FAULT_SLOWDOWN_URL=$(url "$FAULT_SLOWDOWN_PORT")"
          echo "export S3DB_TEST_FAULT_DROP_URL=$(url "$FAULT_DROP_PORT")"
          echo "export S3DB_TEST_FAULT_LATENCY_URL=$(url "$FAULT_LATENCY_PORT")"
          echo "export S3DB_TEST_FAULT_BLACKHOLE_URL=$(url "$FAULT_BLACKHOLE_PORT")"
          echo "export S3DB_TEST_FAULT_RATELIMIT_URL=$(url "$FAULT_RATELIMIT_PORT")"
          echo "export S3DB_TEST_FAULT_AFTER_APPLY_URL=$(url "$FAULT_AFTER_APPLY_PORT")"
          echo "export S3DB_TEST_TLS_URL=https://$S3DB_TEST_ACCESS_KEY:$S3DB_TEST_SECRET_KEY@127.0.0.1:$TLS_PORT/$S3DB_TEST_BUCKET"
          echo "export S3DB_TEST_TLS_CA=$RUN/haproxy/tls-ca.pem" ;;
        redis)
          echo "export S3DB_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT" ;;
      esac
    done
  } >"$tmp"
  mv "$tmp" "$ENV_FILE"
}

stop_all() {
  [[ -d "$RUN" ]] || return 0
  mkdir -p "$RUN/pids"
  haproxy_stop
  s3rver_stop
  redis_stop
  ceph_stop
  rm -f "$ENV_FILE"
  rm -rf "$RUN/pids"
}

# Servers whose processes are alive (they go into servers.env).
running_servers() {
  pidfile_alive "$RUN/pids/ceph-client.rgw.pid" && echo ceph
  pidfile_alive "$RUN/pids/s3rver.pid" && echo s3rver
  pidfile_alive "$RUN/pids/haproxy.pid" && echo haproxy
  pidfile_alive "$RUN/pids/redis.pid" && echo redis
  return 0
}

# No names: stop everything, start everything. Names: restart only those, leave the others.
start_servers() {
  local s want=("$@")
  for s in "${want[@]}"; do
    [[ " ${ALL_SERVERS[*]} " == *" $s "* ]] || die "unknown server '$s' (known: ${ALL_SERVERS[*]})"
  done
  if ((${#want[@]} == 0)); then
    want=("${ALL_SERVERS[@]}")
    stop_all
    rm -rf "$RUN/logs"
  else
    mkdir -p "$RUN/pids"
    for s in "${want[@]}"; do "${s}_stop"; done
  fi
  mkdir -p "$RUN/pids" "$RUN/logs"
  # A failed start leaves nothing running (logs stay for the post-mortem).
  trap 'say "test-servers: start failed, stopping everything (logs in $RUN/logs)"; stop_all' EXIT
  local t0; t0=$(now)
  # Fault frontends proxy to RGW: start Ceph first, haproxy after it. The others are quick.
  for s in ceph redis s3rver haproxy; do
    if [[ " ${want[*]} " == *" $s "* ]]; then "${s}_start"; fi
  done
  trap - EXIT
  # shellcheck disable=SC2046
  write_env $(running_servers)
  echo "started in $(elapsed "$t0")s; env: source $ENV_FILE"
}

status_all() {
  local rc=0
  ceph_status || rc=1
  s3rver_status || rc=1
  haproxy_status || rc=1
  redis_status || rc=1
  return $rc
}

main() {
  local cmd=${1:-}
  [[ $# -gt 0 ]] && shift
  case $cmd in
    start|stop|restart)
      mkdir -p "$RUN"
      # One start/stop at a time per run dir (several shells may share a clone).
      exec 9>"$RUN/.lock"
      flock -w 300 9 || die "another test-servers.sh holds $RUN/.lock"
      if [[ $cmd == stop ]]; then stop_all; echo "stopped"; else start_servers "$@"; fi ;;
    status) status_all ;;
    env) echo "$ENV_FILE" ;;
    *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
}

main "$@"
