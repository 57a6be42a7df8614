// The pool's metrics and stats as JSON (contract in s3db/pool_json.h). It lives in the db layer,
// the first one that depends on nlohmann::json: the pool's core stays free of it.
#include <s3db/pool_json.h>

#include <string>

namespace s3db {

void to_json(nlohmann::json& j, const LatencySummary& l) {
  j = {{"count", l.count}, {"avg_ms", l.avg_ms}, {"p50_ms", l.p50_ms},
       {"p95_ms", l.p95_ms}, {"p99_ms", l.p99_ms}, {"max_ms", l.max_ms}};
}

void to_json(nlohmann::json& j, const PoolMetrics& m) {
  nlohmann::json by_code = nlohmann::json::object();
  for (int c = 1; c < kCodeCount; ++c) {
    if (m.errors_by_code[c] > 0) by_code[std::string(code_name(static_cast<Code>(c)))] = m.errors_by_code[c];
  }
  nlohmann::json breaker = nullptr, budget = nullptr;
  if (m.breaker.enabled) {
    breaker = {{"state", std::string(breaker_state_name(m.breaker.state))},
               {"opened", m.breaker.opened},
               {"refused", m.breaker.refused}};
  }
  if (m.retry_budget.enabled) budget = {{"tokens", m.retry_budget.tokens}, {"refused", m.retry_budget.refused}};
  nlohmann::json by_reason = nlohmann::json::object();
  for (std::size_t i = 0; i < m.decisions.reasons; ++i) {
    by_reason[std::string(m.decisions.by_reason[i].reason)] = m.decisions.by_reason[i].count;
  }
  nlohmann::json last = nullptr;
  if (m.decisions.total > 0) {
    const ConcurrencyDecision& d = m.decisions.last;
    last = {{"old", d.old_value}, {"new", d.new_value}, {"reason", std::string(d.reason)}, {"at_s", d.at_s}};
  }
  j = {{"latency", {{"queue_wait", m.queue_wait}, {"execution", m.execution}}},
       {"throughput", {{"current", m.throughput_current}, {"peak", m.throughput_peak}, {"avg", m.throughput_avg}}},
       {"errors", {{"count", m.errors}, {"rate", m.error_rate}, {"by_code", by_code}}},
       {"concurrency", {{"current", m.concurrency}, {"avg", m.concurrency_avg}, {"utilisation", m.utilisation}}},
       {"processed", m.processed},
       {"uptime_s", m.uptime_s},
       {"breaker", breaker},
       {"retry_budget", budget},
       {"send_rate", m.send_rate.enabled ? nlohmann::json{{"pacing", m.send_rate.pacing},
                                                          {"rate", m.send_rate.rate},
                                                          {"accepted", m.send_rate.accepted},
                                                          {"signals", m.send_rate.signals}}
                                         : nlohmann::json(nullptr)},
       {"decisions", {{"total", m.decisions.total}, {"by_reason", by_reason}, {"last", last}}}};
}

void to_json(nlohmann::json& j, const PoolStats& s) {
  j = {{"queue_size", s.queue_size}, {"active", s.active}, {"processed", s.processed}, {"errors", s.errors},
       {"retries", s.retries}, {"ran_again", s.ran_again}, {"deduplicated", s.deduplicated},
       {"concurrency", s.concurrency}, {"send_rate", s.send_rate}, {"paused", s.paused}, {"stopped", s.stopped}};
}

void to_json(nlohmann::json& j, const SharedLimitState& s) {
  if (!s.joined) {
    j = nullptr;
    return;
  }
  j = {{"shared", s.shared},
       {"fallback", s.fallback},
       {"permits", {{"held", s.held}, {"leased", s.leased}, {"returned", s.returned}, {"lost", s.lost}, {"excess_returned", s.excess_returned}}},
       {"renewals", s.renewals},
       {"fallbacks", s.fallbacks},
       {"rate_cap", {{"requests", s.rate_requests}, {"waits", s.rate_waits}, {"wait_s", s.rate_wait_s}}}};
}

void to_json(nlohmann::json& j, const HedgeStats& s) {
  if (!s.enabled) {
    j = nullptr;
    return;
  }
  auto kind = [](const HedgeStats::Kind& k) {
    return nlohmann::json{{"requests", k.requests}, {"sent", k.sent}, {"won", k.won},
                          {"delay_ms", std::chrono::duration<double, std::milli>(k.delay).count()}};
  };
  const std::uint64_t requests = s.requests();
  j = {{"budget", s.budget},
       {"tokens", s.tokens},
       {"requests", requests},
       {"sent", s.sent()},
       {"won", s.won()},
       {"extra", requests == 0 ? 0.0 : static_cast<double>(s.sent()) / static_cast<double>(requests)},
       {"get", kind(s.get)},
       {"head", kind(s.head)},
       {"list", kind(s.list)}};
}

}  // namespace s3db
