// pool::Observation and the pool's observable surface: stats(), metrics(), prometheus(), on().
#include "pool/observation.h"

#include <algorithm>
#include <cstdio>

#include "pool/engine.h"

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

PoolStats OperationPool::stats() const {
  const pool::Engine& p = *impl_;
  PoolStats s;
  s.queue_size = p.queue.queued();
  s.active = static_cast<std::size_t>(std::max(0, p.dispatch.active()));
  s.processed = p.obs.processed();
  s.errors = p.obs.errors();
  s.retries = p.obs.retries();
  s.concurrency = p.dispatch.limit();
  s.paused = p.paused.load(std::memory_order_acquire);
  s.stopped = p.stopped.load(std::memory_order_acquire);
  s.deduplicated = p.dedup.joined();
  if (const pool::CircuitBreaker* b = p.guard.breaker()) {
    const pool::BreakerSnapshot bs = b->snapshot(p.clock->now());
    s.breaker_enabled = true;
    s.breaker_state = bs.state;
    s.breaker_opened = bs.times_opened;
    s.breaker_refused = bs.refused;
  }
  if (const pool::RetryBudget* r = p.guard.budget()) {
    s.retry_budget_enabled = true;
    s.retry_budget_tokens = r->tokens();
    s.retry_budget_refused = r->refused();
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
  }
  m.utilisation = p.obs.utilisation(capacity);
  return m;
}

// ---- Prometheus text exposition (format 0.0.4) ------------------------------------------------

namespace {

std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const std::string& name, const std::string& labels, const std::string& value) {
  out += name;
  out += '{';
  out += labels;
  out += "} ";
  out += value;
  out += '\n';
}

void histogram(std::string& out, const char* name, const char* help, const pool::Histogram& h,
               const std::string& pool_label) {
  static constexpr double kBounds[] = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30};
  header(out, name, "histogram", help);
  const std::string base = name;
  for (double le : kBounds) {
    const auto ns = static_cast<std::uint64_t>(le * 1e9);
    sample(out, base + "_bucket", pool_label + ",le=\"" + num(le) + "\"", std::to_string(h.count_at_most(ns)));
  }
  const std::uint64_t total = h.count();
  sample(out, base + "_bucket", pool_label + ",le=\"+Inf\"", std::to_string(total));
  sample(out, base + "_sum", pool_label, num(static_cast<double>(h.sum_ns()) / 1e9));
  sample(out, base + "_count", pool_label, std::to_string(total));
}

}  // namespace

std::string OperationPool::prometheus() const {
  const pool::Engine& p = *impl_;
  const PoolStats s = stats();
  const PoolMetrics m = metrics();
  const std::string pl = "pool=\"" + escape_label(p.opts.name) + "\"";
  std::string out;
  out.reserve(4096);

  header(out, "s3db_pool_processed_total", "counter", "Operations completed, any outcome.");
  sample(out, "s3db_pool_processed_total", pl, std::to_string(s.processed));
  header(out, "s3db_pool_errors_total", "counter", "Operations completed with an error, by status code.");
  for (int i = 1; i < kCodeCount; ++i) {
    sample(out, "s3db_pool_errors_total", pl + ",code=\"" + std::string(code_name(static_cast<Code>(i))) + "\"",
           std::to_string(m.errors_by_code[i]));
  }
  header(out, "s3db_pool_retries_total", "counter", "Retry attempts scheduled.");
  sample(out, "s3db_pool_retries_total", pl, std::to_string(s.retries));
  header(out, "s3db_pool_queue_size", "gauge", "Operations waiting for a slot.");
  sample(out, "s3db_pool_queue_size", pl, std::to_string(s.queue_size));
  header(out, "s3db_pool_active", "gauge", "Operations holding a slot.");
  sample(out, "s3db_pool_active", pl, std::to_string(s.active));
  header(out, "s3db_pool_concurrency", "gauge", "Current concurrency limit.");
  sample(out, "s3db_pool_concurrency", pl, std::to_string(s.concurrency));
  header(out, "s3db_pool_paused", "gauge", "1 while the pool is paused.");
  sample(out, "s3db_pool_paused", pl, s.paused ? "1" : "0");
  header(out, "s3db_pool_stopped", "gauge", "1 once the pool is stopped.");
  sample(out, "s3db_pool_stopped", pl, s.stopped ? "1" : "0");
  header(out, "s3db_pool_utilisation_ratio", "gauge", "Average busy slots / limit since start.");
  sample(out, "s3db_pool_utilisation_ratio", pl, num(m.utilisation));
  header(out, "s3db_pool_throughput_ops", "gauge", "Completions per second (current, peak, average).");
  sample(out, "s3db_pool_throughput_ops", pl + ",window=\"current\"", num(m.throughput_current));
  sample(out, "s3db_pool_throughput_ops", pl + ",window=\"peak\"", num(m.throughput_peak));
  sample(out, "s3db_pool_throughput_ops", pl + ",window=\"average\"", num(m.throughput_avg));
  if (s.breaker_enabled) {
    header(out, "s3db_pool_breaker_state", "gauge", "Circuit breaker state: 1 for the current one.");
    for (BreakerState b : {BreakerState::kClosed, BreakerState::kOpen, BreakerState::kHalfOpen}) {
      sample(out, "s3db_pool_breaker_state", pl + ",state=\"" + std::string(breaker_state_name(b)) + "\"",
             s.breaker_state == b ? "1" : "0");
    }
    header(out, "s3db_pool_breaker_opened_total", "counter", "Times the circuit opened.");
    sample(out, "s3db_pool_breaker_opened_total", pl, std::to_string(s.breaker_opened));
    header(out, "s3db_pool_breaker_refused_total", "counter", "Attempts the circuit breaker refused.");
    sample(out, "s3db_pool_breaker_refused_total", pl, std::to_string(s.breaker_refused));
  }
  if (s.retry_budget_enabled) {
    header(out, "s3db_pool_retry_budget_tokens", "gauge", "Tokens left in the retry budget.");
    sample(out, "s3db_pool_retry_budget_tokens", pl, std::to_string(s.retry_budget_tokens));
    header(out, "s3db_pool_retry_budget_refused_total", "counter",
           "Retries the spent budget refused (the failure was final).");
    sample(out, "s3db_pool_retry_budget_refused_total", pl, std::to_string(s.retry_budget_refused));
  }
  histogram(out, "s3db_pool_queue_wait_seconds", "Time from submit to the first attempt.", p.obs.queue_wait(), pl);
  histogram(out, "s3db_pool_execution_seconds", "Duration of each attempt.", p.obs.execution(), pl);
  return out;
}

}  // namespace s3db
