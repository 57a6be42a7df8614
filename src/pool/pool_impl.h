// OperationPool::Impl — shared state of the pool's source files (queue, slots, timer, metrics).
//
// Locking: `mu` guards the queue, the timer heap, the running list, thread bookkeeping and the
// adaptive state. Counters read by the inline fast path (active, limit, queued, paused, stopped,
// inflight) are atomics so that run() can take a slot without the mutex. No lock is held while an
// op, a completion, an event listener, a cancel callback or a retryable predicate runs.
#pragma once

#include <s3db/operation_pool.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "pool/histogram.h"

namespace s3db {
namespace detail {

// A pending timer: an attempt's timeout, a retry's backoff, or a queued op's deadline.
struct TimerNode {
  enum Kind : std::uint8_t { kAttempt, kBackoff, kQueuedDeadline };
  static constexpr std::size_t kNoIndex = std::numeric_limits<std::size_t>::max();
  TimePoint when{};
  std::size_t index = kNoIndex;  // position in the timer heap; kNoIndex when not scheduled
  void* owner = nullptr;         // RunSlot* (kAttempt) or TaskBase* (others)
  Kind kind = kAttempt;
};

// Out-of-line per-op state, allocated only for ops with non-default options or a retry.
struct TaskExtra {
  TimerNode timer;  // backoff or queued-deadline (never both at once)
  TimePoint deadline = TimePoint::max();
  std::chrono::milliseconds timeout{0};
  int retries = -1;
  std::function<bool(const Status&)> retryable;

  static TaskExtra* create() { return ::new (task_alloc(sizeof(TaskExtra))) TaskExtra(); }
  static void destroy(TaskExtra* e) noexcept {
    if (!e) return;
    e->~TaskExtra();
    task_free(e, sizeof(TaskExtra));
  }
};

}  // namespace detail

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

using detail::TaskBase;
using detail::TaskExtra;
using detail::TimerNode;

// pool_flags_ bits (guarded by Impl::mu)
inline constexpr std::uint8_t kQueued = 1;
inline constexpr std::uint8_t kInBackoff = 2;
inline constexpr std::uint8_t kExpired = 4;

// One executing attempt: registered in the running list so that timers and stop() can cancel it.
struct RunSlot {
  TimerNode timer;
  OpContext* ctx = nullptr;
  TaskBase* task = nullptr;
  RunSlot* prev = nullptr;
  RunSlot* next = nullptr;
  int cancel_pending = 0;  // cancels in progress on other threads (ctx must stay valid)
  bool linked = false;
  bool deadline_is_op = false;  // the attempt deadline is the op's deadline, not its timeout
};

// Priority levels, each an intrusive FIFO list. Empty levels are kept (no allocation churn on the
// dispatch path) and pruned only when many distinct priorities accumulate.
class TaskQueue {
 public:
  void push(TaskBase* t);
  TaskBase* pop();
  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }
  // Unlinks every task with kExpired set, appending them to `out`.
  void remove_expired(std::vector<TaskBase*>& out);
  void take_all(std::vector<TaskBase*>& out);

 private:
  struct Level {
    int priority;
    TaskBase* head;
    TaskBase* tail;
    std::size_t n;
  };
  std::vector<Level> levels_;  // descending priority
  std::size_t size_ = 0;
};

// Indexed binary min-heap of timers (O(log n) removal when an attempt ends early).
class TimerHeap {
 public:
  void push(TimerNode* n);
  void remove(TimerNode* n);
  TimerNode* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
  bool empty() const noexcept { return heap_.empty(); }
  const std::vector<TimerNode*>& nodes() const noexcept { return heap_; }

 private:
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void place(std::size_t i, TimerNode* n) { heap_[i] = n; n->index = i; }
  std::vector<TimerNode*> heap_;
};

// Completions per second over a small ring of one-second buckets (lock-free, approximate under
// heavy contention at second boundaries, exact for a single thread).
class Throughput {
 public:
  void tick(std::int64_t second) noexcept;
  // current: sliding one-second estimate; peak: best full second (or current); avg computed by caller.
  void read(std::int64_t second, double fraction, double& current, double& peak) const noexcept;

 private:
  struct Bucket {
    std::atomic<std::int64_t> second{-1};
    std::atomic<std::uint64_t> count{0};
  };
  std::array<Bucket, 4> ring_{};
  std::atomic<std::uint64_t> peak_{0};
};

struct ConcurrencyChange {
  int old_value;
  int new_value;
  const char* reason;
};

// What the current thread owes a pool: in-flight ops of that pool that only this thread can
// complete — the op it runs, the next one it already popped, the completions of a batch it is
// running — and the concurrency slots it holds for them. drain() called on this thread (from an
// op, a completion or a listener) cannot wait for those: they finish only after it returns.
// Frames live on the stack and nest (an op of one pool may run another's, or its own, inline);
// a thread not working for a pool has none for it. Kept current by plain stores: no allocation,
// no atomics, nothing on the hot path but a thread-local pointer swap.
class ThreadDuty {
 public:
  ThreadDuty(const void* pool, std::size_t ops, std::size_t slots, bool timer = false) noexcept
      : pool_(pool), outer_(current_), ops(ops), slots(slots), timer_(timer) {
    current_ = this;
  }
  ~ThreadDuty() { current_ = outer_; }
  ThreadDuty(const ThreadDuty&) = delete;
  ThreadDuty& operator=(const ThreadDuty&) = delete;

  struct Totals {
    std::size_t ops = 0, slots = 0;
    bool timer = false;  // the pool's timer thread
  };
  static Totals of(const void* pool) noexcept {
    Totals t;
    for (const ThreadDuty* d = current_; d; d = d->outer_) {
      if (d->pool_ != pool) continue;
      t.ops += d->ops;
      t.slots += d->slots;
      t.timer = t.timer || d->timer_;
    }
    return t;
  }

 private:
  const void* pool_;
  ThreadDuty* outer_;

 public:
  std::size_t ops;    // finish() takes one off when its op stops counting as in flight
  std::size_t slots;

 private:
  bool timer_;
  static inline constinit thread_local ThreadDuty* current_ = nullptr;
};

// The timer thread's reusable lists (one per nesting level: a drain() on the timer thread runs
// rounds of its own).
struct TimerScratch {
  std::vector<RunSlot*> to_cancel;
  std::vector<detail::TaskBase*> expired;
};

}  // namespace pool

struct OperationPool::Impl {
  explicit Impl(PoolOptions o);

  // ---- configuration -----------------------------------------------------------------------
  PoolOptions opts;
  std::shared_ptr<Clock> clock;
  std::shared_ptr<const RetryPolicy> policy;
  TimePoint start;

  // ---- fast-path state (atomics) -------------------------------------------------------------
  std::atomic<int> active{0};
  std::atomic<int> limit{1};
  std::atomic<std::size_t> queued{0};
  std::atomic<std::size_t> inflight{0};  // submitted and not yet completed
  std::atomic<bool> paused{false};
  std::atomic<bool> stopped{false};
  std::atomic<int> drain_waiters{0};
  // In-flight ops owed (pool::ThreadDuty) by threads now waiting in drain(): they cannot complete
  // before those drains return, so a drain called from inside the pool does not wait for them.
  std::atomic<std::size_t> drain_excluded{0};
  std::atomic<std::uint32_t> next_id{1};
  std::atomic<std::uint32_t> listener_mask{0};
  std::atomic<std::uint64_t> rng_counter{0};
  // Lock-free submission inbox (a Treiber stack through TaskBase::next_) for plain ops on an
  // unbounded queue: a submitter pushes with one CAS and takes the mutex only when a worker must
  // be woken or started. Whoever next holds the mutex moves the inbox into the priority queue.
  std::atomic<detail::TaskBase*> inbox{nullptr};

  // ---- mutex-guarded state -------------------------------------------------------------------
  std::mutex mu;
  std::condition_variable work_cv, timer_cv, drain_cv, space_cv, cancel_cv;
  pool::TaskQueue queue;
  pool::TimerHeap timers;
  pool::RunSlot* running = nullptr;
  std::size_t backoff_count = 0;
  std::vector<std::pair<detail::TaskBase*, Status>> deferred;  // completed by the timer thread
  std::vector<std::thread> workers;
  std::atomic<int> idle{0};  // workers parked on work_cv (written under mu)
  int signalled = 0;         // notify_one()s sent to parked workers that have not woken yet
  // Workers woken or started for queued work that have not yet taken a task or gone back to sleep.
  // Written under mu; read without it by submit's lock-free path. While one is searching, nobody
  // wakes another: the searcher, once it holds a task, wakes the next one if work is still queued
  // (chain wake-up). Blocking ops thus still fan out to the full limit, while short ops stay on a
  // few workers that loop without sleeping, and a burst of submits costs one wake-up, not one each.
  std::atomic<int> searching{0};
  int space_waiters = 0;
  int timer_drains = 0;  // drain() calls waiting on the timer thread (it keeps serving timers)
  bool shutdown = false;    // workers exit
  bool timer_exit = false;  // the timer thread exits (after the workers)
  std::thread timer_thread;

  // capacity integral for utilisation (guarded by mu)
  double capacity_ns = 0;
  TimePoint capacity_since;

  // adaptive concurrency (guarded by mu)
  TimePoint window_start;
  TimePoint last_decrease = TimePoint::min();
  std::atomic<bool> saturated{false};  // set without the mutex by lock-free submits
  std::uint64_t lat_sum_ns = 0;
  std::uint64_t lat_n = 0;

  // ---- counters --------------------------------------------------------------------------------
  std::atomic<std::uint64_t> processed{0}, errors{0}, retries{0};
  std::array<std::atomic<std::uint64_t>, kCodeCount> errors_by_code{};
  std::atomic<std::uint64_t> busy_ns{0};
  pool::Histogram queue_wait, execution;
  pool::Throughput throughput;

  // ---- events ----------------------------------------------------------------------------------
  using ListenerList = std::vector<std::pair<std::uint64_t, EventListener>>;
  std::mutex ev_mu;
  std::array<std::shared_ptr<const ListenerList>, kPoolEventCount> listeners;
  std::uint64_t next_listener_id = 1;

  // ---- helpers (pool_dispatch.cc) ---------------------------------------------------------
  bool try_acquire_slot() noexcept;
  void release_slot() noexcept;  // fast path: no lock unless queued work needs a worker
  void kick_locked(std::size_t wanted);
  detail::TaskBase* try_pop_locked(pool::RunSlot& slot);
  void register_locked(pool::RunSlot& slot, detail::TaskBase* t, TimePoint now);
  void unregister_locked(std::unique_lock<std::mutex>& lk, pool::RunSlot& slot);
  void worker_main(bool searcher);
  void timer_main();
  bool timer_round(std::unique_lock<std::mutex>& lk, pool::TimerScratch& scratch);
  detail::TaskBase* run_attempt(detail::TaskBase* t, pool::RunSlot& slot, std::unique_lock<std::mutex>& lk,
                                pool::ThreadDuty& duty);
  void enqueue_locked(detail::TaskBase* t);
  void drain_inbox_locked();
  void reject_queued_locked();
  void defer_locked(detail::TaskBase* t, Status status);
  // Completes `t` (its continuation runs here); `duty` counted it and stops counting it.
  void finish(detail::TaskBase* t, Status status, Duration last_exec, TimePoint now, pool::ThreadDuty& duty);
  // drain() and drain_for(): until == nullptr waits without a deadline.
  bool drain_until(const TimePoint* until);
  Status run_bypass(detail::TaskBase* t);
  void prepare(detail::TaskBase* t, OpOptions& o);
  void submit_prepared(detail::TaskBase* t);

  struct Decision {
    bool retry = false;
    Duration delay{};
    Status status;  // final status (when !retry) or the failure being retried
  };
  Decision decide(detail::TaskBase* t, Status st, const OpContext& ctx, TimePoint now);
  void schedule_backoff_locked(detail::TaskBase* t, TimePoint when);
  // Emits task_retry for the attempt of `t` that just failed. Called before the backoff is
  // scheduled: once it is, the next attempt may start (and emit task_started) on another thread.
  void emit_retry(const detail::TaskBase* t, const Status& status, Duration exec, Duration delay);

  std::uint64_t next_random() noexcept;
  std::chrono::milliseconds attempt_timeout(const detail::TaskBase* t) const noexcept {
    if (t->extra_ && t->extra_->timeout.count() > 0) return t->extra_->timeout;
    return opts.default_timeout;
  }
  static TimePoint op_deadline(const detail::TaskBase* t) noexcept {
    return t->extra_ ? t->extra_->deadline : TimePoint::max();
  }

  // ---- concurrency (pool_adaptive.cc) ------------------------------------------------------
  int set_limit_locked(int n, TimePoint now);
  std::optional<pool::ConcurrencyChange> feedback_locked(Code code, Duration latency, TimePoint now);

  // ---- events (pool_observe.cc) ------------------------------------------------------------
  bool wants(PoolEvent e) const noexcept {
    return (listener_mask.load(std::memory_order_relaxed) >> static_cast<int>(e)) & 1u;
  }
  void emit(const EventInfo& info);
  // An event about task `t` (event, id, priority, attempt set; the rest left for the caller).
  static EventInfo task_event(PoolEvent ev, const detail::TaskBase* t) noexcept {
    EventInfo e{};
    e.event = ev;
    e.task_id = t->id_;
    e.priority = t->priority_;
    e.attempt = t->attempt_;
    return e;
  }
  void emit_simple(PoolEvent e);
  void emit_change(const pool::ConcurrencyChange& c);
  void on_idle();
  void wake_drainers();

  std::int64_t ns_since_start(TimePoint t) const noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t - start).count();
  }
};

}  // namespace s3db
