// Internal: a concurrency limit shared by every process, as leases held in Redis (issue 11), with
// a fair share for each holder.
//
// Contract
// - The limit's state is two sorted sets per limit key, with scores in Redis's own milliseconds
//   (TIME; the clients' clocks are never used):
//     <key>:leases  member = lease id "<holder>:<n>" (n from INCR <key>:seq: never reused),
//                   score = its expiry
//     <key>:wants   member = holder that wants more permits than it holds, score = its expiry
//                   (the lease ttl: a holder that stops saying so, or dies, drops out)
//   Every script first drops expired leases and wants, then acts, in one atomic step: no permit
//   is counted twice, the leases never outnumber the limit, and a lease that expired cannot be
//   renewed (its permit may already be someone else's).
// - Fairness, computed by every acquire and renew (`want` = the holder's demand, capped at the
//   limit by the caller; a holder that counts is one that holds leases or has a live want):
//     | share    | ⌈limit / holders that count⌉ (this one included when it holds or wants; the limit  |
//     |          | when none count)                                                                  |
//     | waiting  | other holders with a live want that hold fewer than `share`                       |
//     | acquire  | grants min(n, free permits); while waiting > 0, at most share − held (never beyond  |
//     |          | its share while another holder is below its own)                                  |
//     | want     | after acquire / renew: registered (expiry now + ttl) if want > held, else removed  |
//   A holder told `share` < held while `waiting` > 0 is expected to return the excess (SharedLimit
//   does): together with the acquire rule, the others' permits converge to their shares.
// - acquire(n, want): up to n leases (0 is a valid answer, and n = 0 only refreshes the want).
// - renew(ids, want): pushes the expiry of the given leases to now + ttl; answers those that were
//   lost (expired before the renewal: the holder must stop counting them). Empty ids are allowed
//   (a holder without leases refreshing or dropping its want).
// - release(ids): removes them; unknown ids are ignored. The want is left as it is.
// - Cost: acquire and renew read every live lease (O(limit)) and every want.
// - A process that dies holds its leases, and keeps its want, until they expire: at most one ttl.
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
  struct Fairness {
    int share = 0;    // ⌈limit / holders that hold or want⌉
    int waiting = 0;  // other holders wanting more, below `share`
  };
  struct Grant {
    std::vector<std::string> ids;  // the leases granted
    Fairness fair;
  };
  struct Renewal {
    std::vector<std::string> lost;  // expired before the renewal
    Fairness fair;
  };

  PermitLeases(RedisConnection conn, std::string key, int global_limit, std::chrono::milliseconds ttl,
               std::string holder);

  Result<Grant> acquire(int n, int want);
  Result<Renewal> renew(const std::vector<std::string>& ids, int want);
  Status release(const std::vector<std::string>& ids);
  Result<int> held_by_all();  // live leases of every holder (metrics, tests)

  const std::string& holder() const noexcept { return holder_; }
  bool wanting() const noexcept { return wanting_; }  // the last script registered our want

 private:
  RedisConnection conn_;
  std::string key_, seq_key_, wants_key_;
  int limit_;
  std::chrono::milliseconds ttl_;
  std::string holder_;
  bool wanting_ = false;
};

}  // namespace s3db::coord
