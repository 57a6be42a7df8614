#include "coord/permit_leases.h"

#include <algorithm>

namespace s3db::coord {

namespace {

// Now in Redis's milliseconds; expired leases dropped. Shared head of every script.
#define S3DB_LEASES_PROLOGUE                                                   \
  "if redis.replicate_commands then redis.replicate_commands() end\n"         \
  "local t = redis.call('TIME')\n"                                            \
  "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"   \
  "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n"

// KEYS: leases, wants. ARGV: holder, limit, ttl_ms, want. Expired wants dropped; sets `held`
// (holder → leases, from the ids' "<holder>:" prefix; 0 for a holder that only wants), `total`,
// `mine`, `share` and `waiting` (permit_leases.h).
#define S3DB_LEASES_FAIRNESS                                                   \
  "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)\n"                    \
  "local me, limit, want = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[4])\n"   \
  "local held, holders, total = {}, 0, 0\n"                                   \
  "for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"            \
  "  local h = string.match(id, '^(.*):') or id\n"                            \
  "  if not held[h] then held[h] = 0; holders = holders + 1 end\n"            \
  "  held[h] = held[h] + 1\n"                                                 \
  "  total = total + 1\n"                                                     \
  "end\n"                                                                     \
  "local wants = redis.call('ZRANGE', KEYS[2], 0, -1)\n"                      \
  "for _, h in ipairs(wants) do\n"                                            \
  "  if h ~= me and not held[h] then held[h] = 0; holders = holders + 1 end\n" \
  "end\n"                                                                     \
  "local mine = held[me] or 0\n"                                              \
  "if mine == 0 and want > 0 then holders = holders + 1 end\n"                \
  "local share = limit\n"                                                     \
  "if holders > 0 then share = math.ceil(limit / holders) end\n"              \
  "local waiting = 0\n"                                                       \
  "for _, h in ipairs(wants) do\n"                                            \
  "  if h ~= me and held[h] < share then waiting = waiting + 1 end\n"         \
  "end\n"

// After the act: this holder's want registered (it wants more than it holds) or removed; the
// answer's first three elements become share, waiting, wanting.
#define S3DB_LEASES_WANT(OUT)                                                  \
  "local wanting = 0\n"                                                       \
  "if want > mine then\n"                                                     \
  "  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), me)\n"              \
  "  wanting = 1\n"                                                           \
  "else\n"                                                                    \
  "  redis.call('ZREM', KEYS[2], me)\n"                                       \
  "end\n"                                                                     \
  OUT "[1], " OUT "[2], " OUT "[3] = share, waiting, wanting\n"               \
  "return " OUT "\n"

// KEYS: leases, wants, sequence. ARGV: holder, limit, ttl_ms, want, n.
// → share, waiting, wanting, the ids granted...
const Script kAcquire{
    S3DB_LEASES_PROLOGUE S3DB_LEASES_FAIRNESS
    "local n = math.min(tonumber(ARGV[5]), limit - total)\n"
    "if waiting > 0 then n = math.min(n, share - mine) end\n"
    "local out = {0, 0, 0}\n"
    "for i = 1, n do\n"
    "  local id = me .. ':' .. redis.call('INCR', KEYS[3])\n"
    "  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), id)\n"
    "  out[#out + 1] = id\n"
    "  mine = mine + 1\n"
    "end\n"
    S3DB_LEASES_WANT("out")};

// KEYS: leases, wants. ARGV: holder, limit, ttl_ms, want, ids...
// → share, waiting, wanting, the ids lost (expired before this renewal)...
const Script kRenew{
    S3DB_LEASES_PROLOGUE
    "local lost = {0, 0, 0}\n"
    "for i = 5, #ARGV do\n"
    "  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then\n"
    "    redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[3]), ARGV[i])\n"
    "  else\n"
    "    lost[#lost + 1] = ARGV[i]\n"
    "  end\n"
    "end\n"
    S3DB_LEASES_FAIRNESS S3DB_LEASES_WANT("lost")};

// KEYS: leases. → live leases of every holder.
const Script kCount{S3DB_LEASES_PROLOGUE "return redis.call('ZCARD', KEYS[1])\n"};

#undef S3DB_LEASES_PROLOGUE
#undef S3DB_LEASES_FAIRNESS
#undef S3DB_LEASES_WANT

// The answer of acquire and renew: share, waiting, wanting, then ids.
PermitLeases::Fairness parse(const Reply& r, std::vector<std::string>& ids, bool& wanting) {
  PermitLeases::Fairness f;
  if (r.elements.size() < 3) return f;
  f.share = static_cast<int>(r.elements[0].integer);
  f.waiting = static_cast<int>(r.elements[1].integer);
  wanting = r.elements[2].integer != 0;
  ids.reserve(r.elements.size() - 3);
  for (std::size_t i = 3; i < r.elements.size(); ++i) ids.push_back(r.elements[i].str);
  return f;
}

}  // namespace

PermitLeases::PermitLeases(RedisConnection conn, std::string key, int global_limit, std::chrono::milliseconds ttl,
                           std::string holder)
    : conn_(std::move(conn)), key_(key + ":leases"), seq_key_(key + ":seq"), wants_key_(key + ":wants"),
      limit_(global_limit), ttl_(ttl), holder_(std::move(holder)) {}

Result<PermitLeases::Grant> PermitLeases::acquire(int n, int want) {
  auto r = conn_.eval(kAcquire, {key_, wants_key_, seq_key_},
                      {holder_, std::to_string(limit_), std::to_string(ttl_.count()), std::to_string(want),
                       std::to_string(std::max(n, 0))});
  if (!r.ok()) return r.status();
  Grant g;
  g.fair = parse(*r, g.ids, wanting_);
  return g;
}

Result<PermitLeases::Renewal> PermitLeases::renew(const std::vector<std::string>& ids, int want) {
  std::vector<std::string> args = {holder_, std::to_string(limit_), std::to_string(ttl_.count()), std::to_string(want)};
  args.insert(args.end(), ids.begin(), ids.end());
  auto r = conn_.eval(kRenew, {key_, wants_key_}, args);
  if (!r.ok()) return r.status();
  Renewal out;
  out.fair = parse(*r, out.lost, wanting_);
  return out;
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
