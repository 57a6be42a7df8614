# shellcheck shell=bash
# s3rver (@20minutes/s3rver 4.0.4, Node) on 127.0.0.1. Sourced by scripts/test-servers.sh.

s3rver_module() { echo "$ROOT/.deps/s3rver/node_modules/@20minutes/s3rver"; }

s3rver_start() {
  require_free_port "$S3RVER_PORT" "s3rver"
  local t0; t0=$(now)
  if [[ ! -f "$(s3rver_module)/package.json" ]]; then
    say "test-servers: installing s3rver (scripts/install-s3rver.sh)"
    "$ROOT/scripts/install-s3rver.sh" || die "installing s3rver failed"
  fi
  command -v node >/dev/null || die "node is not installed (scripts/install-deps.sh --test)"
  mkdir -p "$RUN/s3rver"
  # --openssl-legacy-provider: s3rver encrypts list continuation tokens with a cipher that
  # OpenSSL 3 only offers through the legacy provider.
  spawn s3rver "$RUN/logs/s3rver.log" env NODE_OPTIONS=--openssl-legacy-provider \
    S3RVER_MODULE="$(s3rver_module)" S3RVER_DIR="$RUN/s3rver" S3RVER_PORT="$S3RVER_PORT" \
    S3RVER_KEY="$S3DB_TEST_ACCESS_KEY" S3RVER_SECRET="$S3DB_TEST_SECRET_KEY" \
    S3RVER_BUCKET="$S3DB_TEST_BUCKET" S3RVER_VERBOSE="${S3DB_TEST_S3RVER_VERBOSE:-0}" \
    node "$HERE/servers/s3rver.js"
  if ! wait_until 30 "s3rver on port $S3RVER_PORT" s3rver_bucket_ok; then
    tail -n 20 "$RUN/logs/s3rver.log" >&2 || true
    die "s3rver did not start"
  fi
  printf '%-10s %-34s started in %5ss\n' "s3rver" "http://127.0.0.1:$S3RVER_PORT/$S3DB_TEST_BUCKET" "$(elapsed "$t0")"
}

# The bucket answers a signed HEAD with 200: the server is up and accepts our credentials.
s3rver_bucket_ok() {
  [[ "$(signed_curl -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$S3RVER_PORT/$S3DB_TEST_BUCKET")" == 200 ]]
}

s3rver_stop() {
  stop_pidfile "$RUN/pids/s3rver.pid"
  rm -rf "$RUN/s3rver"
}

s3rver_status() {
  if pidfile_alive "$RUN/pids/s3rver.pid" && answers_http "http://127.0.0.1:$S3RVER_PORT/"; then
    echo "s3rver     running  http://127.0.0.1:$S3RVER_PORT/$S3DB_TEST_BUCKET"
  else
    echo "s3rver     DOWN"; return 1
  fi
}
