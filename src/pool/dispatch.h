// pool::Dispatch — the concurrency slots and the worker threads that fill them.
//
// Owns: the slot counters (`active` against `limit`), the worker threads and how they park and
// wake (idle, signalled, searching), the running list (every attempt in progress, for stop() and
// the attempt timers) and the hand-shake that keeps an OpContext alive while another thread
// cancels it.
// Locking: `active`, `limit`, `searching` and `idle` are atomics so that run()'s fast path and the
// lock-free submit take or test a slot without the mutex; seq_cst where a lost wake-up is at stake
// (each use says which operation it pairs with). Everything else, and every *_locked member, is
// guarded by the pool mutex (Engine::mu). A worker holds the mutex except while it runs an
// attempt, a completion or an event listener: no pool lock is ever held across an op.
#pragma once

#include <s3db/operation_pool.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "pool/circuit_breaker.h"
#include "pool/observation.h"
#include "pool/thread_duty.h"
#include "pool/timers.h"

namespace s3db::pool {

struct Engine;  // engine.h

// One executing attempt: registered in the running list so that timers and stop() can cancel it.
struct RunSlot {
  TimerNode timer;
  OpContext* ctx = nullptr;
  detail::TaskBase* task = nullptr;
  RunSlot* prev = nullptr;
  RunSlot* next = nullptr;
  int cancel_pending = 0;  // cancels in progress on other threads (ctx must stay valid)
  bool linked = false;
  bool deadline_is_op = false;  // the attempt deadline is the op's deadline, not its timeout
};

class Dispatch {
 public:
  Dispatch(Engine& pool, int limit) noexcept : p_(pool), limit_(limit) {}

  // ---- slots, without the mutex ------------------------------------------------------------
  bool try_acquire_slot() noexcept {  // inline: run()'s fast path
    int a = active_.load(std::memory_order_relaxed);
    for (;;) {
      if (a >= limit_.load(std::memory_order_relaxed) || a >= cap_.load(std::memory_order_relaxed)) return false;
      if (active_.compare_exchange_weak(a, a + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) return true;
    }
  }
  void release_slot() noexcept;  // takes the mutex only when queued work needs a worker
  bool has_free_slot() const noexcept {
    return active_.load(std::memory_order_seq_cst) < effective_limit();
  }
  // A worker woken for queued work has not yet taken a task (it will look at the inbox again).
  bool searching() const noexcept { return searching_.load(std::memory_order_seq_cst) != 0; }
  int active() const noexcept { return active_.load(std::memory_order_acquire); }
  int limit() const noexcept { return limit_.load(std::memory_order_acquire); }
  int cap() const noexcept { return cap_.load(std::memory_order_acquire); }
  // What may run at once: the limit, or the cap when it is lower.
  int effective_limit() const noexcept {
    return std::min(limit_.load(std::memory_order_seq_cst), cap_.load(std::memory_order_seq_cst));
  }

  // ---- with the pool mutex held --------------------------------------------------------------
  // Wakes (or starts) up to `wanted` workers for queued work that has free slots.
  void kick_locked(std::size_t wanted);
  // Takes the next queued op into `slot` when a slot is free and, while pacing, a send token is
  // there (registering it); else null.
  detail::TaskBase* try_pop_locked(RunSlot& slot);
  // Makes an attempt cancellable: the running list (stop()) and its deadline timer, if any.
  void register_locked(RunSlot& slot, detail::TaskBase* t, TimePoint now);
  // Undoes register_locked(); waits (releasing `lk`) until no cancel of the slot is in flight.
  void unregister_locked(std::unique_lock<std::mutex>& lk, RunSlot& slot);
  // Sets the limit (wakes workers when it grows); returns the old one.
  int set_limit_locked(int n, TimePoint now);
  // Sets the cap (OperationPool::set_cap; kNoCap = none), waking workers when it grows.
  static constexpr int kNoCap = std::numeric_limits<int>::max();
  void set_cap_locked(int n);
  // Queued work found no free slot: tells the tuner, when it is the limit (not the cap) that binds.
  void note_saturated_locked();
  // OperationPool::on_cap_wait(): set_cap_waiter() replaces the callback (waiting for a call in
  // progress); note_cap_wait() — submit's path, no lock held — calls it when the cap, not the
  // limit, left a submitted op without a slot, once per set_cap_locked().
  void set_cap_waiter(std::function<void()> fn);
  void note_cap_wait() {
    if (!cap_waiter_armed_.load(std::memory_order_relaxed)) return;
    const int a = active_.load(std::memory_order_relaxed), cap = cap_.load(std::memory_order_relaxed);
    if (a >= cap && cap < limit_.load(std::memory_order_relaxed) && cap_waiter_armed_.exchange(false)) call_cap_waiter();
  }
  // Feeds one attempt's outcome to the send rate and the tuner (the pool has one) and applies
  // the tuner's decision.
  std::optional<ConcurrencyChange> adapt_locked(Code code, Duration latency, TimePoint now);
  // drain() from inside the pool lends the caller's slots to queued work, then takes them back.
  void lend_slots_locked(std::size_t n);
  void reclaim_slots_locked(std::size_t n) noexcept;

  // Cancels go through two steps, the mutex released in between (a cancel callback may block):
  // hold_running_locked() pins every running slot's context and lists it, the caller cancels,
  // then release_cancels_locked() lets unregister_locked() proceed.
  void hold_running_locked(std::vector<RunSlot*>& out);
  void release_cancels_locked(const std::vector<RunSlot*>& slots);

  void wake_all_locked() { work_cv_.notify_all(); }  // stop(): parked workers re-check
  void shutdown_and_join();  // destructor: workers finish their attempts and exit

 private:
  void worker_main(bool searcher);
  detail::TaskBase* run_attempt(detail::TaskBase* t, RunSlot& slot, std::unique_lock<std::mutex>& lk,
                                ThreadDuty& duty);
  detail::TaskBase* refuse(detail::TaskBase* t, RunSlot& slot, std::unique_lock<std::mutex>& lk, ThreadDuty& duty,
                           const BreakerTicket& ticket, TimePoint now);
  // Releases the slot of the attempt just settled and takes the next queued op into it; `owes_t`:
  // this thread still completes the settled op.
  detail::TaskBase* hand_over_locked(RunSlot& slot, ThreadDuty& duty, bool owes_t);

  Engine& p_;
  std::atomic<int> active_{0};
  std::atomic<int> limit_;
  std::atomic<int> cap_{kNoCap};  // OperationPool::set_cap()
  void call_cap_waiter();
  std::atomic<bool> cap_waiter_armed_{false};
  std::mutex cap_waiter_mu_;  // held while cap_waiter_ runs or changes (never the pool's mutex)
  std::function<void()> cap_waiter_;
  // Workers woken or started for queued work that have not yet taken a task or gone back to sleep.
  // Written under the mutex; read without it by submit's lock-free path. While one is searching,
  // nobody wakes another: the searcher, once it holds a task, wakes the next one if work is still
  // queued (chain wake-up). Blocking ops thus still fan out to the full limit, while short ops stay
  // on a few workers that loop without sleeping, and a burst of submits costs one wake-up, not one
  // each.
  std::atomic<int> searching_{0};
  std::atomic<int> idle_{0};  // workers parked on work_cv_ (written under the mutex)
  int signalled_ = 0;         // notify_one()s sent to parked workers that have not woken yet
  bool shutdown_ = false;     // workers exit
  std::vector<std::thread> workers_;
  RunSlot* running_ = nullptr;
  std::condition_variable work_cv_, cancel_cv_;
};

}  // namespace s3db::pool
