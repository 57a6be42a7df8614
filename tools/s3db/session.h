// tools/s3db/session.h — opening the database a command works on, from the global options.
//
// Contract: open_database() checks --url with ConnectionOptions::FromUri first (a malformed URL
// is a UsageError, exit 2, naming the problem without secrets), then opens the Database with
// --concurrency applied to the pool; other failures throw OpError (exit 1). open_resource()
// throws OpError(NotFound) for an unknown resource. Also: JSON helpers for pool metrics and for
// "field=value" arguments.
#pragma once

#include "cli.h"

#include <s3db/database.h>

#include <string>
#include <vector>

namespace s3db::cli {

Database open_database(const Globals& g, bool pool_enabled = true);
Database open_database(const Globals& g, const std::string& url, bool pool_enabled);
// The general form: `options` as given, plus --concurrency (when set) and pool_enabled.
Database open_database(const Globals& g, const std::string& url, DatabaseOptions options);
Resource open_resource(Database& db, const std::string& name);

// "field=value" → {"field": value}; value is JSON when it parses (31, true, "x"), else a string.
nlohmann::json parse_assignments(const std::vector<std::string>& items, const char* option);

// The pool's metrics (s3db/pool_json.h) with its stats under "stats".
nlohmann::json metrics_json(const PoolMetrics& m, const PoolStats& s);
// The client's pool metrics and stats, and its shared limit's state when it joined one.
nlohmann::json metrics_json(const Client& client);
// Prints the pool's metrics: Prometheus text, or JSON when g.json.
void print_metrics(const Globals& g, Client& client);

}  // namespace s3db::cli
