// pool::Observation and the pool's observable surface: stats(), metrics(), prometheus() (the
// families themselves: exposition.{h,cc}), on().
#include "pool/observation.h"

#include <algorithm>

#include "pool/engine.h"
#include "pool/exposition.h"

namespace s3db {

std::string_view event_name(PoolEvent e) noexcept {
  switch (e) {
    case PoolEvent::kTaskStarted: return "task_started";
    case PoolEvent::kTaskCompleted: return "task_completed";
    case PoolEvent::kTaskError: return "task_error";
    case PoolEvent::kTaskRetry: return "task_retry";
    case PoolEvent::kDrained: return "drained";
    case PoolEvent::kPaused: return "paused";
    case PoolEvent::kResumed: return "resumed";
    case PoolEvent::kStopped: return "stopped";
    case PoolEvent::kConcurrencyChanged: return "concurrency_changed";
    case PoolEvent::kBreakerChanged: return "breaker_changed";
  }
  return "unknown";
}

namespace pool {

// ---- events ------------------------------------------------------------------------------------

Subscription Observation::subscribe(PoolEvent event, EventListener listener) {
  const int e = static_cast<int>(event);
  std::uint64_t id = 0;
  {
    std::lock_guard<std::mutex> g(ev_mu_);
    id = next_listener_id_++;
    auto list = std::make_shared<ListenerList>(listeners_[e] ? *listeners_[e] : ListenerList{});
    list->emplace_back(id, std::move(listener));
    listeners_[e] = std::move(list);
    listener_mask_.fetch_or(1u << e, std::memory_order_relaxed);
  }
  return Subscription([this, e, id] {
    std::lock_guard<std::mutex> g(ev_mu_);
    if (!listeners_[e]) return;
    auto list = std::make_shared<ListenerList>();
    for (const auto& entry : *listeners_[e]) {
      if (entry.first != id) list->push_back(entry);
    }
    if (list->empty()) {
      listeners_[e].reset();
      listener_mask_.fetch_and(~(1u << e), std::memory_order_relaxed);
    } else {
      listeners_[e] = std::move(list);
    }
  });
}

void Observation::emit(const EventInfo& info) {
  std::shared_ptr<const ListenerList> snapshot;
  {
    std::lock_guard<std::mutex> g(ev_mu_);
    snapshot = listeners_[static_cast<int>(info.event)];
  }
  if (!snapshot) return;
  // Listeners run without any pool lock, on a snapshot: they may subscribe, unsubscribe or call
  // the pool. A throwing listener is ignored so that it cannot break dispatch.
  for (const auto& entry : *snapshot) {
    try {
      entry.second(info);
    } catch (...) {
    }
  }
}

void Observation::emit_simple(PoolEvent e) {
  if (!wants(e)) return;
  EventInfo info{};
  info.event = e;
  emit(info);
}

void Observation::emit_change(const ConcurrencyChange& c) {
  {
    const double at_s = static_cast<double>(std::max<std::int64_t>(0, ns_since_start(clock_.now()))) / 1e9;
    std::lock_guard<std::mutex> g(decisions_mu_);
    ConcurrencyDecisions& d = decisions_;
    ++d.total;
    d.last = ConcurrencyDecision{c.old_value, c.new_value, c.reason, at_s};
    // Reasons are a handful of literals; past kReasons - 1 distinct ones the last slot is "other".
    const std::string_view reason = c.reason;
    std::size_t i = 0;
    while (i < d.reasons && d.by_reason[i].reason != reason) ++i;
    if (i == d.reasons) {
      if (d.reasons < ConcurrencyDecisions::kReasons - 1) {
        d.by_reason[d.reasons++].reason = reason;
      } else {
        i = ConcurrencyDecisions::kReasons - 1;
        if (d.reasons < ConcurrencyDecisions::kReasons) d.by_reason[d.reasons++].reason = "other";
      }
    }
    ++d.by_reason[i].count;
  }
  if (!wants(PoolEvent::kConcurrencyChanged)) return;
  EventInfo info{};
  info.event = PoolEvent::kConcurrencyChanged;
  info.old_concurrency = c.old_value;
  info.new_concurrency = c.new_value;
  info.reason = c.reason;
  emit(info);
}

// ---- figures -------------------------------------------------------------------------------------

void Observation::limit_changed_locked(int old_limit, TimePoint now) noexcept {
  capacity_ns_ += static_cast<double>(old_limit) *
                  static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - capacity_since_).count());
  capacity_since_ = now;
}

double Observation::capacity_ns_locked(int limit, TimePoint now) const noexcept {
  return capacity_ns_ + static_cast<double>(limit) *
                            static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                    now - capacity_since_).count());
}

double Observation::utilisation(double capacity_ns) const noexcept {
  const double busy = static_cast<double>(busy_ns_.load(std::memory_order_relaxed));
  return capacity_ns > 0 ? std::clamp(busy / capacity_ns, 0.0, 1.0) : 0.0;
}

ConcurrencyDecisions Observation::decisions() const {
  std::lock_guard<std::mutex> g(decisions_mu_);
  return decisions_;
}

PoolMetrics Observation::metrics(TimePoint now) const noexcept {
  PoolMetrics m;
  m.queue_wait = queue_wait_.summary();
  m.execution = execution_.summary();
  const std::int64_t up_ns = std::max<std::int64_t>(0, ns_since_start(now));
  m.uptime_s = static_cast<double>(up_ns) / 1e9;
  m.processed = processed_.load(std::memory_order_acquire);
  const std::int64_t second = up_ns / 1'000'000'000;
  const double fraction = static_cast<double>(up_ns % 1'000'000'000) / 1e9;
  throughput_.read(second, fraction, m.throughput_current, m.throughput_peak);
  m.throughput_avg = m.uptime_s > 0 ? static_cast<double>(m.processed) / m.uptime_s : 0.0;
  for (int i = 0; i < kCodeCount; ++i) m.errors_by_code[i] = errors_by_code_[i].load(std::memory_order_relaxed);
  m.errors = errors_.load(std::memory_order_acquire);
  m.error_rate = m.processed > 0 ? std::min(1.0, static_cast<double>(m.errors) / static_cast<double>(m.processed)) : 0.0;
  return m;
}

// ---- Throughput ------------------------------------------------------------------------------

void Throughput::tick(std::int64_t second) noexcept {
  Bucket& b = ring_[static_cast<std::size_t>(second) % ring_.size()];
  std::int64_t seen = b.second.load(std::memory_order_acquire);
  if (seen != second) {
    if (seen < second && b.second.compare_exchange_strong(seen, second, std::memory_order_acq_rel)) {
      b.count.store(0, std::memory_order_relaxed);
      // The previous second is complete: fold it into the peak.
      const Bucket& p = ring_[static_cast<std::size_t>(second - 1) % ring_.size()];
      if (p.second.load(std::memory_order_acquire) == second - 1) {
        const std::uint64_t c = p.count.load(std::memory_order_relaxed);
        std::uint64_t peak = peak_.load(std::memory_order_relaxed);
        while (c > peak && !peak_.compare_exchange_weak(peak, c, std::memory_order_relaxed)) {
        }
      }
    } else if (seen > second) {
      return;  // a stale tick from a thread that read the clock long ago
    }
  }
  b.count.fetch_add(1, std::memory_order_relaxed);
}

void Throughput::read(std::int64_t second, double fraction, double& current, double& peak) const noexcept {
  auto count_of = [&](std::int64_t s) -> double {
    if (s < 0) return 0;
    const Bucket& b = ring_[static_cast<std::size_t>(s) % ring_.size()];
    return b.second.load(std::memory_order_acquire) == s
               ? static_cast<double>(b.count.load(std::memory_order_relaxed))
               : 0.0;
  };
  // Sliding window: all of this second plus the not-yet-elapsed share of the previous one.
  current = count_of(second) + count_of(second - 1) * (1.0 - fraction);
  peak = std::max({static_cast<double>(peak_.load(std::memory_order_relaxed)), count_of(second - 1), current});
}

}  // namespace pool

// ---- the public surface ----------------------------------------------------------------------------

Subscription OperationPool::on(PoolEvent event, EventListener listener) {
  return impl_->obs.subscribe(event, std::move(listener));
}

namespace {

// The protective parts' figures, for stats() and metrics() alike.
void protection(const pool::Engine& p, BreakerMetrics& breaker, RetryBudgetMetrics& budget) {
  if (const pool::CircuitBreaker* b = p.guard.breaker()) {
    const pool::BreakerSnapshot bs = b->snapshot(p.clock->now());
    breaker = BreakerMetrics{true, bs.state, bs.times_opened, bs.refused};
  }
  if (const pool::RetryBudget* r = p.guard.budget()) budget = RetryBudgetMetrics{true, r->tokens(), r->refused()};
}

}  // namespace

PoolStats OperationPool::stats() const {
  pool::Engine& p = *impl_;
  PoolStats s;
  s.queue_size = p.queue.queued();
  s.active = static_cast<std::size_t>(std::max(0, p.dispatch.active()));
  s.processed = p.obs.processed();
  s.errors = p.obs.errors();
  s.retries = p.obs.retries();
  s.ran_again = p.obs.ran_again();
  s.concurrency = p.dispatch.limit();
  s.cap = p.dispatch.cap() == pool::Dispatch::kNoCap ? -1 : p.dispatch.cap();
  s.paused = p.paused.load(std::memory_order_acquire);
  s.stopped = p.stopped.load(std::memory_order_acquire);
  s.deduplicated = p.dedup.joined();
  BreakerMetrics breaker;
  RetryBudgetMetrics budget;
  protection(p, breaker, budget);
  s.breaker_enabled = breaker.enabled;
  s.breaker_state = breaker.state;
  s.breaker_opened = breaker.opened;
  s.breaker_refused = breaker.refused;
  s.retry_budget_enabled = budget.enabled;
  s.retry_budget_tokens = budget.tokens;
  s.retry_budget_refused = budget.refused;
  if (p.send_rate && p.pacing.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> g(p.mu);
    s.send_rate = p.send_rate->rate_locked(p.clock->now());
  }
  return s;
}

PoolMetrics OperationPool::metrics() const {
  pool::Engine& p = *impl_;
  const TimePoint now = p.clock->now();
  PoolMetrics m = p.obs.metrics(now);
  double capacity = 0;
  {
    std::lock_guard<std::mutex> g(p.mu);
    m.concurrency = p.dispatch.limit();
    capacity = p.obs.capacity_ns_locked(m.concurrency, now);
    if (p.send_rate) {
      m.send_rate = SendRateMetrics{true, p.send_rate->pacing(), p.send_rate->rate_locked(now),
                                    p.send_rate->accepted_locked(now), p.send_rate->signals()};
    }
  }
  m.utilisation = p.obs.utilisation(capacity);
  // capacity is the integral of the limit over time: over the uptime, the average limit.
  m.concurrency_avg = m.uptime_s > 0 ? capacity / (m.uptime_s * 1e9) : m.concurrency;
  protection(p, m.breaker, m.retry_budget);
  m.decisions = p.obs.decisions();
  return m;
}

std::string OperationPool::prometheus() const {
  return pool::to_text(pool::pool_families(stats(), metrics(), impl_->opts.name));
}

}  // namespace s3db
