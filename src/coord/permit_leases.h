// Internal: a concurrency limit shared by every process, as leases held in Redis (issue 11).
//
// Contract
// - The limit's state is one sorted set per limit key: member = lease id ("<holder>:<n>", n from
//   INCR, so an id is never reused), score = its expiry in Redis's own milliseconds (TIME; the
//   clients' clocks are never used). Every script first drops expired leases, then acts, in one
//   atomic step: no permit is counted twice, and a lease that expired cannot be renewed (its
//   permit may already be someone else's).
// - acquire(n): up to n leases, as many as the limit has free now (0 is a valid answer).
// - renew(ids): pushes the expiry of the given leases to now + ttl; returns those that were lost
//   (expired before the renewal: the holder must stop counting them).
// - release(ids): removes them; unknown ids are ignored.
// - A process that dies holds its leases until they expire: at most one ttl.
// - Errors are the connection's (Unavailable, Unauthorized, Internal). Not thread-safe (one
//   connection): the pool's coordinator thread owns it.
#pragma once

#include "coord/redis_connection.h"

#include <chrono>
#include <string>
#include <vector>

namespace s3db::coord {

class PermitLeases {
 public:
  PermitLeases(RedisConnection conn, std::string key, int global_limit, std::chrono::milliseconds ttl,
               std::string holder);

  Result<std::vector<std::string>> acquire(int n);
  Result<std::vector<std::string>> renew(const std::vector<std::string>& ids);  // → lost ids
  Status release(const std::vector<std::string>& ids);
  Result<int> held_by_all();  // live leases of every holder (metrics, tests)

  const std::string& holder() const noexcept { return holder_; }

 private:
  RedisConnection conn_;
  std::string key_, seq_key_;
  int limit_;
  std::chrono::milliseconds ttl_;
  std::string holder_;
};

}  // namespace s3db::coord
