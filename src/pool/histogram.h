// Fixed-size log-linear latency histogram: lock-free recording, percentiles from cumulative
// counts. 8 linear sub-buckets per power of two (≤ 12.5% relative error), values in nanoseconds.
#pragma once

#include <s3db/operation_pool.h>

#include <array>
#include <atomic>
#include <cstdint>

namespace s3db::pool {

class Histogram {
 public:
  static constexpr int kBuckets = 62 * 8;  // covers every uint64 value

  void record(std::uint64_t ns) noexcept {
    buckets_[index(ns)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(ns, std::memory_order_relaxed);
    std::uint64_t m = max_.load(std::memory_order_relaxed);
    while (ns > m && !max_.compare_exchange_weak(m, ns, std::memory_order_relaxed)) {
    }
  }

  // Snapshot: count, average, p50/p95/p99 (bucket midpoints, clamped to the max), max.
  LatencySummary summary() const noexcept;
  // Number of samples whose bucket lies entirely at or below `ns` (for Prometheus `le`).
  std::uint64_t count_at_most(std::uint64_t ns) const noexcept;
  std::uint64_t count() const noexcept;
  std::uint64_t sum_ns() const noexcept { return sum_.load(std::memory_order_relaxed); }

  static int index(std::uint64_t v) noexcept {
    if (v < 8) return static_cast<int>(v);
    const int e = 63 - __builtin_clzll(v);
    return (e - 2) * 8 + static_cast<int>((v >> (e - 3)) & 7);
  }
  static std::uint64_t lower(int idx) noexcept {
    if (idx < 8) return static_cast<std::uint64_t>(idx);
    const int e = idx / 8 + 2;
    return static_cast<std::uint64_t>(8 + idx % 8) << (e - 3);
  }
  static std::uint64_t upper(int idx) noexcept {  // inclusive
    if (idx < 8) return static_cast<std::uint64_t>(idx);
    const int e = idx / 8 + 2;
    return lower(idx) + ((std::uint64_t{1} << (e - 3)) - 1);
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

}  // namespace s3db::pool
