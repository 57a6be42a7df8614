// coord::SharedLimit — the coordinator of a Client's shared limits (s3db/shared_limit.h): caps an
// OperationPool at the permits it holds of a concurrency limit shared by every process
// (PermitLeases in Redis), leasing and returning them as the pool's demand moves, and feeds the
// Client's rate gates (RateGate) with tokens of the shared request-rate buckets (RateBucket).
//
// Contract
// - start(): checks the config, connects (a bad URL, a wrong password, nobody listening → that
//   error, once, naming the URL without its password), caps the pool at 0 when there is a
//   concurrency limit (nothing starts without a permit), turns the gates to fed mode and starts
//   the coordinator thread. The pool and the gates must outlive the SharedLimit.
// - Permits, every `tick`: demand = the pool's active + queued ops. Below the demand (and the
//   global limit) it leases up to `batch` more permits at a time, then raises the cap; above it,
//   it lowers the cap first and returns only permits no running op can be using (held −
//   max(new cap, active)), so a permit is never counted by two processes. Every lease is renewed
//   in one script call every ttl / 3; a lease reported lost (it expired: Redis restarted, or the
//   renewal came too late) leaves the cap at once (event kLeasesLost).
// - Fairness (PermitLeases' rule): the demand goes with every acquire and renewal as the want;
//   while another process waits below its fair share, the cap is at most ours (⌈global / holders
//   holding or wanting⌉) and the excess is returned as above: lower cap first, permits no running
//   op uses at once, the rest at the next ticks as ops end. A busy process hears of a waiting one
//   at its next renewal at the latest (a process short of permits asks every tick), so a waiting
//   process gets its share within ttl / 3 plus the time the busier one's running ops take to end.
// - Rates, every tick and at once when a request finds its gate empty: each fed gate gets the
//   tokens it wants (RateGate::want) from its bucket `<key>:rate:put` / `<key>:rate:get`, as many
//   as the bucket holds; an empty bucket is asked again when it says a token is due.
// - No Redis round trip happens on an op's path.
// - Redis away (any error of a script): the pool is capped at `fallback` (its local share), each
//   gate runs locally at fallback_rate_share × its rate, event kFallback (why, without the
//   password), and the coordinator reconnects every `retry` until Redis answers; then event
//   kResumed and it starts over from 0 permits (the old leases expire by themselves within a ttl)
//   and fed gates. The state is in stats().
// - A process killed with -9 holds its permits at most one ttl (PermitLeases).
// - ~SharedLimit(): stops the thread, returns every lease it holds, withdraws its want, removes
//   the cap; the gates go back to local mode at their full rate.
// - Thread safety: stats() from any thread; nothing else is called concurrently. Events run on
//   the coordinator thread, outside its locks.
#pragma once

#include <s3db/operation_pool.h>
#include <s3db/shared_limit.h>
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
#include "coord/rate_bucket.h"
#include "coord/rate_gate.h"

namespace s3db::coord {

// The coordinator's own settings (tests shorten them); the user's are SharedLimitConfig.
struct SharedLimitTuning {
  int batch = 16;  // permits leased in one round trip at most
  std::chrono::milliseconds tick{10};
  std::chrono::milliseconds idle_tick{1000};  // nothing held or wanted: kicks wake it sooner
  std::chrono::milliseconds linger{100};      // unused permits kept while nobody waits for them
  std::chrono::milliseconds retry{1000};  // reconnect period while Redis is away
  std::chrono::milliseconds redis_timeout{2000};
};

// The Client's rate gates (null: no cap of that kind).
struct RateGates {
  std::shared_ptr<RateGate> put, get;
};

class SharedLimit {
 public:
  static Result<std::unique_ptr<SharedLimit>> start(OperationPool& pool, SharedLimitConfig config, RateGates gates,
                                                    SharedLimitTuning tuning = {});
  ~SharedLimit();
  SharedLimit(const SharedLimit&) = delete;
  SharedLimit& operator=(const SharedLimit&) = delete;

  // The permits and fallback figures of s3db::SharedLimitState (the rate gates have their own).
  SharedLimitState stats() const;

 private:
  // What one connection round gives: the leases (with a concurrency limit) and the buckets.
  struct Remote {
    std::unique_ptr<PermitLeases> leases;
    std::unique_ptr<RateBucket> put, get;
  };
  static Result<Remote> connect(const RedisUrl& url, const SharedLimitConfig& c, const RateGates& g,
                                const SharedLimitTuning& t);

  SharedLimit(OperationPool& pool, SharedLimitConfig config, RateGates gates, SharedLimitTuning tuning, RedisUrl url,
              Remote remote);
  void run();
  bool step();        // one round of permits in shared mode; false when Redis failed
  bool step_rates();  // one round of tokens in shared mode; false when Redis failed
  bool feed(RateGate* gate, RateBucket* bucket, std::chrono::steady_clock::time_point& next_try);
  void enter_fallback(const Status& why);
  bool reconnect();
  void set_cap(int n);
  void emit(SharedLimitEvent::Kind kind, std::string message);
  void kick();  // a gate starved: fetch tokens now

  OperationPool& pool_;
  const SharedLimitConfig opts_;
  const RateGates gates_;
  const SharedLimitTuning tune_;
  const RedisUrl url_;
  bool connected_ = false;                // false while Redis is away
  std::unique_ptr<PermitLeases> leases_;  // null while Redis is away, or without a concurrency limit
  std::unique_ptr<RateBucket> put_bucket_, get_bucket_;
  std::chrono::steady_clock::time_point put_next_try_{}, get_next_try_{};
  std::vector<std::string> ids_;          // leases held
  PermitLeases::Fairness fair_;           // the last share and waiting count the scripts answered
  std::chrono::steady_clock::time_point next_renewal_{};
  std::chrono::steady_clock::time_point last_busy_{};  // the demand last used every permit held
  bool idle_ = true;         // the last step held nothing and had no demand
  bool rates_busy_ = false;  // the last step fed a gate or waits for its bucket

  mutable std::mutex mu_;  // stats_ and stop_
  std::condition_variable cv_;
  bool stop_ = false;
  bool kicked_ = false;
  SharedLimitState stats_;
  std::thread thread_;
};

}  // namespace s3db::coord
