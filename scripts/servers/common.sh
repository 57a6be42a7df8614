# shellcheck shell=bash
# Shared helpers of scripts/test-servers.sh (sourced, not executed).
# Every wait here is bounded; every process is tracked by a pid file under $RUN/pids.

# Fixed test credentials: letters and digits only, so they sit in a URL without escaping.
S3DB_TEST_ACCESS_KEY=${S3DB_TEST_ACCESS_KEY:-S3DBTESTACCESSKEY001}
S3DB_TEST_SECRET_KEY=${S3DB_TEST_SECRET_KEY:-s3dbTestSecretKey0123456789abcdefABCDEFG}
S3DB_TEST_BUCKET=${S3DB_TEST_BUCKET:-s3db-test}

# Ports (127.0.0.1 only). Overridable so two clones can run side by side.
MON_PORT=${S3DB_TEST_MON_PORT:-3300}
RGW_PORT=${S3DB_TEST_RGW_PORT:-7480}
S3RVER_PORT=${S3DB_TEST_S3RVER_PORT:-4568}
REDIS_PORT=${S3DB_TEST_REDIS_PORT:-6390}
FAULT_SLOWDOWN_PORT=${S3DB_TEST_FAULT_SLOWDOWN_PORT:-7481}
FAULT_DROP_PORT=${S3DB_TEST_FAULT_DROP_PORT:-7482}
FAULT_LATENCY_PORT=${S3DB_TEST_FAULT_LATENCY_PORT:-7483}
FAULT_BLACKHOLE_PORT=${S3DB_TEST_FAULT_BLACKHOLE_PORT:-7484}
FAULT_RATELIMIT_PORT=${S3DB_TEST_FAULT_RATELIMIT_PORT:-7485}
TLS_PORT=${S3DB_TEST_TLS_PORT:-7486}
FAULT_AFTER_APPLY_PORT=${S3DB_TEST_FAULT_AFTER_APPLY_PORT:-7487}

# Fault parameters (see scripts/servers/haproxy.cfg.in and docs/testing.md).
FAULT_SLOWDOWN_PERCENT=${S3DB_TEST_FAULT_SLOWDOWN_PERCENT:-30}
FAULT_DROP_PERCENT=${S3DB_TEST_FAULT_DROP_PERCENT:-30}
FAULT_LATENCY_MS=${S3DB_TEST_FAULT_LATENCY_MS:-50}
FAULT_RATELIMIT_RPS=${S3DB_TEST_FAULT_RATELIMIT_RPS:-50}
FAULT_AFTER_APPLY_PERCENT=${S3DB_TEST_FAULT_AFTER_APPLY_PERCENT:-30}

now() { echo "${EPOCHREALTIME/,/.}"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '%s\n' "$*" >&2; }
die() { say "test-servers: $*"; exit 1; }

# pid_alive PID: true when PID runs and is not a zombie.
pid_alive() {
  local pid=$1 state
  [[ -n "$pid" && -r /proc/$pid/stat ]] || return 1
  state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ "$state" != Z && "$state" != X ]]
}

pidfile_alive() { [[ -f "$1" ]] && pid_alive "$(cat "$1" 2>/dev/null)"; }

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s until it succeeds.
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline; deadline=$(awk -v n="$(now)" -v l="$limit" 'BEGIN { printf "%.3f", n + l }')
  while ! "$@" >/dev/null 2>&1; do
    if awk -v n="$(now)" -v d="$deadline" 'BEGIN { exit !(n > d) }'; then
      say "test-servers: timed out after ${limit}s waiting for $what"
      return 1
    fi
    sleep 0.1
  done
}

port_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# Refuses to start over a port someone else holds (an orphan from a lost run dir, another
# service): we never kill processes we did not start.
require_free_port() {
  local port=$1 name=$2
  if port_listening "$port"; then
    say "test-servers: port $port ($name) is already in use on this machine:"
    ss -Hltnp "sport = :$port" >&2 || true
    die "stop that process (or set S3DB_TEST_*_PORT) and retry"
  fi
}

# stop_pidfile FILE: SIGTERM, up to 3 s grace, then SIGKILL; removes the file.
stop_pidfile() {
  local file=$1 pid i
  [[ -f "$file" ]] || return 0
  pid=$(cat "$file" 2>/dev/null || true)
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 30; i++)); do pid_alive "$pid" || break; sleep 0.1; done
    if pid_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    for ((i = 0; i < 30; i++)); do pid_alive "$pid" || break; sleep 0.1; done
  fi
  rm -f "$file"
}

# spawn NAME LOG COMMAND...: runs COMMAND detached (own session), records its pid.
spawn() {
  local name=$1 log=$2; shift 2
  # 9>&-: the lock fd of test-servers.sh must not live on in the daemon.
  setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
  echo $! >"$RUN/pids/$name.pid"
}

# S3 request signed with SigV4 by curl (an empty body: curl 7.88 needs the payload hash header).
signed_curl() {
  local empty_sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
  curl -sS --max-time 30 --aws-sigv4 "aws:amz:us-east-1:s3" \
    --user "$S3DB_TEST_ACCESS_KEY:$S3DB_TEST_SECRET_KEY" \
    -H "x-amz-content-sha256: $empty_sha256" "$@"
}

# http_code URL: the status code of an anonymous GET (000 when nothing answers).
http_code() { curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$1" 2>/dev/null || true; }
answers_http() { [[ "$(http_code "$1")" != 000 ]]; }
