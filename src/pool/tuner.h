// pool::Tuner — what decides the concurrency limit when AdaptiveOptions::enabled is set.
//
//   tuner | unit          | fed by                                   | decides
//   ------+---------------+------------------------------------------+------------------------------
//   aimd  | aimd_tuner.cc | every attempt's outcome (feedback_locked) | −× on Unavailable/Timeout
//         |               | + the saturation hint                    | (and Throttled without a send
//         |               |                                          | rate), + while saturated
//         |               |                                          | (×2 in slow start), latency
//         |               |                                          | guard (per window)
//   note  | note_tuner.cc | successful attempts' latency + a tick    | the design note's four rules
//         |               | every interval (the pool's timer thread) | (note_rule) on memory + latency
//
// A tuner only decides: Dispatch applies the limit, the caller emits concurrency_changed with the
// decision's reason (outside the mutex). Locking: *_locked run under the pool mutex (Engine::mu);
// note_saturated() is a relaxed atomic store that lock-free submits make (a hint, it orders
// nothing). The pool holds no tuner at all when tuning is off: the hot path tests one pointer.
#pragma once

#include <s3db/operation_pool.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "pool/observation.h"

namespace s3db::pool {

class Tuner {
 public:
  virtual ~Tuner() = default;

  // An op had to wait for a slot (the only kind of saturation AIMD's increase trusts).
  void note_saturated() noexcept { saturated_.store(true, std::memory_order_relaxed); }
  // The limit to start with, given the normalised start value (aimd's slow start may start lower).
  virtual int initial_limit(int start) const noexcept { return start; }
  // One attempt's outcome (`code`, `latency`) at `now`, the limit at `limit`: the change, if any.
  virtual std::optional<ConcurrencyChange> feedback_locked(Code code, Duration latency, TimePoint now,
                                                           int limit) = 0;
  // How often a tick wants to run on the pool's timer thread; 0 = never. A tick is two calls:
  // sample() without the pool mutex (it may read files: /proc, the cgroup's limit — no lock is
  // held across I/O), then tick_locked() with what it returned.
  virtual Duration interval() const noexcept { return Duration::zero(); }
  virtual double sample() { return -1; }
  virtual std::optional<ConcurrencyChange> tick_locked(TimePoint now, int limit, double sample) {
    (void)now;
    (void)limit;
    (void)sample;
    return std::nullopt;
  }

 protected:
  bool take_saturated() noexcept { return saturated_.exchange(false, std::memory_order_relaxed); }

 private:
  std::atomic<bool> saturated_{false};
};

// The process's memory use as a share of its limit (< 0 = unknown), read at each note tick.
using MemoryShare = std::function<double()>;
// AdaptiveOptions' memory source: memory_usage() (or the resident set) over memory_limit (or what
// core/process_memory finds: the cgroup's limit or the machine's memory).
MemoryShare memory_share(const AdaptiveOptions& a);

// The tuner `a` selects (a.enabled must be set), starting its first window/interval at `start`.
// `memory_start`: the memory-based start value when the caller chose none (0 otherwise) — where
// aimd's slow start ends (AdaptiveOptions::slow_start_from).
std::unique_ptr<Tuner> make_tuner(const AdaptiveOptions& a, TimePoint start, int memory_start);

// The note's "start with a memory-based suggestion" (PoolOptions::concurrency = 0 with tuning on):
// the memory left under the target, memory_target × limit − resident, in kStartBytesPerOp shares,
// within [min, max]. Unknown memory (limit 0) starts at kUnknownMemoryStart within [min, max].
inline constexpr std::uint64_t kStartBytesPerOp = std::uint64_t{4} << 20;  // an op's buffers, generously
inline constexpr int kUnknownMemoryStart = 50;                             // PoolOptions' fixed default
int start_concurrency(const AdaptiveOptions& a, std::uint64_t resident_bytes, std::uint64_t limit_bytes) noexcept;

}  // namespace s3db::pool
