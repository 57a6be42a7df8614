// pool::AimdTuner: AIMD feedback on the concurrency limit.
//
// AIMD: a Throttled/Unavailable/Timeout attempt multiplies the limit by decrease_factor, at most
// once per window (a burst of 503s is one signal, not fifty). At the end of a window without a
// decrease, the limit grows by increase_step only if the pool was saturated during it (an op was
// waiting for a slot): raising an unused limit would only let a later burst overload the store.
// The latency guard averages successful attempts only — a fast 503 says nothing about latency.
// One call changes the limit at most once: a decrease marks the window as decreased.
//
// The ceiling: the limit at which the store last pushed back. Climbing again, the limit stops just
// under it — the store said where its knee is — and probes past it only after kProbeAfterWindows
// windows without a decrease (the store may have recovered: it climbs back towards max if the
// probe passes). Without it the limit would saw between the ceiling and ceiling × factor, a
// throttled burst at every tooth.
//
// Slow start (a memory-based start above slow_start_from): the limit starts at slow_start_from and
// doubles at the end of each saturated window up to the memory suggestion; the first decrease
// (Unavailable, Timeout, latency, or Throttled without a send rate) ends it. Measured behind a 150 requests/s limit with 50 ms of latency,
// starting at the suggestion (256) sent 256 requests before the first answer: 106 throttled, 3.4 %
// of a 3,000-record import before any tuning could act.
//
// With a send rate (AdaptiveOptions::send_rate), Throttled is the SendRate's: the store asked for
// fewer requests per second, which pacing gives exactly; a lower limit would only add a second,
// coarser loop fighting the first.
#include "pool/aimd_tuner.h"

#include <algorithm>
#include <cmath>

namespace s3db::pool {

int AimdTuner::initial_limit(int start) const noexcept {
  return slow_to_ > 0 ? std::clamp(std::min(start, slow_from_), min_, max_) : start;
}

std::optional<ConcurrencyChange> AimdTuner::feedback_locked(Code code, Duration latency, TimePoint now, int limit) {
  std::optional<ConcurrencyChange> change;
  const auto can_decrease = [&] { return last_decrease_ == TimePoint::min() || now - last_decrease_ >= window_; };
  const auto decrease = [&](const char* reason) {
    const int n = std::max(min_, static_cast<int>(std::floor(limit * decrease_factor_)));
    last_decrease_ = now;
    ceiling_ = limit;
    quiet_windows_ = 0;
    slow_to_ = 0;
    if (n < limit) change = ConcurrencyChange{limit, n, reason};
  };

  if (code == Code::kThrottled && throttled_is_rate_) {
    // The send rate's (pool/send_rate.h). Not the end of slow start either: while pacing holds
    // the rate, ops wait for tokens, not slots, so the limit is not saturated and does not grow;
    // and a store that throttles at random would otherwise stop slow start at its first answer.
  } else if (code == Code::kThrottled || code == Code::kUnavailable || code == Code::kTimeout) {
    if (can_decrease()) {
      decrease(code == Code::kThrottled ? "throttled" : code == Code::kUnavailable ? "unavailable" : "timeout");
    }
  } else if (code == Code::kOk) {
    lat_sum_ns_ += static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count());
    ++lat_n_;
  }

  if (now - window_start_ >= window_) {
    const bool saturated = take_saturated();
    const bool decreased_in_window = last_decrease_ != TimePoint::min() && last_decrease_ >= window_start_;
    if (!decreased_in_window) {
      const auto target_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(target_latency_).count();
      if (target_ns > 0 && lat_n_ > 0 && lat_sum_ns_ / lat_n_ > static_cast<std::uint64_t>(target_ns)) {
        decrease("latency");
      } else {
        ++quiet_windows_;
        if (ceiling_ > 0 && quiet_windows_ >= kProbeAfterWindows) ceiling_ = 0;  // probe past it
        if (saturated && slow_to_ > limit) {
          const int n = std::min({slow_to_, max_, 2 * limit});
          if (n >= slow_to_) slow_to_ = 0;
          if (n > limit) change = ConcurrencyChange{limit, n, "slow_start"};
        } else if (saturated) {
          int n = std::min(max_, limit + std::max(1, increase_step_));
          if (ceiling_ > 0) n = std::min(n, ceiling_ - 1);
          if (n > limit) change = ConcurrencyChange{limit, n, "saturated"};
        }
      }
    }
    window_start_ = now;
    lat_sum_ns_ = 0;
    lat_n_ = 0;
  }
  return change;
}

}  // namespace s3db::pool
