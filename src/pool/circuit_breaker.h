// Internal: the circuit breaker of s3db/pool_protection.h (its table is the contract). Pure
// bookkeeping: every call takes `now`, so tests drive it without a clock; the pool asks admit()
// before an attempt and reports its outcome with record().
//
// Generations: every transition starts a new generation, and an outcome counts only in the
// generation its attempt was admitted in — an attempt sent while the circuit was closed cannot
// close it again once it is open, and a probe of an earlier half-open cannot close a later one.
//
// Thread-safe (one small mutex; never held across anything but this bookkeeping).
#pragma once

#include <s3db/clock.h>
#include <s3db/pool_protection.h>
#include <s3db/status.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>

namespace s3db::pool {

struct BreakerTransition {
  BreakerState from;
  BreakerState to;
  std::uint32_t generation;  // the one it started: transitions are numbered 1, 2, 3...
  TimePoint open_until;      // when it half-opens (to == kOpen)
};

enum class Admission : std::uint8_t { kAdmitted, kProbe, kRefused };

struct BreakerSnapshot {
  BreakerState state = BreakerState::kClosed;  // open reads as half-open once its timeout passed
  TimePoint open_until{};                      // meaningful while open
  std::uint64_t times_opened = 0;
  std::uint64_t refused = 0;
  std::uint32_t generation = 0;  // every transition bumps it: a refusal at another one is stale
};

struct BreakerTicket {
  Admission admission = Admission::kAdmitted;
  std::uint32_t generation = 0;
  std::optional<BreakerTransition> moved;  // open → half-open happened on this call
};

// True for the failures that say the store is unhealthy (Throttled, Unavailable, Timeout).
bool unhealthy(Code code) noexcept;

class CircuitBreaker {
 public:
  explicit CircuitBreaker(CircuitBreakerOptions options);

  BreakerTicket admit(TimePoint now);
  // The outcome of an attempt admitted with `generation`. Cancelled counts as neither healthy nor
  // unhealthy (the caller gave up; the store said nothing) but frees a probe's place.
  std::optional<BreakerTransition> record(Code code, std::uint32_t generation, TimePoint now);

  // open → half-open when its timeout has passed by `now` (what admit() would do first), so that
  // the move happens — and is reported — on time even when no attempt asks.
  std::optional<BreakerTransition> half_open_if_due(TimePoint now);

  BreakerState state(TimePoint now) const;  // open reads as half-open once its timeout passed
  BreakerSnapshot snapshot(TimePoint now) const;  // one lock for what stats() shows
  TimePoint open_until() const;             // meaningful while open
  std::uint64_t times_opened() const;
  std::uint64_t refused() const;
  const CircuitBreakerOptions& options() const noexcept { return opts_; }

 private:
  struct Bucket {
    std::int64_t epoch = -1;  // which slice of time it counts (now / bucket width)
    std::uint32_t total = 0;
    std::uint32_t unhealthy = 0;
  };
  static constexpr std::size_t kBuckets = 10;

  BreakerTransition move_locked(BreakerState to, TimePoint now);
  void count_locked(bool bad, TimePoint now);
  bool tripped_locked(TimePoint now) const;

  const CircuitBreakerOptions opts_;
  const Duration bucket_width_;
  mutable std::mutex mu_;
  BreakerState state_ = BreakerState::kClosed;
  std::uint32_t generation_ = 0;
  TimePoint open_until_{};
  int probes_in_flight_ = 0;
  int probes_healthy_ = 0;
  int down_in_a_row_ = 0;  // closed: Unavailable/Timeout since the last healthy answer
  std::array<Bucket, kBuckets> buckets_{};
  std::uint64_t times_opened_ = 0;
  std::uint64_t refused_ = 0;
};

}  // namespace s3db::pool
