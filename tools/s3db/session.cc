#include "session.h"

#include <s3db/connection.h>

#include <iostream>

namespace s3db::cli {

Database open_database(const Globals& g, bool pool_enabled) {
  return open_database(g, g.url, pool_enabled);
}

Database open_database(const Globals& g, const std::string& url, bool pool_enabled) {
  DatabaseOptions opts;
  opts.client.pool_enabled = pool_enabled;
  return open_database(g, url, std::move(opts));
}

Database open_database(const Globals& g, const std::string& url, DatabaseOptions opts) {
  // Parse first so a typo in the URL is reported as the user's mistake (exit 2), not as an
  // operation failure.
  auto parsed = ConnectionOptions::FromUri(url);
  if (!parsed.ok()) throw UsageError("invalid --url: " + parsed.status().message());
  if (g.concurrency) opts.client.concurrency = *g.concurrency;
  opts.client.pool.name = "s3db-cli";
  return take(Database::open(url, std::move(opts)));
}

Resource open_resource(Database& db, const std::string& name) {
  return take(db.resource(name));
}

nlohmann::json parse_assignments(const std::vector<std::string>& items, const char* option) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& item : items) {
    auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError(std::string(option) + " expects field=value, got '" + item + "'");
    std::string field = item.substr(0, eq), text = item.substr(eq + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    out[field] = value.is_discarded() ? nlohmann::json(text) : value;
  }
  return out;
}

nlohmann::json metrics_json(const PoolMetrics& m, const PoolStats& s) {
  auto lat = [](const LatencySummary& l) {
    return nlohmann::json{{"count", l.count}, {"avg_ms", l.avg_ms}, {"p50_ms", l.p50_ms},
                          {"p95_ms", l.p95_ms}, {"p99_ms", l.p99_ms}, {"max_ms", l.max_ms}};
  };
  nlohmann::json errors = nlohmann::json::object();
  for (int c = 1; c < kCodeCount; ++c)
    if (m.errors_by_code[static_cast<std::size_t>(c)] > 0)
      errors[std::string(code_name(static_cast<Code>(c)))] = m.errors_by_code[static_cast<std::size_t>(c)];
  // Protection (null while off): the breaker's state and counts, the retry budget's bucket.
  nlohmann::json breaker = nullptr, budget = nullptr;
  if (s.breaker_enabled) {
    breaker = {{"state", std::string(breaker_state_name(s.breaker_state))},
               {"opened", s.breaker_opened},
               {"refused", s.breaker_refused}};
  }
  if (s.retry_budget_enabled) budget = {{"tokens", s.retry_budget_tokens}, {"refused", s.retry_budget_refused}};
  return {{"queue_wait", lat(m.queue_wait)},
          {"execution", lat(m.execution)},
          {"throughput", {{"current", m.throughput_current}, {"peak", m.throughput_peak},
                          {"avg", m.throughput_avg}}},
          {"errors_by_code", errors},
          {"utilisation", m.utilisation},
          {"concurrency", m.concurrency},
          {"processed", m.processed},
          {"uptime_s", m.uptime_s},
          {"stats", {{"queue_size", s.queue_size}, {"active", s.active}, {"processed", s.processed},
                     {"errors", s.errors}, {"retries", s.retries}, {"concurrency", s.concurrency},
                     {"paused", s.paused}, {"stopped", s.stopped}, {"breaker", breaker},
                     {"retry_budget", budget}}}};
}

void print_metrics(const Globals& g, Client& client) {
  if (g.json) {
    std::cout << nlohmann::json{{"metrics", metrics_json(client.pool().metrics(), client.pool().stats())}}.dump()
              << '\n';
  } else {
    std::cout << client.pool().prometheus();
  }
  std::cout.flush();
}

}  // namespace s3db::cli
