// Internal: the design note's auto-tuning rules (seed note, "Auto-tuning algorithm"), as one pure
// function: every interval (5 s by default) the first rule that applies changes the limit.
//
//   rule | when (over the interval)                                   | limit   | reason
//   -----+------------------------------------------------------------+---------+------------------
//     1  | memory ≥ memory_target (process memory / its limit)        | −20 %   | memory-pressure
//     2  | latency > 1.5 × latency_target                             | −10 %   | latency-high
//     3  | latency < 0.5 × latency_target and memory < 0.8 × target   | +20 %   | latency-low
//     4  | latency > 1.2 × latency_target                             | −5 %    | latency-moderate
//     –  | otherwise, or no successful attempt to measure             | same    |
//
// Latency is the mean of successful attempts only (a fast 503 says nothing about the store's
// speed). "Low memory" for rule 3 is below 80 % of the target: growing right under the target
// would only trigger rule 1 at the next interval. Every change moves the limit by at least 1 and
// stays within [min, max]. Unknown memory (negative) never triggers rule 1 and never blocks 3.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "pool/tuner.h"

namespace s3db::pool {

struct NoteTunerInput {
  int limit = 0;
  std::chrono::nanoseconds mean_latency{0};  // successful attempts of the interval; 0 = none
  double memory = -1;                        // process memory / its limit; < 0 = unknown
};

struct NoteTunerTargets {
  int min_concurrency = 10;
  int max_concurrency = 200;
  std::chrono::milliseconds latency{100};
  double memory = 0.7;
};

struct TunerDecision {
  int limit;
  const char* reason;
};

std::optional<TunerDecision> note_rule(const NoteTunerInput& in, const NoteTunerTargets& targets) noexcept;

// The tuner that applies note_rule() every AdaptiveOptions::interval, on the pool's timer thread:
// attempts feed the interval's latency (successful ones only), the tick reads the memory share
// and decides. Owns the interval's latency sum, guarded by the pool mutex (Engine::mu).
class NoteTuner final : public Tuner {
 public:
  NoteTuner(const AdaptiveOptions& options, MemoryShare memory);

  std::optional<ConcurrencyChange> feedback_locked(Code code, Duration latency, TimePoint now, int limit) override;
  Duration interval() const noexcept override { return interval_; }
  double sample() override { return memory_ ? memory_() : -1; }  // the memory share
  std::optional<ConcurrencyChange> tick_locked(TimePoint now, int limit, double memory) override;

  static constexpr std::chrono::milliseconds kDefaultLatencyTarget{100};  // the note's targetLatency

 private:
  const NoteTunerTargets targets_;
  const Duration interval_;
  const MemoryShare memory_;
  std::uint64_t lat_sum_ns_ = 0;
  std::uint64_t lat_n_ = 0;
};

}  // namespace s3db::pool
