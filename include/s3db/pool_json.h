// s3db/pool_json.h — the pool's metrics and stats as JSON (nlohmann::json), the one JSON form the
// CLI (`--json`), the bench and applications share.
//
// Contract
// - `nlohmann::json j = pool.metrics();` and `j = pool.stats();` (ADL to_json): pure conversions
//   of a snapshot, no I/O, no lock; safe from any thread.
// - Metrics shape (the design note's detailed metrics, plus the protective parts):
//     {"latency": {"queue_wait": L, "execution": L},            L = {count, avg_ms, p50_ms, p95_ms,
//      "throughput": {"current", "peak", "avg"},                      p99_ms, max_ms}
//      "errors": {"count", "rate", "by_code": {"Throttled": n, ...}},   (codes with n > 0 only)
//      "concurrency": {"current", "avg", "utilisation"},
//      "processed", "uptime_s",
//      "breaker": null | {"state", "opened", "refused"},             null while off
//      "retry_budget": null | {"tokens", "refused"},                 null while off
//      "send_rate": null | {"pacing", "rate", "accepted", "signals"}, null while off
//      "decisions": {"total", "by_reason": {"throttled": n, ...},
//                    "last": null | {"old", "new", "reason", "at_s"}}}
//   Stats: {"queue_size", "active", "processed", "errors", "retries", "ran_again", "deduplicated",
//   "concurrency", "send_rate", "paused",
//   "stopped"} (the protective figures are in the metrics).
// - Carries no secret: figures and the fixed reason/code names only.
#pragma once

#include <s3db/operation_pool.h>
#include <s3db/shared_limit.h>
#include <s3db/storage_client.h>

#include <nlohmann/json.hpp>

namespace s3db {

void to_json(nlohmann::json& j, const LatencySummary& l);
void to_json(nlohmann::json& j, const PoolMetrics& m);
void to_json(nlohmann::json& j, const PoolStats& s);
// A Client's shared limit (s3db/shared_limit.h): null when none was joined, else
// {"shared", "fallback", "permits": {"held", "leased", "returned", "lost", "excess_returned"}, "renewals",
//  "fallbacks", "rate_cap": {"requests", "waits", "wait_s"}}.
void to_json(nlohmann::json& j, const SharedLimitState& s);
// Hedged reads (s3db/storage_client.h): null when the store does not hedge, else
// {"budget", "tokens", "requests", "sent", "won", "extra" (sent / requests),
//  "get" | "head" | "list": {"requests", "sent", "won", "delay_ms"}}.
void to_json(nlohmann::json& j, const HedgeStats& s);

}  // namespace s3db
