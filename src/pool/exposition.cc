// The pool's Prometheus families (see exposition.h) and their text rendering.
#include "pool/exposition.h"

#include <cmath>
#include <cstdio>
#include <initializer_list>

namespace s3db::pool {

namespace {

// Builds the list: one family at a time, each sample labelled with the pool first.
class Families {
 public:
  explicit Families(std::string_view pool) : pool_(pool) {}

  Families& family(std::string_view name, MetricKind kind, std::string_view help) {
    out_.push_back(MetricFamily{name, help, kind, {}});
    return *this;
  }
  // A sample of the last family, labelled pool="..." and then `extra`.
  using Labels = std::initializer_list<std::pair<std::string_view, std::string>>;
  Families& sample(double v, Labels extra = {}) {
    MetricSample s;
    s.labels.reserve(1 + extra.size());
    s.labels.emplace_back("pool", std::string(pool_));
    for (const auto& l : extra) s.labels.push_back(l);
    s.value = v;
    out_.back().samples.push_back(std::move(s));
    return *this;
  }
  Families& histogram(const LatencySummary& h) {
    sample(0);
    out_.back().samples.back().histogram = h;
    return *this;
  }
  std::vector<MetricFamily> take() { return std::move(out_); }

 private:
  std::string_view pool_;
  std::vector<MetricFamily> out_;
};

constexpr MetricKind kCounter = MetricKind::kCounter;
constexpr MetricKind kGauge = MetricKind::kGauge;

std::string num(double v) {
  char buf[64];
  // Counts print as integers however large (a double holds them exactly up to 2^53).
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void escape_into(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

// name{labels[,extra]} value
void line(std::string& out, std::string_view name, std::string_view suffix, const MetricSample& s,
          std::string_view extra_label, const std::string& extra_value, const std::string& value) {
  out += name;
  out += suffix;
  out += '{';
  bool first = true;
  auto label = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    escape_into(out, v);
    out += '"';
  };
  for (const auto& [k, v] : s.labels) label(k, v);
  if (!extra_label.empty()) label(extra_label, extra_value);
  out += "} ";
  out += value;
  out += '\n';
}

}  // namespace

std::vector<MetricFamily> pool_families(const PoolStats& s, const PoolMetrics& m, std::string_view pool_name) {
  Families f(pool_name);
  f.family("s3db_pool_processed_total", kCounter, "Operations completed, any outcome.").sample(double(s.processed));
  f.family("s3db_pool_errors_total", kCounter, "Operations completed with an error, by status code.");
  for (int i = 1; i < kCodeCount; ++i) {
    f.sample(double(m.errors_by_code[i]), {{"code", std::string(code_name(static_cast<Code>(i)))}});
  }
  f.family("s3db_pool_error_ratio", kGauge, "Operations completed with an error / operations completed, since start.")
      .sample(m.error_rate);
  f.family("s3db_pool_retries_total", kCounter, "Retry attempts scheduled.").sample(double(s.retries));
  f.family("s3db_pool_ran_again_total", kCounter, "Run-again pauses (conflict pauses, turn waits): not failures.")
      .sample(double(s.ran_again));
  f.family("s3db_pool_deduplicated_total", kCounter, "Operations that shared another's execution or result.")
      .sample(double(s.deduplicated));
  f.family("s3db_pool_queue_size", kGauge, "Operations waiting for a slot.").sample(double(s.queue_size));
  f.family("s3db_pool_active", kGauge, "Operations holding a slot.").sample(double(s.active));
  f.family("s3db_pool_concurrency", kGauge, "Current concurrency limit.").sample(double(s.concurrency));
  f.family("s3db_pool_concurrency_avg", kGauge, "Concurrency limit averaged over time since start.")
      .sample(m.concurrency_avg);
  f.family("s3db_pool_paused", kGauge, "1 while the pool is paused.").sample(s.paused ? 1 : 0);
  f.family("s3db_pool_stopped", kGauge, "1 once the pool is stopped.").sample(s.stopped ? 1 : 0);
  f.family("s3db_pool_utilisation_ratio", kGauge, "Average busy slots / limit since start.").sample(m.utilisation);
  f.family("s3db_pool_throughput_ops", kGauge, "Completions per second (current, peak, average).")
      .sample(m.throughput_current, {{"window", "current"}})
      .sample(m.throughput_peak, {{"window", "peak"}})
      .sample(m.throughput_avg, {{"window", "average"}});
  f.family("s3db_pool_latency_quantile_seconds", kGauge,
           "Latency percentiles since start (queue_wait: submit to first attempt; execution: each attempt).");
  for (const auto& [stage, l] : {std::pair{"queue_wait", &m.queue_wait}, std::pair{"execution", &m.execution}}) {
    f.sample(l->p50_ms / 1e3, {{"stage", stage}, {"quantile", "0.5"}})
        .sample(l->p95_ms / 1e3, {{"stage", stage}, {"quantile", "0.95"}})
        .sample(l->p99_ms / 1e3, {{"stage", stage}, {"quantile", "0.99"}});
  }
  if (m.breaker.enabled) {
    f.family("s3db_pool_breaker_state", kGauge, "Circuit breaker state: 1 for the current one.");
    for (BreakerState b : {BreakerState::kClosed, BreakerState::kOpen, BreakerState::kHalfOpen}) {
      f.sample(m.breaker.state == b ? 1 : 0, {{"state", std::string(breaker_state_name(b))}});
    }
    f.family("s3db_pool_breaker_opened_total", kCounter, "Times the circuit opened.").sample(double(m.breaker.opened));
    f.family("s3db_pool_breaker_refused_total", kCounter, "Attempts the circuit breaker refused.")
        .sample(double(m.breaker.refused));
  }
  if (m.retry_budget.enabled) {
    f.family("s3db_pool_retry_budget_tokens", kGauge, "Tokens left in the retry budget.")
        .sample(m.retry_budget.tokens);
    f.family("s3db_pool_retry_budget_refused_total", kCounter,
             "Retries the spent budget refused (the failure was final).")
        .sample(double(m.retry_budget.refused));
  }
  if (m.send_rate.enabled) {
    f.family("s3db_pool_send_rate", kGauge,
             "Requests/s attempts are paced to, learnt from throttling (0: not pacing).")
        .sample(m.send_rate.rate);
    f.family("s3db_pool_accepted_rate", kGauge, "Requests/s the store accepted (not throttled) over the last window.")
        .sample(m.send_rate.accepted);
    f.family("s3db_pool_send_rate_signals_total", kCounter, "Throttle signals that started pacing or lowered its rate.")
        .sample(double(m.send_rate.signals));
  }
  const ConcurrencyDecisions& d = m.decisions;
  f.family("s3db_pool_concurrency_changes_total", kCounter,
           "Concurrency limit changes, by reason (set_concurrency or a tuner's).");
  for (std::size_t i = 0; i < d.reasons; ++i) {
    f.sample(double(d.by_reason[i].count), {{"reason", std::string(d.by_reason[i].reason)}});
  }
  if (d.total > 0) {
    f.family("s3db_pool_concurrency_last_change_seconds", kGauge,
             "Pool uptime at the last concurrency change, labelled with its reason.")
        .sample(d.last.at_s, {{"reason", std::string(d.last.reason)}});
    f.family("s3db_pool_concurrency_last_change_from", kGauge, "The limit before the last concurrency change.")
        .sample(d.last.old_value);
  }
  f.family("s3db_pool_queue_wait_seconds", MetricKind::kHistogram, "Time from submit to the first attempt.")
      .histogram(m.queue_wait);
  f.family("s3db_pool_execution_seconds", MetricKind::kHistogram, "Duration of each attempt.").histogram(m.execution);
  return f.take();
}

std::vector<MetricFamily> shared_families(const SharedLimitState& s, std::string_view pool_name) {
  Families f(pool_name);
  if (!s.joined) return f.take();
  if (s.shared) {
    f.family("s3db_shared_permits_held", kGauge, "Permits of the shared concurrency limit held now.")
        .sample(double(s.held));
    f.family("s3db_shared_fallback", kGauge, "1 while Redis is away and the pool runs on its local share.")
        .sample(s.fallback ? 1 : 0);
    f.family("s3db_shared_permits_total", kCounter, "Permits leased, returned (excess_returned: of them, to a process below its fair share), lost (expired before renewal).")
        .sample(double(s.leased), {{"event", "leased"}})
        .sample(double(s.returned), {{"event", "returned"}})
        .sample(double(s.lost), {{"event", "lost"}})
        .sample(double(s.excess_returned), {{"event", "excess_returned"}});
    f.family("s3db_shared_renewals_total", kCounter, "Lease renewal rounds.").sample(double(s.renewals));
    f.family("s3db_shared_fallbacks_total", kCounter, "Times Redis went away.").sample(double(s.fallbacks));
  }
  f.family("s3db_rate_cap_requests_total", kCounter, "Storage requests that took a rate-cap token.")
      .sample(double(s.rate_requests));
  f.family("s3db_rate_cap_waits_total", kCounter, "Storage requests that waited for their token.")
      .sample(double(s.rate_waits));
  f.family("s3db_rate_cap_wait_seconds_total", kCounter, "Time requests waited for rate-cap tokens.")
      .sample(s.rate_wait_s);
  return f.take();
}

std::vector<MetricFamily> hedge_families(const HedgeStats& s, std::string_view pool_name) {
  Families f(pool_name);
  if (!s.enabled) return f.take();
  struct Named {
    const char* kind;
    const HedgeStats::Kind& k;
  };
  const Named kinds[] = {{"get", s.get}, {"head", s.head}, {"list", s.list}};
  auto per_kind = [&](std::string_view name, MetricKind type, std::string_view help, auto value) {
    auto& fam = f.family(name, type, help);
    for (const Named& n : kinds) fam.sample(value(n.k), {{"kind", n.kind}});
  };
  per_kind("s3db_hedge_requests_total", kCounter, "Reads that may hedge, sent (their duplicates not counted).",
           [](const HedgeStats::Kind& k) { return double(k.requests); });
  per_kind("s3db_hedges_sent_total", kCounter, "Duplicates sent for reads unanswered at the live p95 of their kind.",
           [](const HedgeStats::Kind& k) { return double(k.sent); });
  per_kind("s3db_hedges_won_total", kCounter, "Duplicates that answered first.",
           [](const HedgeStats::Kind& k) { return double(k.won); });
  per_kind("s3db_hedge_delay_seconds", kGauge, "The live p95 a read waits before its duplicate (0 while warming up).",
           [](const HedgeStats::Kind& k) { return std::chrono::duration<double>(k.delay).count(); });
  f.family("s3db_hedge_budget_tokens", kGauge, "Duplicates the hedge budget allows right now.").sample(s.tokens);
  f.family("s3db_hedge_budget_ratio", kGauge, "Duplicates allowed per read (hedge_budget).").sample(s.budget);
  return f.take();
}

std::string to_text(const std::vector<MetricFamily>& families) {
  static const std::string kNone;
  std::string out;
  out.reserve(8192);
  for (const MetricFamily& fam : families) {
    out += "# HELP ";
    out += fam.name;
    out += ' ';
    out += fam.help;
    out += "\n# TYPE ";
    out += fam.name;
    out += fam.kind == MetricKind::kCounter ? " counter\n" : fam.kind == MetricKind::kGauge ? " gauge\n" : " histogram\n";
    for (const MetricSample& s : fam.samples) {
      if (fam.kind != MetricKind::kHistogram) {
        line(out, fam.name, "", s, {}, kNone, num(s.value));
        continue;
      }
      const LatencySummary& h = s.histogram;
      for (std::size_t b = 0; b < kLatencyBucketBounds.size(); ++b) {
        line(out, fam.name, "_bucket", s, "le", num(kLatencyBucketBounds[b]), num(double(h.at_most[b])));
      }
      line(out, fam.name, "_bucket", s, "le", "+Inf", num(double(h.count)));
      line(out, fam.name, "_sum", s, {}, kNone, num(h.sum_s));
      line(out, fam.name, "_count", s, {}, kNone, num(double(h.count)));
    }
  }
  return out;
}

}  // namespace s3db::pool
