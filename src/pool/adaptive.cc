// pool::Adaptive: AIMD feedback on the concurrency limit.
//
// AIMD: a Throttled/Unavailable/Timeout attempt multiplies the limit by decrease_factor, at most
// once per window (a burst of 503s is one signal, not fifty). At the end of a window without a
// decrease, the limit grows by increase_step only if the pool was saturated during it (an op was
// waiting for a slot): raising an unused limit would only let a later burst overload the store.
// The latency guard averages successful attempts only — a fast 503 says nothing about latency.
// One call changes the limit at most once: a decrease marks the window as decreased.
#include "pool/adaptive.h"

#include <algorithm>
#include <cmath>

namespace s3db::pool {

std::optional<ConcurrencyChange> Adaptive::feedback_locked(Code code, Duration latency, TimePoint now, int limit) {
  std::optional<ConcurrencyChange> change;
  const auto can_decrease = [&] { return last_decrease_ == TimePoint::min() || now - last_decrease_ >= a_.window; };
  const auto decrease = [&](const char* reason) {
    const int n = std::max(a_.min_concurrency, static_cast<int>(std::floor(limit * a_.decrease_factor)));
    last_decrease_ = now;
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

  if (now - window_start_ >= a_.window) {
    const bool decreased_in_window = last_decrease_ != TimePoint::min() && last_decrease_ >= window_start_;
    if (!decreased_in_window) {
      const auto target_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(a_.target_latency).count();
      if (target_ns > 0 && lat_n_ > 0 && lat_sum_ns_ / lat_n_ > static_cast<std::uint64_t>(target_ns)) {
        decrease("latency");
      } else if (saturated_.load(std::memory_order_relaxed)) {
        const int n = std::min(a_.max_concurrency, limit + std::max(1, a_.increase_step));
        if (n > limit) change = ConcurrencyChange{limit, n, "saturated"};
      }
    }
    window_start_ = now;
    saturated_.store(false, std::memory_order_relaxed);
    lat_sum_ns_ = 0;
    lat_n_ = 0;
  }
  return change;
}

}  // namespace s3db::pool
