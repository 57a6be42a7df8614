// coord::RateGate — a cap on one kind of storage request per second (s3db/shared_limit.h: rate_put,
// rate_get): every request takes a token from it first.
//
//   mode   | tokens come from                         | set by
//   -------+------------------------------------------+------------------------------------------
//   local  | the gate's own schedule at `rate`/s: the | Client (no Redis), or the coordinator
//          | n-th request is due n/rate after the     | while Redis is away (rate × its share)
//          | first, with a burst of kBurst of a second|
//   fed    | a reservoir the coordinator fills with   | the coordinator, in shared mode: tokens
//          | tokens taken from the shared bucket      | taken from Redis in batches (RateBucket)
//
// - take(ctx): waits for a token, then returns OK. A local token is reserved in arrival order and
//   its wait is known at once: one that would come after the attempt's deadline is not reserved,
//   and take() returns Timeout at once. A fed token may come any time: take() waits until the
//   deadline (Timeout) or the attempt is cancelled (its cancel_status()). Nothing is taken then.
// - The coordinator: want() is how many tokens the reservoir should hold (the requests waiting
//   now, plus what was taken over the last interval, less what it holds); feed(n) adds them and
//   wakes waiters; the set_on_starved() callback runs when a request finds the fed reservoir
//   empty, so the coordinator can fetch at once instead of at its next tick. It runs under the
//   gate's lock (so that once set_on_starved(nullptr) returns it never runs again): it must only
//   signal, never call the gate.
// - Thread safety: every member may be called from any thread (one mutex, never held while
//   waiting or calling out). take() registers the attempt's on_cancel for its wait and clears it.
#pragma once

#include <s3db/op_context.h>
#include <s3db/status.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace s3db::coord {

struct RateGateStats {
  std::uint64_t requests = 0;  // tokens taken
  std::uint64_t waits = 0;     // requests that had to wait
  double wait_s = 0;           // their total wait
};

class RateGate {
 public:
  static constexpr double kBurst = 0.01;  // seconds of the rate that may go at once (≥ 1 token)

  explicit RateGate(double rate);  // local mode at `rate` requests/s (> 0)

  Status take(OpContext& ctx);

  void set_local(double rate);  // → local mode at `rate` (> 0)
  void set_fed();               // → fed mode, reservoir empty
  int want();                   // fed mode: tokens to fetch now (0 when none)
  void feed(int n);
  void set_on_starved(std::function<void()> fn);

  RateGateStats stats() const;

 private:
  Status take_local(std::unique_lock<std::mutex>& lk, OpContext& ctx);
  Status take_fed(std::unique_lock<std::mutex>& lk, OpContext& ctx);
  Status wait_until(std::unique_lock<std::mutex>& lk, OpContext& ctx, SteadyClock::time_point until,
                    const std::function<bool()>& done);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool fed_ = false;
  double rate_;
  SteadyClock::time_point next_{};  // local: when the next token is due
  std::int64_t tokens_ = 0;         // fed: the reservoir
  int waiting_ = 0;                 // fed: requests waiting for a token
  std::uint64_t taken_since_want_ = 0;
  RateGateStats stats_;
  std::function<void()> on_starved_;
};

}  // namespace s3db::coord
