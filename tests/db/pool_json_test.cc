// s3db/pool_json.h: the pool's metrics and stats as JSON.
#include <s3db/pool_json.h>

#include <gtest/gtest.h>

namespace s3db {
namespace {

TEST(PoolJson, DetailedShapeWithProtectionAndDecisions) {
  PoolMetrics m;
  m.execution.count = 4;
  m.execution.p99_ms = 12.5;
  m.throughput_peak = 40;
  m.errors_by_code[static_cast<int>(Code::kThrottled)] = 3;
  m.errors = 3;
  m.error_rate = 0.75;
  m.concurrency = 8;
  m.concurrency_avg = 6.5;
  m.utilisation = 0.5;
  m.processed = 4;
  m.breaker = BreakerMetrics{true, BreakerState::kHalfOpen, 2, 9};
  m.retry_budget = RetryBudgetMetrics{true, 480, 1};
  m.decisions.total = 3;
  m.decisions.reasons = 2;
  m.decisions.by_reason[0] = {"throttled", 2};
  m.decisions.by_reason[1] = {"saturated", 1};
  m.decisions.last = ConcurrencyDecision{10, 8, "throttled", 12.25};

  const nlohmann::json j = m;
  EXPECT_EQ(j["latency"]["execution"]["count"], 4);
  EXPECT_EQ(j["latency"]["execution"]["p99_ms"], 12.5);
  EXPECT_EQ(j["throughput"]["peak"], 40.0);
  EXPECT_EQ(j["errors"], (nlohmann::json{{"count", 3}, {"rate", 0.75}, {"by_code", {{"Throttled", 3}}}}));
  EXPECT_EQ(j["concurrency"], (nlohmann::json{{"current", 8}, {"avg", 6.5}, {"utilisation", 0.5}}));
  EXPECT_EQ(j["breaker"], (nlohmann::json{{"state", "half-open"}, {"opened", 2}, {"refused", 9}}));
  EXPECT_EQ(j["retry_budget"], (nlohmann::json{{"tokens", 480}, {"refused", 1}}));
  EXPECT_EQ(j["decisions"]["total"], 3);
  EXPECT_EQ(j["decisions"]["by_reason"], (nlohmann::json{{"throttled", 2}, {"saturated", 1}}));
  EXPECT_EQ(j["decisions"]["last"],
            (nlohmann::json{{"old", 10}, {"new", 8}, {"reason", "throttled"}, {"at_s", 12.25}}));
}

TEST(PoolJson, OffPartsAreNullAndStatsFlat) {
  const nlohmann::json j = PoolMetrics{};
  EXPECT_TRUE(j["breaker"].is_null());
  EXPECT_TRUE(j["retry_budget"].is_null());
  EXPECT_TRUE(j["decisions"]["last"].is_null());
  EXPECT_TRUE(j["errors"]["by_code"].empty());
  PoolStats s;
  s.queue_size = 2;
  s.retries = 5;
  s.ran_again = 6;
  s.deduplicated = 7;
  s.paused = true;
  const nlohmann::json js = s;
  EXPECT_EQ(js["queue_size"], 2);
  EXPECT_EQ(js["retries"], 5);
  EXPECT_EQ(js["ran_again"], 6);
  EXPECT_EQ(js["deduplicated"], 7);
  EXPECT_EQ(js["paused"], true);
}

TEST(PoolJson, HedgingIsNullWhenTheStoreDoesNotHedge) {
  HedgeStats s;
  EXPECT_TRUE(nlohmann::json(s).is_null());
  s.enabled = true;
  s.budget = 0.05;
  s.get.requests = 200;
  s.get.sent = 6;
  s.get.won = 5;
  s.get.delay = std::chrono::microseconds(2500);
  s.head.requests = 100;
  s.head.sent = 3;
  const nlohmann::json j = s;
  EXPECT_EQ(j["requests"], 300);
  EXPECT_EQ(j["sent"], 9);
  EXPECT_EQ(j["won"], 5);
  EXPECT_DOUBLE_EQ(j["extra"].get<double>(), 0.03);
  EXPECT_DOUBLE_EQ(j["get"]["delay_ms"].get<double>(), 2.5);
  EXPECT_EQ(j["list"]["sent"], 0);
}

}  // namespace
}  // namespace s3db
