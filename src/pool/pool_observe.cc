// Observability: stats(), metrics(), prometheus() and event subscriptions.
#include <algorithm>
#include <cstdio>

#include "pool/pool_impl.h"

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
  }
  return "unknown";
}

// ---- events ------------------------------------------------------------------------------------

Subscription OperationPool::on(PoolEvent event, EventListener listener) {
  Impl& p = *impl_;
  const int e = static_cast<int>(event);
  std::uint64_t id = 0;
  {
    std::lock_guard<std::mutex> g(p.ev_mu);
    id = p.next_listener_id++;
    auto list = std::make_shared<Impl::ListenerList>(p.listeners[e] ? *p.listeners[e] : Impl::ListenerList{});
    list->emplace_back(id, std::move(listener));
    p.listeners[e] = std::move(list);
    p.listener_mask.fetch_or(1u << e, std::memory_order_relaxed);
  }
  return Subscription([&p, e, id] {
    std::lock_guard<std::mutex> g(p.ev_mu);
    if (!p.listeners[e]) return;
    auto list = std::make_shared<Impl::ListenerList>();
    for (const auto& entry : *p.listeners[e]) {
      if (entry.first != id) list->push_back(entry);
    }
    if (list->empty()) {
      p.listeners[e].reset();
      p.listener_mask.fetch_and(~(1u << e), std::memory_order_relaxed);
    } else {
      p.listeners[e] = std::move(list);
    }
  });
}

void OperationPool::Impl::emit(const EventInfo& info) {
  std::shared_ptr<const ListenerList> snapshot;
  {
    std::lock_guard<std::mutex> g(ev_mu);
    snapshot = listeners[static_cast<int>(info.event)];
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

void OperationPool::Impl::emit_simple(PoolEvent e) {
  if (!wants(e)) return;
  EventInfo info{};
  info.event = e;
  emit(info);
}

void OperationPool::Impl::emit_change(const pool::ConcurrencyChange& c) {
  if (!wants(PoolEvent::kConcurrencyChanged)) return;
  EventInfo info{};
  info.event = PoolEvent::kConcurrencyChanged;
  info.old_concurrency = c.old_value;
  info.new_concurrency = c.new_value;
  info.reason = c.reason;
  emit(info);
}

// ---- snapshots ---------------------------------------------------------------------------------

PoolStats OperationPool::stats() const {
  const Impl& p = *impl_;
  PoolStats s;
  s.queue_size = p.queued.load(std::memory_order_acquire);
  s.active = static_cast<std::size_t>(std::max(0, p.active.load(std::memory_order_acquire)));
  s.processed = p.processed.load(std::memory_order_acquire);
  s.errors = p.errors.load(std::memory_order_acquire);
  s.retries = p.retries.load(std::memory_order_acquire);
  s.concurrency = p.limit.load(std::memory_order_acquire);
  s.paused = p.paused.load(std::memory_order_acquire);
  s.stopped = p.stopped.load(std::memory_order_acquire);
  return s;
}

PoolMetrics OperationPool::metrics() const {
  Impl& p = *impl_;
  PoolMetrics m;
  m.queue_wait = p.queue_wait.summary();
  m.execution = p.execution.summary();
  const TimePoint now = p.clock->now();
  const std::int64_t up_ns = std::max<std::int64_t>(0, p.ns_since_start(now));
  m.uptime_s = static_cast<double>(up_ns) / 1e9;
  m.processed = p.processed.load(std::memory_order_acquire);
  const std::int64_t second = up_ns / 1'000'000'000;
  const double fraction = static_cast<double>(up_ns % 1'000'000'000) / 1e9;
  p.throughput.read(second, fraction, m.throughput_current, m.throughput_peak);
  m.throughput_avg = m.uptime_s > 0 ? static_cast<double>(m.processed) / m.uptime_s : 0.0;
  for (int i = 0; i < kCodeCount; ++i) m.errors_by_code[i] = p.errors_by_code[i].load(std::memory_order_relaxed);
  double capacity = 0;
  {
    std::lock_guard<std::mutex> g(p.mu);
    capacity = p.capacity_ns + static_cast<double>(p.limit.load(std::memory_order_relaxed)) *
                                   static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                           now - p.capacity_since).count());
    m.concurrency = p.limit.load(std::memory_order_relaxed);
  }
  const double busy = static_cast<double>(p.busy_ns.load(std::memory_order_relaxed));
  m.utilisation = capacity > 0 ? std::clamp(busy / capacity, 0.0, 1.0) : 0.0;
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
  const Impl& p = *impl_;
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
  histogram(out, "s3db_pool_queue_wait_seconds", "Time from submit to the first attempt.", p.queue_wait, pl);
  histogram(out, "s3db_pool_execution_seconds", "Duration of each attempt.", p.execution, pl);
  return out;
}

}  // namespace s3db
