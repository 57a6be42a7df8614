// pool::Protection — what the pool does for a store in trouble (s3db/pool_protection.h is the
// contract): the circuit breaker, the ops waiting for it (wait_when_open) and the retry budget.
//
// Owns: the CircuitBreaker and the RetryBudget (each null while off), the FIFO list of ops parked
// until the circuit may admit them, and the breaker's timer (open → half-open at open_until,
// reported on time even when no attempt asks; it also re-queues the parked ops).
// Locking: the breaker and the budget are thread-safe on their own — admit(), record() and the
// budget's take and refund run without the pool mutex. The parked list and the timer are guarded
// by the pool mutex (Engine::mu): the *_locked members. Lock order: the pool mutex, then the
// breaker's; never the other way round.
// No lost wake-up: an op refused at breaker generation g parks only if the generation is still g
// under the pool mutex, and every transition bumps the generation before the pool re-queues the
// parked ops under that mutex (Engine::breaker_moved).
#pragma once

#include <s3db/operation_pool.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "pool/circuit_breaker.h"
#include "pool/retry_budget.h"
#include "pool/task_node.h"
#include "pool/timers.h"

namespace s3db::pool {

struct Engine;  // engine.h

// Breaker transitions reach listeners in the order they happened, whichever threads saw them:
// each carries its generation (1, 2, 3...), and whoever finds the next one due emits it and those
// that follow, one thread at a time; a transition that arrives early waits for its predecessor.
// A listener's own transitions (it may call the pool) are queued, not emitted re-entrantly.
// Its mutex is held only to queue and pick, never while a listener runs. Transitions are rare:
// the small vector is no hot-path allocation.
class BreakerEvents {
 public:
  template <class Emit>
  void publish(const BreakerTransition& m, Emit&& emit) {
    {
      std::lock_guard<std::mutex> g(mu_);
      pending_.push_back(m);
      if (emitting_) return;  // the emitting thread will get to it
      emitting_ = true;
    }
    for (;;) {
      BreakerTransition due;
      {
        std::lock_guard<std::mutex> g(mu_);
        auto it = std::find_if(pending_.begin(), pending_.end(),
                               [&](const BreakerTransition& p) { return p.generation == next_; });
        if (it == pending_.end()) {
          emitting_ = false;
          return;
        }
        due = *it;
        pending_.erase(it);
        ++next_;
      }
      emit(due);
    }
  }

 private:
  std::mutex mu_;
  std::vector<BreakerTransition> pending_;
  std::uint32_t next_ = 1;
  bool emitting_ = false;
};

class Protection {
 public:
  Protection(Engine& pool, const PoolOptions& options);

  CircuitBreaker* breaker() const noexcept { return breaker_.get(); }  // null: off
  RetryBudget* budget() const noexcept { return budget_.get(); }       // null: off
  bool waits_when_open() const noexcept { return waits_; }

  // What a refused attempt fails with: Unavailable "circuit open until <ISO-8601 UTC> (in N s)"
  // with retry_after() set to the time left, or "circuit half-open: ..." while its probes are out.
  Status refusal(TimePoint now) const;

  // wait_when_open: parks `t`, refused at `ticket`, until the circuit may admit it — or re-queues it
  // at once when the circuit moved since. Returns the status to finish `t` with instead when it
  // cannot wait: the pool is stopped, or its deadline comes before the circuit half-opens.
  std::optional<Status> wait_locked(detail::TaskBase* t, const BreakerTicket& ticket, TimePoint now);

  // A transition happened: to open, arms the half-open timer; to half-open or closed, re-queues
  // the parked ops (they ask again).
  void moved_locked(const BreakerTransition& m);
  // The breaker's timer fired: the transition to half-open, if this call made it; the parked ops
  // are re-queued either way.
  std::optional<BreakerTransition> on_timer_locked(TimePoint now);
  // stop(): unlinks every parked op (deadline timer disarmed, flags cleared) into `out`.
  void take_parked_locked(std::vector<detail::TaskBase*>& out);
  // Unlinks every parked op marked kExpired (its deadline passed) into `out`.
  void remove_expired_locked(std::vector<detail::TaskBase*>& out);

  BreakerEvents events;  // any thread, no pool lock

 private:
  void park_locked(detail::TaskBase* t);
  void requeue_parked_locked();
  void arm_timer_locked(TimePoint when);

  Engine& p_;
  const std::unique_ptr<CircuitBreaker> breaker_;
  const std::unique_ptr<RetryBudget> budget_;
  const bool waits_;
  TimerNode timer_;  // kBreaker, at open_until
  detail::TaskBase* head_ = nullptr;  // parked ops, linked through TaskNode::next, oldest first
  detail::TaskBase* tail_ = nullptr;
};

}  // namespace s3db::pool
