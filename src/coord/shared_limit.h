// coord::SharedLimit — caps an OperationPool at the permits it holds of a concurrency limit shared
// by every process (PermitLeases in Redis), leasing and returning them as the pool's demand moves.
//
// Contract
// - start(): connects (a bad URL, a wrong password, nobody listening → that error, once, naming
//   the URL without its password), caps the pool at 0 (nothing starts without a permit) and
//   starts the coordinator thread. The pool must outlive the SharedLimit.
// - The coordinator, every `tick`: demand = the pool's active + queued ops. Below the demand (and
//   the global limit) it leases up to `batch` more permits at a time, then raises the cap; above
//   it, it lowers the cap first and returns only permits no running op can be using (held −
//   max(new cap, active)), so a permit is never counted by two processes. Every lease is renewed
//   in one script call every ttl / 3; a lease reported lost (it expired: Redis restarted, or the
//   renewal came too late) leaves the cap at once. No Redis round trip happens on an op's path.
// - Fairness (PermitLeases' rule): the demand goes with every acquire and renewal as the want;
//   while another process waits below its fair share, the cap is at most ours (⌈global / holders
//   holding or wanting⌉) and the excess is returned as above: lower cap first, permits no running
//   op uses at once, the rest at the next ticks as ops end. A busy process hears of a waiting one
//   at its next renewal at the latest (a process short of permits asks every tick), so a waiting
//   process gets its share within ttl / 3 plus the time the busier one's running ops take to end.
// - Redis away (any error of a script): the pool is capped at `fallback` (its local share) and
//   the coordinator reconnects every `retry` until Redis answers; then it starts over from 0
//   permits (the old leases expire by themselves within a ttl). The state is in stats().
// - A process killed with -9 holds its permits at most one ttl (PermitLeases).
// - ~SharedLimit(): stops the thread, returns every lease it holds, withdraws its want, removes
//   the cap.
// - Thread safety: stats() from any thread; nothing else is called concurrently.
#pragma once

#include <s3db/operation_pool.h>
#include <s3db/status.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "coord/permit_leases.h"

namespace s3db::coord {

struct SharedLimitOptions {
  std::string redis_url;           // redis://… or unix://… (coord/redis_connection.h)
  std::string key = "s3db:limit";  // one limit per key
  int global_concurrency = 16;     // permits for every process together
  std::chrono::milliseconds lease_ttl{10000};
  int batch = 4;                   // permits leased in one round trip at most
  int fallback = 4;                // the pool's cap while Redis is away
  std::chrono::milliseconds tick{10};
  std::chrono::milliseconds retry{1000};  // reconnect period while Redis is away
  std::chrono::milliseconds redis_timeout{2000};
};

struct SharedLimitStats {
  int held = 0;                 // permits leased now
  bool fallback = false;        // Redis away: capped at the local share
  std::uint64_t leased = 0;     // permits leased since start
  std::uint64_t returned = 0;   // permits returned
  std::uint64_t renewals = 0;   // renewal rounds
  std::uint64_t lost = 0;       // leases found expired at renewal
  std::uint64_t fallbacks = 0;  // times Redis went away
  std::uint64_t excess_returned = 0;  // of `returned`: above the fair share, for a waiting process
};

class SharedLimit {
 public:
  static Result<std::unique_ptr<SharedLimit>> start(OperationPool& pool, SharedLimitOptions options);
  ~SharedLimit();
  SharedLimit(const SharedLimit&) = delete;
  SharedLimit& operator=(const SharedLimit&) = delete;

  SharedLimitStats stats() const;

 private:
  SharedLimit(OperationPool& pool, SharedLimitOptions options, RedisUrl url, PermitLeases leases);
  void run();
  bool step();  // one round in shared mode; false when Redis failed
  void enter_fallback(const Status& why);
  bool reconnect();
  void set_cap(int n);

  OperationPool& pool_;
  const SharedLimitOptions opts_;
  const RedisUrl url_;
  std::unique_ptr<PermitLeases> leases_;  // null while Redis is away
  std::vector<std::string> ids_;          // leases held
  PermitLeases::Fairness fair_;           // the last share and waiting count the scripts answered
  std::chrono::steady_clock::time_point next_renewal_{};

  mutable std::mutex mu_;  // stats_ and stop_
  std::condition_variable cv_;
  bool stop_ = false;
  SharedLimitStats stats_;
  std::thread thread_;
};

}  // namespace s3db::coord
