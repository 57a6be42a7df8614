// pool::Timers — the timer thread and what it serves: attempt timeouts, retry backoffs, queued
// (or breaker-parked) ops' deadlines, the circuit breaker's half-open time, and the completions
// that must not run inside submit() (deferred).
//
// Owns: an indexed min-heap of timers (O(log n) removal when an attempt ends early), the timer
// thread and its condition variable, the deferred completions, the count of ops waiting out a
// backoff, and the drain() calls running on the timer thread.
// Locking: every member but start()/join() runs under the pool mutex (Engine::mu),
// the one lock of the queue and the slots too, so that a backoff that ends is re-queued, and an
// attempt that times out is found in the running list, atomically. A round releases the mutex
// while it runs cancel callbacks and completions. Waits go through Clock::wait_until, so tests
// drive every timer with ManualClock::advance().
#pragma once

#include <s3db/operation_pool.h>

#include <condition_variable>
#include <cstdint>
#include <limits>
#include <optional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "pool/circuit_breaker.h"

namespace s3db::pool {

struct Engine;    // engine.h
struct RunSlot;   // dispatch.h

// A pending timer: an attempt's timeout, a retry's backoff, a queued (or parked) op's deadline,
// the breaker's open → half-open, the tuner's next tick, or the send rate's next token.
struct TimerNode {
  enum Kind : std::uint8_t { kAttempt, kBackoff, kQueuedDeadline, kBreaker, kJoinDeadline, kTuner, kSendRate };
  static constexpr std::size_t kNoIndex = std::numeric_limits<std::size_t>::max();
  TimePoint when{};
  std::size_t index = kNoIndex;  // position in the timer heap; kNoIndex when not scheduled
  void* owner = nullptr;         // RunSlot* (kAttempt), TaskBase* (kBackoff, kQueuedDeadline), null
  Kind kind = kAttempt;
};

// Indexed binary min-heap of timers.
class TimerHeap {
 public:
  void push(TimerNode* n);
  void remove(TimerNode* n);  // no-op when not scheduled
  TimerNode* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
  const std::vector<TimerNode*>& nodes() const noexcept { return heap_; }

 private:
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void place(std::size_t i, TimerNode* n) { heap_[i] = n; n->index = i; }
  std::vector<TimerNode*> heap_;
};

// A round's reusable lists (one per nesting level: a drain() on the timer thread runs rounds of
// its own).
struct TimerScratch {
  std::vector<RunSlot*> to_cancel;
  std::vector<detail::TaskBase*> expired;
  std::vector<detail::TaskBase*> expired_parked;  // waiting for the circuit breaker
  std::vector<detail::TaskBase*> expired_joined;  // waiting for a deduplicated op (dedup.h)
  std::optional<BreakerTransition> breaker_moved;
  bool tune_due = false;  // the tuner's tick timer fired
};

class Timers {
 public:
  explicit Timers(Engine& pool) noexcept : p_(pool) {}

  void start();  // watches the pool's clock and starts the thread
  void join();   // the thread completes what is still deferred, then exits

  // Schedules `n` (not scheduled yet) and wakes the thread if it is now the earliest.
  void arm_locked(TimerNode& n, TimePoint when, void* owner, TimerNode::Kind kind);
  void disarm_locked(TimerNode& n) { heap_.remove(&n); }
  // Completes `t` with `status` on the timer thread (completion never runs inside submit()).
  void defer_locked(detail::TaskBase* t, Status status);
  // Next attempt of `t` (whose TaskExtra exists) after a backoff ending at `when`; the retry cost
  // `paid` retry-budget tokens (0: no budget).
  void schedule_backoff_locked(detail::TaskBase* t, TimePoint when, int paid);
  // Run again (OpContext::run_again_after): `t` (whose TaskExtra exists) waits until `when`, or
  // until wake_locked() — at once when a wake for it already came. Same attempt number, counted
  // as ran_again, not as a retry; otherwise a backoff like any other (stop() takes it).
  void schedule_again_locked(detail::TaskBase* t, TimePoint when);
  // OperationPool::wake(): ends the run-again wait of op `id` (re-queues it); if it is not waiting
  // yet, keeps the wake for its next schedule_again_locked() (the last kEarlyWakes only: a wake
  // whose op ended without waiting is forgotten eventually). Finds the op by a scan of the timers:
  // wakes are rare (one per turn handed over after a conflict).
  void wake_locked(std::uint32_t id);
  // stop(): unschedules every op waiting out a backoff, appending it to `out`.
  void take_backoffs_locked(std::vector<detail::TaskBase*>& out);

  // One round, entered and left with `lk` held: the deferred completions, else the timers due.
  // False when there was nothing to do.
  bool round(std::unique_lock<std::mutex>& lk, TimerScratch& scratch);

  // drain() on the timer thread keeps serving timers: it counts itself in, runs rounds, and waits
  // here (until the next timer or `until`, whichever is first) instead of on the drain cv.
  void enter_drain_locked() noexcept { ++drains_; }
  void leave_drain_locked() noexcept { --drains_; }
  void wait_locked(std::unique_lock<std::mutex>& lk, const TimePoint* until);
  void wake_drains_locked() {
    if (drains_ > 0) cv_.notify_all();
  }

 private:
  void thread_main();

  Engine& p_;
  TimerHeap heap_;
  std::condition_variable cv_;
  std::vector<std::pair<detail::TaskBase*, Status>> deferred_;
  std::size_t backoffs_ = 0;  // ops waiting out a backoff
  static constexpr std::size_t kEarlyWakes = 64;
  std::vector<std::uint32_t> early_wakes_;  // wakes that came before their op waited (oldest first)
  int drains_ = 0;            // drain() calls waiting on the timer thread
  bool exit_ = false;         // set by join(), after the workers are gone
  std::thread thread_;
};

}  // namespace s3db::pool
