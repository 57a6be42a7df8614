#include "session.h"

#include "where.h"

#include <s3db/connection.h>
#include <s3db/pool_json.h>

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
  if (opts.passphrase.empty()) opts.passphrase = g.passphrase;
  if (!g.redis.empty() && g.global_concurrency < 1 && g.rate_put == 0 && g.rate_get == 0) {
    throw UsageError("--redis needs --global-concurrency N, --rate-put R or --rate-get R");
  }
  if (g.redis.empty() && g.global_concurrency > 0) throw UsageError("--global-concurrency needs --redis URL");
  if (!g.redis.empty()) opts.client.shared.redis_url = g.redis;
  if (g.global_concurrency > 0) opts.client.shared.global_concurrency = g.global_concurrency;
  if (g.rate_put > 0) opts.client.shared.rate_put = g.rate_put;
  if (g.rate_get > 0) opts.client.shared.rate_get = g.rate_get;
  // Redis going away is not an error (the local share keeps the command going) but the user is
  // told, once per change, on stderr; the message never holds the password.
  opts.client.shared.on_event = [](const SharedLimitEvent& e) {
    if (e.kind == SharedLimitEvent::Kind::kLeasesLost) return;
    std::cerr << (e.kind == SharedLimitEvent::Kind::kFallback ? "warning: " : "note: ") << e.message << std::endl;
  };
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
    out[field] = json_or_text(text);
  }
  return out;
}

nlohmann::json metrics_json(const PoolMetrics& m, const PoolStats& s) {
  nlohmann::json j = m;
  j["stats"] = s;
  return j;
}

nlohmann::json metrics_json(const Client& client) {
  nlohmann::json j = metrics_json(client.pool().metrics(), client.pool().stats());
  if (const SharedLimitState s = client.shared_limit(); s.joined) j["shared_limit"] = s;
  if (const HedgeStats h = client.hedging(); h.enabled) j["hedging"] = h;
  return j;
}

void print_metrics(const Globals& g, Client& client) {
  if (g.json) {
    std::cout << nlohmann::json{{"metrics", metrics_json(client)}}.dump() << '\n';
  } else {
    std::cout << client.prometheus();
  }
  std::cout.flush();
}

}  // namespace s3db::cli
