// Internal: a request-rate cap shared by every process (issue 11: e.g. rate_put=3500 per prefix),
// as a token bucket held in Redis and refilled by Redis's own clock (TIME).
//
// Contract
// - One hash per bucket key: tokens (fractional) and the time of the last refill (ms). take(n)
//   refills by rate × elapsed (capped at `burst`), then takes as many whole tokens as it holds,
//   up to n: → {granted, 0}. When it holds none, nothing is taken and it answers how long until
//   one is there: {0, wait ≥ 1 ms}; the caller waits that long (its own clock) and asks again.
//   All in one atomic script. n < 1 → InvalidArgument.
// - The bucket's key expires after it has been idle long enough to be full again.
// - Errors are the connection's. Not thread-safe (one connection).
#pragma once

#include "coord/redis_connection.h"

#include <chrono>
#include <string>

namespace s3db::coord {

class RateBucket {
 public:
  RateBucket(RedisConnection conn, std::string key, double per_second, double burst);
  struct Grant {
    int granted = 0;
    std::chrono::milliseconds wait{0};  // with granted == 0: when to ask again
  };
  Result<Grant> take(int n = 1);

 private:
  RedisConnection conn_;
  std::string key_;
  double rate_, burst_;
};

}  // namespace s3db::coord
