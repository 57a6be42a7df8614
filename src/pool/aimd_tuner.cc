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
#include "pool/aimd_tuner.h"

#include <algorithm>
#include <cmath>

namespace s3db::pool {

std::optional<ConcurrencyChange> AimdTuner::feedback_locked(Code code, Duration latency, TimePoint now, int limit) {
  std::optional<ConcurrencyChange> change;
  const auto can_decrease = [&] { return last_decrease_ == TimePoint::min() || now - last_decrease_ >= window_; };
  const auto decrease = [&](const char* reason) {
    const int n = std::max(min_, static_cast<int>(std::floor(limit * decrease_factor_)));
    last_decrease_ = now;
    ceiling_ = limit;
    quiet_windows_ = 0;
    if (n < limit) change = ConcurrencyChange{limit, n, reason};
  };

  if (code == Code::kThrottled || code == Code::kUnavailable || code == Code::kTimeout) {
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
        if (saturated) {
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
