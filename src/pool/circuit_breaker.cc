#include "pool/circuit_breaker.h"

#include <algorithm>

namespace s3db {

std::string_view breaker_state_name(BreakerState s) noexcept {
  switch (s) {
    case BreakerState::kClosed: return "closed";
    case BreakerState::kOpen: return "open";
    case BreakerState::kHalfOpen: return "half-open";
  }
  return "closed";
}

namespace pool {

bool unhealthy(Code code) noexcept {
  return code == Code::kThrottled || code == Code::kUnavailable || code == Code::kTimeout;
}

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options)
    : opts_(options),
      bucket_width_(std::max<Duration>(std::chrono::duration_cast<Duration>(options.window) / kBuckets,
                                       std::chrono::milliseconds(1))) {}

BreakerTransition CircuitBreaker::move_locked(BreakerState to, TimePoint now) {
  const BreakerState from = state_;
  state_ = to;
  ++generation_;
  probes_in_flight_ = 0;
  probes_healthy_ = 0;
  down_in_a_row_ = 0;
  if (to == BreakerState::kOpen) {
    open_until_ = now + opts_.open_timeout;
    ++times_opened_;
  }
  if (to == BreakerState::kClosed) buckets_.fill(Bucket{});  // a fresh start: old failures are over
  return BreakerTransition{from, to, generation_, open_until_};
}

void CircuitBreaker::count_locked(bool bad, TimePoint now) {
  const std::int64_t epoch = now.time_since_epoch() / bucket_width_;
  Bucket& b = buckets_[static_cast<std::size_t>(epoch) % kBuckets];
  if (b.epoch != epoch) b = Bucket{epoch, 0, 0};
  ++b.total;
  if (bad) ++b.unhealthy;
}

bool CircuitBreaker::tripped_locked(TimePoint now) const {
  const std::int64_t epoch = now.time_since_epoch() / bucket_width_;
  std::uint64_t total = 0, bad = 0;
  for (const Bucket& b : buckets_) {
    if (b.epoch > epoch - static_cast<std::int64_t>(kBuckets) && b.epoch <= epoch) {
      total += b.total;
      bad += b.unhealthy;
    }
  }
  return total >= static_cast<std::uint64_t>(std::max(opts_.min_volume, 1)) &&
         static_cast<double>(bad) >= opts_.threshold * static_cast<double>(total);
}

BreakerTicket CircuitBreaker::admit(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  BreakerTicket t;
  if (state_ == BreakerState::kOpen && now >= open_until_) t.moved = move_locked(BreakerState::kHalfOpen, now);
  t.generation = generation_;
  switch (state_) {
    case BreakerState::kClosed:
      t.admission = Admission::kAdmitted;
      break;
    case BreakerState::kOpen:
      t.admission = Admission::kRefused;
      break;
    case BreakerState::kHalfOpen:
      if (probes_in_flight_ + probes_healthy_ < opts_.half_open_probes) {
        ++probes_in_flight_;
        t.admission = Admission::kProbe;
      } else {
        t.admission = Admission::kRefused;
      }
      break;
  }
  if (t.admission == Admission::kRefused) ++refused_;
  return t;
}

std::optional<BreakerTransition> CircuitBreaker::record(Code code, std::uint32_t generation, TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (generation != generation_) return std::nullopt;  // admitted in an earlier state: says nothing now
  const bool bad = unhealthy(code);
  switch (state_) {
    case BreakerState::kClosed:
      if (code == Code::kCancelled) return std::nullopt;
      count_locked(bad, now);
      if (!bad) down_in_a_row_ = 0;
      else if (code != Code::kThrottled) ++down_in_a_row_;
      if (bad && (tripped_locked(now) || (opts_.consecutive > 0 && down_in_a_row_ >= opts_.consecutive))) {
        return move_locked(BreakerState::kOpen, now);
      }
      return std::nullopt;
    case BreakerState::kOpen:
      return std::nullopt;
    case BreakerState::kHalfOpen:
      probes_in_flight_ = std::max(probes_in_flight_ - 1, 0);
      if (code == Code::kCancelled) return std::nullopt;  // its place goes to the next probe
      if (bad) return move_locked(BreakerState::kOpen, now);
      if (++probes_healthy_ >= opts_.half_open_probes) return move_locked(BreakerState::kClosed, now);
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<BreakerTransition> CircuitBreaker::half_open_if_due(TimePoint now) {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == BreakerState::kOpen && now >= open_until_) return move_locked(BreakerState::kHalfOpen, now);
  return std::nullopt;
}

BreakerSnapshot CircuitBreaker::snapshot(TimePoint now) const {
  std::lock_guard<std::mutex> lock(mu_);
  BreakerSnapshot s;
  s.state = state_ == BreakerState::kOpen && now >= open_until_ ? BreakerState::kHalfOpen : state_;
  s.open_until = open_until_;
  s.times_opened = times_opened_;
  s.refused = refused_;
  s.generation = generation_;
  return s;
}

BreakerState CircuitBreaker::state(TimePoint now) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (state_ == BreakerState::kOpen && now >= open_until_) return BreakerState::kHalfOpen;
  return state_;
}

TimePoint CircuitBreaker::open_until() const {
  std::lock_guard<std::mutex> lock(mu_);
  return open_until_;
}

std::uint64_t CircuitBreaker::times_opened() const {
  std::lock_guard<std::mutex> lock(mu_);
  return times_opened_;
}

std::uint64_t CircuitBreaker::refused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_;
}

}  // namespace pool
}  // namespace s3db
