#include "pool/histogram.h"

#include <algorithm>
#include <cmath>

namespace s3db::pool {

std::uint64_t Histogram::count() const noexcept {
  std::uint64_t n = 0;
  for (const auto& b : buckets_) n += b.load(std::memory_order_relaxed);
  return n;
}

std::uint64_t Histogram::count_at_most(std::uint64_t ns) const noexcept {
  std::uint64_t n = 0;
  for (int i = 0; i < kBuckets && upper(i) <= ns; ++i) n += buckets_[i].load(std::memory_order_relaxed);
  return n;
}

LatencySummary Histogram::summary() const noexcept {
  std::array<std::uint64_t, kBuckets> counts;
  std::uint64_t total = 0;
  for (int i = 0; i < kBuckets; ++i) {
    counts[i] = buckets_[i].load(std::memory_order_relaxed);
    total += counts[i];
  }
  LatencySummary s;
  s.count = total;
  if (total == 0) return s;
  s.sum_s = static_cast<double>(sum_.load(std::memory_order_relaxed)) / 1e9;
  // The cumulative Prometheus buckets, in one pass: bounds and bucket upper ends both ascend.
  std::uint64_t below = 0;
  int i = 0;
  for (std::size_t b = 0; b < kLatencyBucketBounds.size(); ++b) {
    const auto bound_ns = static_cast<std::uint64_t>(kLatencyBucketBounds[b] * 1e9);
    for (; i < kBuckets && upper(i) <= bound_ns; ++i) below += counts[i];
    s.at_most[b] = below;
  }
  const double max_ns = static_cast<double>(max_.load(std::memory_order_relaxed));
  s.avg_ms = static_cast<double>(sum_.load(std::memory_order_relaxed)) / static_cast<double>(total) / 1e6;
  s.max_ms = max_ns / 1e6;
  auto percentile = [&](double q) {
    const auto target = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total)));
    std::uint64_t cum = 0;
    for (int i = 0; i < kBuckets; ++i) {
      cum += counts[i];
      if (cum >= std::max<std::uint64_t>(target, 1)) {
        const double mid = (static_cast<double>(lower(i)) + static_cast<double>(upper(i))) / 2.0;
        return std::min(mid, max_ns) / 1e6;
      }
    }
    return max_ns / 1e6;
  };
  s.p50_ms = percentile(0.50);
  s.p95_ms = percentile(0.95);
  s.p99_ms = percentile(0.99);
  return s;
}

}  // namespace s3db::pool
