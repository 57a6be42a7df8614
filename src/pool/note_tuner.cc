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

}  // namespace s3db::pool
