// s3db/shared_limit.h: the config's one check and the event names.
#include <s3db/shared_limit.h>

#include <cmath>

namespace s3db {

std::string_view event_name(SharedLimitEvent::Kind k) noexcept {
  switch (k) {
    case SharedLimitEvent::Kind::kFallback: return "fallback";
    case SharedLimitEvent::Kind::kResumed: return "resumed";
    case SharedLimitEvent::Kind::kLeasesLost: return "leases_lost";
  }
  return "unknown";
}

Status check(const SharedLimitConfig& c) {
  const auto bad = [](const char* field, const char* why) { return Status::InvalidArgument(field, why); };
  if (c.global_concurrency < 0) return bad("global_concurrency", "must be at least 1 (0 = no shared limit)");
  if (c.global_concurrency > 0 && c.redis_url.empty()) return bad("global_concurrency", "needs a Redis URL (redis)");
  for (auto [name, rate] : {std::pair{"rate_put", c.rate_put}, std::pair{"rate_get", c.rate_get}}) {
    if (!std::isfinite(rate) || rate < 0) return bad(name, "must be a number of requests per second, 0 = no cap");
  }
  if (!c.redis_url.empty() && c.global_concurrency == 0 && c.rate_put == 0 && c.rate_get == 0) {
    return bad("redis", "shares nothing: set global_concurrency, rate_put or rate_get");
  }
  if (c.lease_ttl < std::chrono::milliseconds(100)) return bad("lease_ttl", "must be at least 100 ms");
  if (c.fallback < 0) return bad("fallback", "must be 0 or more permits");
  if (!(c.fallback_rate_share > 0 && c.fallback_rate_share <= 1)) return bad("fallback_rate_share", "must be in (0, 1]");
  return Status::OK();
}

}  // namespace s3db
