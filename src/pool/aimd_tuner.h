// pool::AimdTuner — AIMD tuning of the concurrency limit for remote stores (rules in aimd_tuner.cc).
//
// Owns: the current window, the time of the last decrease, the ceiling (the limit the store last
// pushed back at), where slow start ends and the latency of the window's successful attempts; the saturation hint is the Tuner base's. Everything but that hint is
// guarded by the pool mutex (Engine::mu). It only decides (see tuner.h).
#pragma once

#include <cstdint>

#include "pool/tuner.h"

namespace s3db::pool {

class AimdTuner final : public Tuner {
 public:
  // `memory_start`: where slow start ends (0: no slow start; see make_tuner()).
  AimdTuner(const AdaptiveOptions& options, TimePoint start, int memory_start) noexcept
      : window_(options.window), decrease_factor_(options.decrease_factor),
        increase_step_(options.increase_step), target_latency_(options.target_latency),
        min_(options.min_concurrency), max_(options.max_concurrency),
        throttled_is_rate_(options.send_rate), slow_from_(options.slow_start_from), window_start_(start),
        slow_to_(options.slow_start_from > 0 && memory_start > options.slow_start_from ? memory_start : 0) {}

  int initial_limit(int start) const noexcept override;
  std::optional<ConcurrencyChange> feedback_locked(Code code, Duration latency, TimePoint now, int limit) override;

  // Windows without a decrease before the limit may climb past the last ceiling (aimd_tuner.cc).
  static constexpr int kProbeAfterWindows = 10;

 private:
  const std::chrono::milliseconds window_;
  const double decrease_factor_;
  const int increase_step_;
  const std::chrono::milliseconds target_latency_;
  const int min_, max_;
  const bool throttled_is_rate_;  // the pool's SendRate answers Throttled (AdaptiveOptions::send_rate)
  const int slow_from_;
  TimePoint window_start_;
  int slow_to_;  // slow start: doubling while saturated until this limit; 0 = over (or none)
  TimePoint last_decrease_ = TimePoint::min();
  std::uint64_t lat_sum_ns_ = 0;
  std::uint64_t lat_n_ = 0;
  int ceiling_ = 0;        // the limit at the last decrease; 0 = none (or probing past it)
  int quiet_windows_ = 0;  // windows ended since the last decrease
};

}  // namespace s3db::pool
