// pool::Adaptive — AIMD tuning of the concurrency limit for remote stores (rules in adaptive.cc).
//
// Owns: the current window, the time of the last decrease, the latency of the window's successful
// attempts, and whether an op had to wait for a slot during the window ("saturated").
// Locking: feedback_locked() runs under the pool mutex (Engine::mu), which guards all of it but
// `saturated`, a relaxed atomic flag also set by lock-free submits (a hint, it orders nothing).
// It only decides: Dispatch::adapt_locked() applies the new limit.
#pragma once

#include <s3db/operation_pool.h>

#include <atomic>
#include <cstdint>
#include <optional>

#include "pool/observation.h"

namespace s3db::pool {

class Adaptive {
 public:
  Adaptive(const AdaptiveOptions& options, TimePoint start) noexcept : a_(options), window_start_(start) {}

  void note_saturated() noexcept { saturated_.store(true, std::memory_order_relaxed); }
  // One attempt's outcome (`code`, `latency`) at `now` with the limit at `limit`: the change to
  // make, if any.
  std::optional<ConcurrencyChange> feedback_locked(Code code, Duration latency, TimePoint now, int limit);

 private:
  const AdaptiveOptions a_;
  TimePoint window_start_;
  TimePoint last_decrease_ = TimePoint::min();
  std::atomic<bool> saturated_{false};
  std::uint64_t lat_sum_ns_ = 0;
  std::uint64_t lat_n_ = 0;
};

}  // namespace s3db::pool
