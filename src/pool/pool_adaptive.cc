// Concurrency limit changes: set_concurrency() and adaptive AIMD feedback.
//
// AIMD: a Throttled/Unavailable/Timeout attempt multiplies the limit by decrease_factor, at most
// once per window (a burst of 503s is one signal, not fifty). At the end of a window without a
// decrease, the limit grows by increase_step only if the pool was saturated during it (an op was
// waiting for a slot): raising an unused limit would only let a later burst overload the store.
// The latency guard averages successful attempts only — a fast 503 says nothing about latency.
#include <algorithm>
#include <cmath>

#include "pool/pool_impl.h"

namespace s3db {

int OperationPool::Impl::set_limit_locked(int n, TimePoint now) {
  const int old = limit.load(std::memory_order_relaxed);
  if (n == old) return old;
  // Integrate capacity over time for utilisation().
  capacity_ns += static_cast<double>(old) *
                 static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - capacity_since).count());
  capacity_since = now;
  limit.store(n, std::memory_order_seq_cst);
  if (n > old) kick_locked(static_cast<std::size_t>(n - old));
  return old;
}

std::optional<pool::ConcurrencyChange> OperationPool::Impl::feedback_locked(Code code, Duration latency,
                                                                             TimePoint now) {
  const AdaptiveOptions& a = opts.adaptive;
  std::optional<pool::ConcurrencyChange> change;
  const auto can_decrease = [&] { return last_decrease == TimePoint::min() || now - last_decrease >= a.window; };
  const auto decrease = [&](const char* reason) {
    const int old = limit.load(std::memory_order_relaxed);
    const int n = std::max(a.min_concurrency, static_cast<int>(std::floor(old * a.decrease_factor)));
    last_decrease = now;
    if (n < old) {
      set_limit_locked(n, now);
      change = pool::ConcurrencyChange{old, n, reason};
    }
  };

  if (code == Code::kThrottled || code == Code::kUnavailable || code == Code::kTimeout) {
    if (can_decrease()) {
      decrease(code == Code::kThrottled ? "throttled" : code == Code::kUnavailable ? "unavailable" : "timeout");
    }
  } else if (code == Code::kOk) {
    lat_sum_ns += static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count());
    ++lat_n;
  }

  if (now - window_start >= a.window) {
    const bool decreased_in_window = last_decrease != TimePoint::min() && last_decrease >= window_start;
    if (!decreased_in_window) {
      const auto target_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(a.target_latency).count();
      if (target_ns > 0 && lat_n > 0 && lat_sum_ns / lat_n > static_cast<std::uint64_t>(target_ns)) {
        decrease("latency");
      } else if (saturated) {
        const int old = limit.load(std::memory_order_relaxed);
        const int n = std::min(a.max_concurrency, old + std::max(1, a.increase_step));
        if (n > old) {
          set_limit_locked(n, now);
          change = pool::ConcurrencyChange{old, n, "saturated"};
        }
      }
    }
    window_start = now;
    saturated = false;
    lat_sum_ns = 0;
    lat_n = 0;
  }
  return change;
}

}  // namespace s3db
