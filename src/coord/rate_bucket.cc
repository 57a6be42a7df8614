#include "coord/rate_bucket.h"

#include <cmath>
#include <cstdio>

namespace s3db::coord {

namespace {

// KEYS: bucket. ARGV: rate per ms, burst, n. → {granted, ms to wait when none}.
const Script kTake{
    "if redis.replicate_commands then redis.replicate_commands() end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000\n"
    "local rate, burst, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')\n"
    "local tokens, at = tonumber(b[1]), tonumber(b[2])\n"
    "if tokens == nil then tokens, at = burst, now end\n"
    "tokens = math.min(burst, tokens + math.max(0, now - at) * rate)\n"
    "local granted = math.min(n, math.floor(tokens))\n"
    "local wait = 0\n"
    "if granted > 0 then tokens = tokens - granted else wait = math.max(1, math.ceil((1 - tokens) / rate)) end\n"
    "redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))\n"
    "redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)\n"
    "return {granted, wait}\n"};

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

RateBucket::RateBucket(RedisConnection conn, std::string key, double per_second, double burst)
    : conn_(std::move(conn)), key_(std::move(key)), rate_(per_second), burst_(burst) {}

Result<RateBucket::Grant> RateBucket::take(int n) {
  if (n < 1) return Status::InvalidArgument("rate " + key_, "take at least one token");
  auto r = conn_.eval(kTake, {key_}, {number(rate_ / 1000.0), number(burst_), std::to_string(n)});
  if (!r.ok()) return r.status();
  if (r->elements.size() != 2) return Status::Internal("rate " + key_, "unexpected reply to the take script");
  return Grant{static_cast<int>(r->elements[0].integer), std::chrono::milliseconds(r->elements[1].integer)};
}

}  // namespace s3db::coord
