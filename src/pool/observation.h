// pool::Observation — what the pool tells about itself: counters, latency histograms, throughput,
// the capacity integral behind utilisation, and event listeners.
//
// Owns: every figure of stats()/metrics()/prometheus() that is not a live state of another part,
// and the listener lists.
// Locking: counters, histograms and throughput are lock-free (relaxed atomics: figures, not
// synchronisation) so that recording costs the fast path no lock. The listener lists are
// copy-on-write snapshots under their own mutex `ev_mu_`, which is held only to swap a pointer:
// listeners run with no lock held and may subscribe, unsubscribe or call the pool. The capacity
// integral (*_locked) is guarded by the pool mutex (Engine::mu), like the limit it integrates.
#pragma once

#include <s3db/operation_pool.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "pool/histogram.h"
#include "pool/task_node.h"

namespace s3db::pool {

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

// The payload of a concurrency_changed event.
struct ConcurrencyChange {
  int old_value;
  int new_value;
  const char* reason;
};

class Observation {
 public:
  explicit Observation(TimePoint start) noexcept : start_(start), capacity_since_(start) {}

  // ---- recording (any thread, lock-free) -----------------------------------------------------
  void record_queue_wait(std::uint64_t ns) noexcept { queue_wait_.record(ns); }
  // An attempt that held a slot: its time also counts toward utilisation.
  void record_attempt(std::uint64_t ns) noexcept {
    execution_.record(ns);
    busy_ns_.fetch_add(ns, std::memory_order_relaxed);
  }
  // An attempt that bypassed the limit: no slot, so not part of utilisation.
  void record_bypass_attempt(std::uint64_t ns) noexcept { execution_.record(ns); }
  void count_retry() noexcept { retries_.fetch_add(1, std::memory_order_relaxed); }
  void count_completion(Code code, TimePoint now) noexcept {
    processed_.fetch_add(1, std::memory_order_relaxed);
    if (code != Code::kOk) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      errors_by_code_[static_cast<int>(code)].fetch_add(1, std::memory_order_relaxed);
    }
    throughput_.tick(ns_since_start(now) / 1'000'000'000);
  }

  // ---- events --------------------------------------------------------------------------------
  bool wants(PoolEvent e) const noexcept {
    return (listener_mask_.load(std::memory_order_relaxed) >> static_cast<int>(e)) & 1u;
  }
  // Unsubscribing needs this object to outlive the Subscription (the pool's contract).
  Subscription subscribe(PoolEvent event, EventListener listener);
  void emit(const EventInfo& info);
  void emit_simple(PoolEvent e);
  void emit_change(const ConcurrencyChange& c);
  // An event about task `t` (event, id, priority, attempt set; the rest left for the caller).
  static EventInfo task_event(PoolEvent ev, const detail::TaskBase* t) noexcept {
    EventInfo e{};
    e.event = ev;
    e.task_id = node(t).id;
    e.priority = node(t).priority;
    e.attempt = node(t).attempt;
    return e;
  }

  // ---- capacity integral (pool mutex held) ------------------------------------------------------
  void limit_changed_locked(int old_limit, TimePoint now) noexcept;
  double capacity_ns_locked(int limit, TimePoint now) const noexcept;

  // ---- snapshots -------------------------------------------------------------------------------
  std::uint64_t processed() const noexcept { return processed_.load(std::memory_order_acquire); }
  std::uint64_t errors() const noexcept { return errors_.load(std::memory_order_acquire); }
  std::uint64_t retries() const noexcept { return retries_.load(std::memory_order_acquire); }
  // Everything of PoolMetrics but concurrency and utilisation (those need the pool mutex).
  PoolMetrics metrics(TimePoint now) const noexcept;
  double utilisation(double capacity_ns) const noexcept;
  const Histogram& queue_wait() const noexcept { return queue_wait_; }
  const Histogram& execution() const noexcept { return execution_; }

 private:
  std::int64_t ns_since_start(TimePoint t) const noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_).count();
  }

  const TimePoint start_;
  std::atomic<std::uint64_t> processed_{0}, errors_{0}, retries_{0};
  std::array<std::atomic<std::uint64_t>, kCodeCount> errors_by_code_{};
  std::atomic<std::uint64_t> busy_ns_{0};
  Histogram queue_wait_, execution_;
  Throughput throughput_;

  double capacity_ns_ = 0;  // integral of the limit over time, up to capacity_since_
  TimePoint capacity_since_;

  using ListenerList = std::vector<std::pair<std::uint64_t, EventListener>>;
  std::mutex ev_mu_;
  std::array<std::shared_ptr<const ListenerList>, kPoolEventCount> listeners_;
  std::uint64_t next_listener_id_ = 1;
  std::atomic<std::uint32_t> listener_mask_{0};
};

}  // namespace s3db::pool
