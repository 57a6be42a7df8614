#include "coord/permit_leases.h"

namespace s3db::coord {

namespace {

// Now in Redis's milliseconds; expired leases dropped. Shared head of every script.
#define S3DB_LEASES_PROLOGUE                                                   \
  "if redis.replicate_commands then redis.replicate_commands() end\n"         \
  "local t = redis.call('TIME')\n"                                            \
  "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"   \
  "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"

// KEYS: leases, sequence. ARGV: holder, wanted, limit, ttl_ms. → the ids granted.
const Script kAcquire{
    S3DB_LEASES_PROLOGUE
    "local n = math.min(tonumber(ARGV[2]), tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1]))\n"
    "local out = {}\n"
    "for i = 1, n do\n"
    "  local id = ARGV[1] .. ':' .. redis.call('INCR', KEYS[2])\n"
    "  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), id)\n"
    "  out[#out + 1] = id\n"
    "end\n"
    "return out\n"};

// KEYS: leases. ARGV: ttl_ms, ids... → the ids lost (expired before this renewal).
const Script kRenew{
    S3DB_LEASES_PROLOGUE
    "local lost = {}\n"
    "for i = 2, #ARGV do\n"
    "  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then\n"
    "    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i])\n"
    "  else\n"
    "    lost[#lost + 1] = ARGV[i]\n"
    "  end\n"
    "end\n"
    "return lost\n"};

// KEYS: leases. → live leases of every holder.
const Script kCount{S3DB_LEASES_PROLOGUE "return redis.call('ZCARD', KEYS[1])\n"};

#undef S3DB_LEASES_PROLOGUE

std::vector<std::string> ids_of(const Reply& r) {
  std::vector<std::string> out;
  out.reserve(r.elements.size());
  for (const Reply& e : r.elements) out.push_back(e.str);
  return out;
}

}  // namespace

PermitLeases::PermitLeases(RedisConnection conn, std::string key, int global_limit, std::chrono::milliseconds ttl,
                           std::string holder)
    : conn_(std::move(conn)), key_(key + ":leases"), seq_key_(key + ":seq"), limit_(global_limit), ttl_(ttl),
      holder_(std::move(holder)) {}

Result<std::vector<std::string>> PermitLeases::acquire(int n) {
  if (n <= 0) return std::vector<std::string>{};
  auto r = conn_.eval(kAcquire, {key_, seq_key_},
                      {holder_, std::to_string(n), std::to_string(limit_), std::to_string(ttl_.count())});
  if (!r.ok()) return r.status();
  return ids_of(*r);
}

Result<std::vector<std::string>> PermitLeases::renew(const std::vector<std::string>& ids) {
  if (ids.empty()) return std::vector<std::string>{};
  std::vector<std::string> args = {std::to_string(ttl_.count())};
  args.insert(args.end(), ids.begin(), ids.end());
  auto r = conn_.eval(kRenew, {key_}, args);
  if (!r.ok()) return r.status();
  return ids_of(*r);
}

Status PermitLeases::release(const std::vector<std::string>& ids) {
  if (ids.empty()) return Status::OK();
  std::vector<std::string> argv = {"ZREM", key_};
  argv.insert(argv.end(), ids.begin(), ids.end());
  auto r = conn_.command(argv);
  return r.ok() ? Status::OK() : r.status();
}

Result<int> PermitLeases::held_by_all() {
  auto r = conn_.eval(kCount, {key_}, {});
  if (!r.ok()) return r.status();
  return static_cast<int>(r->integer);
}

}  // namespace s3db::coord
