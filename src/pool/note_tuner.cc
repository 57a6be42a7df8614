#include "pool/note_tuner.h"

#include <algorithm>
#include <cmath>

namespace s3db::pool {

namespace {

// `limit` scaled by `factor`, moved by at least 1 in the factor's direction, within bounds.
int scaled(int limit, double factor, const NoteTunerTargets& t) {
  int n = static_cast<int>(std::lround(limit * factor));
  if (factor < 1 && n >= limit) n = limit - 1;
  if (factor > 1 && n <= limit) n = limit + 1;
  return std::clamp(n, t.min_concurrency, std::max(t.min_concurrency, t.max_concurrency));
}

}  // namespace

std::optional<TunerDecision> note_rule(const NoteTunerInput& in, const NoteTunerTargets& t) noexcept {
  const auto decide = [&](double factor, const char* reason) -> std::optional<TunerDecision> {
    const int n = scaled(in.limit, factor, t);
    if (n == in.limit) return std::nullopt;
    return TunerDecision{n, reason};
  };
  if (in.memory >= 0 && in.memory >= t.memory) return decide(0.8, "memory-pressure");
  if (in.mean_latency.count() <= 0) return std::nullopt;
  const double latency = std::chrono::duration<double>(in.mean_latency).count();
  const double target = std::chrono::duration<double>(t.latency).count();
  if (latency > 1.5 * target) return decide(0.9, "latency-high");
  if (latency < 0.5 * target && (in.memory < 0 || in.memory < 0.8 * t.memory)) return decide(1.2, "latency-low");
  if (latency > 1.2 * target) return decide(0.95, "latency-moderate");
  return std::nullopt;
}

NoteTuner::NoteTuner(const AdaptiveOptions& a, MemoryShare memory)
    : targets_{a.min_concurrency, a.max_concurrency,
               a.target_latency.count() > 0 ? a.target_latency : kDefaultLatencyTarget, a.memory_target},
      interval_(std::max<Duration>(a.interval, std::chrono::milliseconds(1))),
      memory_(std::move(memory)) {}

std::optional<ConcurrencyChange> NoteTuner::feedback_locked(Code code, Duration latency, TimePoint, int) {
  if (code == Code::kOk) {  // a fast 503 says nothing about the store's speed
    lat_sum_ns_ += static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count());
    ++lat_n_;
  }
  return std::nullopt;  // the rules run on the tick
}

std::optional<ConcurrencyChange> NoteTuner::tick_locked(TimePoint, int limit, double memory) {
  NoteTunerInput in;
  in.limit = limit;
  if (lat_n_ > 0) in.mean_latency = std::chrono::nanoseconds(lat_sum_ns_ / lat_n_);
  in.memory = memory;
  lat_sum_ns_ = 0;
  lat_n_ = 0;
  const auto d = note_rule(in, targets_);
  if (!d) return std::nullopt;
  return ConcurrencyChange{limit, d->limit, d->reason};
}

}  // namespace s3db::pool
