// pool::Engine (OperationPool::Impl) — composes the pool's parts and runs what spans them:
// submission, the retry decision, completion, drain.
//
// Parts (each header says what it owns and which lock guards it):
//   TaskQueue    task_queue.h    ops waiting for a slot: lock-free inbox + priority levels
//   Dispatch     dispatch.h      concurrency slots, worker threads, the running attempts
//   Timers       timers.h        timer thread: attempt timeouts, backoffs, queued deadlines,
//                                deferred completions
//   Observation  observation.h   counters, histograms, throughput, events
//   Tuner        tuner.h         moves the concurrency limit (aimd, note); null when tuning is off
//   Protection   protection.h    circuit breaker (and the ops parked for it), retry budget
//   SendRate     send_rate.h     the rate learnt from throttling; paces attempts (null when off)
// The public entry points (operation_pool.cc) and these parts call the engine; the parts reach
// each other only through it.
//
// Locking: one mutex, `mu`, guards the *_locked state of every part. One lock keeps the hand-offs
// between parts (pop → register → arm a timer; backoff over → re-queue; stop → reject everything)
// atomic, with no lock order to get wrong; it is held for a few hundred nanoseconds at a time.
// What the inline fast path reads (slots, the queued count, paused, stopped, inflight) is atomic so
// that run() can take a slot without the mutex. No lock is held while an op, a completion, an event
// listener, a cancel callback or a retryable predicate runs.
#pragma once

#include <s3db/operation_pool.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "pool/dedup.h"
#include "pool/dispatch.h"
#include "pool/observation.h"
#include "pool/protection.h"
#include "pool/send_rate.h"
#include "pool/task_node.h"
#include "pool/task_queue.h"
#include "pool/thread_duty.h"
#include "pool/timers.h"
#include "pool/tuner.h"

namespace s3db {
namespace pool {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// The pool mutex is held for a few hundred nanoseconds at a time: a short spin on try_lock avoids
// the futex sleep/wake pair that dominates the hand-off cost under contention.
inline void lock_spin(std::unique_lock<std::mutex>& lk) {
  for (int i = 0; i < 100; ++i) {
    if (lk.try_lock()) return;
    cpu_relax();
  }
  lk.lock();
}

struct Engine {
  explicit Engine(PoolOptions options);

  // ---- configuration (fixed at construction) -------------------------------------------------
  const bool memory_start;  // tuning on and PoolOptions::concurrency 0: the start was not chosen
  const PoolOptions opts;  // normalised: concurrency ≥ 1, within the adaptive bounds
  const std::shared_ptr<Clock> clock;
  const std::shared_ptr<const RetryPolicy> policy;
  const TimePoint start;
  const bool guarded;  // a breaker or a retry budget is on (the inline path checks this once)

  std::mutex mu;  // see the file comment

  // ---- lifecycle (atomics: read by the fast path) ---------------------------------------------
  std::atomic<bool> paused{false};
  std::atomic<bool> stopped{false};
  std::atomic<std::size_t> inflight{0};  // submitted and not yet completed
  std::atomic<std::uint32_t> next_id{1};
  std::atomic<std::uint64_t> rng_counter{0};

  // ---- drain -----------------------------------------------------------------------------------
  std::condition_variable drain_cv;
  std::atomic<int> drain_waiters{0};
  // In-flight ops owed (ThreadDuty) by threads now waiting in drain(): they cannot complete
  // before those drains return, so a drain called from inside the pool does not wait for them.
  std::atomic<std::size_t> drain_excluded{0};

  // ---- parts -----------------------------------------------------------------------------------
  Observation obs;
  const std::unique_ptr<Tuner> tuner;  // null: fixed limit (the hot path tests this pointer only)
  TimerNode tuner_timer;              // a tuner with an interval ticks on the timer thread
  const std::unique_ptr<SendRate> send_rate;  // null: off (guarded by mu)
  // send_rate->pacing(), for run()'s fast path, which must not start an attempt without a token:
  // written under mu, read without it (a stale false lets one op through unpaced, nothing more).
  std::atomic<bool> pacing{false};
  TimerNode send_rate_timer;  // when the next token is due, while the queue head waits for one
  TaskQueue queue;
  Timers timers;
  Protection guard;
  Dispatch dispatch;
  DedupTable dedup;  // guarded by mu

  // ---- submission ------------------------------------------------------------------------------
  void prepare(detail::TaskBase* t, OpOptions& o);
  void submit_prepared(detail::TaskBase* t);
  Status run_bypass(detail::TaskBase* t);
  // Queues `t` (with its deadline timer) and wakes a worker for it.
  void enqueue_locked(detail::TaskBase* t);
  // After stop(): completes every queued op (inbox included) with Cancelled, on the timer thread.
  void reject_queued_locked();

  // ---- retry decision and completion -------------------------------------------------------------
  struct Decision {
    bool retry = false;
    Duration delay{};
    int paid = 0;   // retry-budget tokens the retry cost (TaskExtra::retry_paid once scheduled)
    bool again = false;  // with retry: a run-again pause the op asked for, not a failure retry
    Status status;  // final status (when !retry) or the failure being retried
  };
  Decision decide(detail::TaskBase* t, Status st, const OpContext& ctx, TimePoint now) {
    if (st.ok()) return Decision{};  // success stands even if a cancel arrived after the work was done
    return decide_failed(t, std::move(st), ctx, now);  // out of line: the success path stays short
  }
  Decision decide_failed(detail::TaskBase* t, Status st, const OpContext& ctx, TimePoint now);
  // decide() for an attempt that asked to run again (not cancelled): no retry count, budget or
  // breaker involved; only the deadline and stop() can end the op here.
  Decision decide_again(const detail::TaskBase* t, Status st, Duration delay, TimePoint now);
  // Schedules the retry or the run-again pause `d` of `t` (whose TaskExtra exists).
  void schedule_locked(detail::TaskBase* t, const Decision& d, TimePoint now);
  // Emits task_retry for the attempt of `t` that just failed. Called before the backoff is
  // scheduled: once it is, the next attempt may start (and emit task_started) on another thread.
  // `again`: a run-again pause (reason "run_again"), not a failure retry.
  void emit_retry(const detail::TaskBase* t, const Status& status, Duration exec, Duration delay, bool again);
  // ---- deduplication (dedup.cc) ------------------------------------------------------------------
  // `t` (prepared) with a dedup_key: leads (queued like any op), joins, reuses or runs alone.
  void submit_deduplicated(detail::TaskBase* t, const OpOptions& o,
                           const std::shared_ptr<detail::DedupValueBase>& mine, const std::type_info& type,
                           bool wait);
  // The leader `t` ended with `status`: its joiners complete with copies of it, here.
  void finish_joiners(detail::TaskBase* t, const Status& status, TimePoint now);

  // Completes `t` (its continuation runs here); `duty` counted it and stops counting it.
  void finish(detail::TaskBase* t, Status status, Duration last_exec, TimePoint now, ThreadDuty& duty);

  // ---- protection (guard) ------------------------------------------------------------------------
  // Asks the breaker (on) whether an attempt may start now; reports a transition it made.
  BreakerTicket admit(TimePoint now);
  // The breaker and the budget (either may be off) learn how an admitted attempt of `t` ended.
  void guard_outcome(const detail::TaskBase* t, const BreakerTicket& ticket, Code code, TimePoint now);
  // The breaker moved (seen by a thread without the pool mutex): parked ops / timer, then the event.
  void breaker_moved(const BreakerTransition& m);
  void emit_breaker(const BreakerTransition& m);

  // ---- tuning ----------------------------------------------------------------------------------
  // The first tick of a tuner with an interval (OperationPool's constructor), and each next one.
  void arm_tuner_locked(TimePoint now);
  // The tuner's tick (`sample`: its sample(), taken without the mutex): applies its decision and
  // arms the next tick; the change to emit.
  std::optional<ConcurrencyChange> tune_tick_locked(TimePoint now, double sample);
  // While pacing: takes a token for the next attempt, or arms send_rate_timer for when one is due
  // (false). Keeps `pacing` in step with the send rate.
  bool take_send_token_locked(TimePoint now);


  // ---- drain -----------------------------------------------------------------------------------
  // drain() and drain_for(): until == nullptr waits without a deadline.
  bool drain_until(const TimePoint* until);
  void wake_drainers();
  void notify_drains_locked();

  // What the breaker, the retry budget and the adaptive limit learn from an attempt that ended
  // with `st`: the cancel's reason when it was cancelled; a pause the op asked for
  // (OpContext::run_again_after) is no failure — the store answered.
  static Code attempt_outcome(const Status& st, const OpContext& ctx) noexcept {
    if (st.ok()) return Code::kOk;
    if (ctx.cancelled()) return ctx.cancel_status().code();
    return InternalAccess::asked_again(ctx) ? Code::kOk : st.code();
  }

  std::uint64_t next_random() noexcept;
  std::chrono::milliseconds attempt_timeout(const detail::TaskBase* t) const noexcept {
    const TaskExtra* e = node(t).extra;
    if (e && e->timeout.count() > 0) return e->timeout;
    return opts.default_timeout;
  }
  static TimePoint op_deadline(const detail::TaskBase* t) noexcept {
    const TaskExtra* e = node(t).extra;
    return e ? e->deadline : TimePoint::max();
  }

 private:
  void on_idle();
};

}  // namespace pool

struct OperationPool::Impl final : pool::Engine {
  using Engine::Engine;
};

}  // namespace s3db
