// s3db/prometheus.h: a pool's metrics in an application's prometheus-cpp exposition.
#include <s3db/prometheus.h>

#include <gtest/gtest.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <sstream>
#include <string>

#include "pool/pool_test_util.h"
#include "support/http_get.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;

std::string serialize(const std::vector<prometheus::MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

// A pool named "app" that ran 3 successes and one NotFound.
std::unique_ptr<OperationPool> busy_pool(std::shared_ptr<ManualClock> clock) {
  PoolOptions po = testing::pool_options(4, std::move(clock));
  po.name = "app";
  auto pool = std::make_unique<OperationPool>(po);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pool->run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(pool->run([](OpContext&) { return Status::NotFound("k"); }).code(), Code::kNotFound);
  return pool;
}

TEST(PoolCollectable, BesideAnApplicationRegistry) {
  auto clock = std::make_shared<ManualClock>();
  const auto owned = busy_pool(clock);
  OperationPool& pool = *owned;
  auto registry = std::make_shared<prometheus::Registry>();
  auto& requests = prometheus::BuildCounter().Name("app_requests_total").Help("App requests.").Register(*registry);
  requests.Add({}).Increment(7);
  const auto collectable = pool_collectable(pool);

  auto families = registry->Collect();
  for (auto& f : collectable->Collect()) families.push_back(std::move(f));
  const std::string text = serialize(families);
  auto has = [&](const std::string& s) { return text.find(s) != std::string::npos; };
  EXPECT_TRUE(has("app_requests_total 7")) << text;
  EXPECT_TRUE(has("# TYPE s3db_pool_processed_total counter\n"));
  EXPECT_TRUE(has("s3db_pool_processed_total{pool=\"app\"} 4\n")) << text;
  EXPECT_TRUE(has("s3db_pool_errors_total{pool=\"app\",code=\"NotFound\"} 1\n"));
  EXPECT_TRUE(has("s3db_pool_error_ratio{pool=\"app\"} 0.25\n"));
  EXPECT_TRUE(has("s3db_pool_concurrency{pool=\"app\"} 4\n"));
  EXPECT_TRUE(has("# TYPE s3db_pool_execution_seconds histogram\n"));
  EXPECT_TRUE(has("s3db_pool_execution_seconds_bucket{pool=\"app\",le=\"+Inf\"} 4\n"));
  EXPECT_TRUE(has("s3db_pool_execution_seconds_count{pool=\"app\"} 4\n"));

  // Live: every Collect() reads the pool again.
  pool.set_concurrency(9);
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  const std::string again = serialize(collectable->Collect());
  EXPECT_NE(again.find("s3db_pool_processed_total{pool=\"app\"} 5\n"), std::string::npos) << again;
  EXPECT_NE(again.find("s3db_pool_concurrency_changes_total{pool=\"app\",reason=\"set_concurrency\"} 1\n"),
            std::string::npos);
}

// The same families, names, types and sample values as OperationPool::prometheus().
TEST(PoolCollectable, SameFamiliesAsTheTextExposition) {
  auto clock = std::make_shared<ManualClock>();
  const auto owned = busy_pool(clock);
  OperationPool& pool = *owned;
  const auto families = pool_collectable(pool)->Collect();
  const std::string text = pool.prometheus();
  std::size_t declared = 0;
  for (std::size_t pos = text.find("# TYPE "); pos != std::string::npos; pos = text.find("# TYPE ", pos + 1)) ++declared;
  ASSERT_EQ(families.size(), declared);
  for (const auto& f : families) {
    EXPECT_NE(text.find("# HELP " + f.name + " " + f.help + "\n"), std::string::npos) << f.name;
  }
}

// The usual prometheus-cpp way: registered with an Exposer, scraped over HTTP on loopback.
TEST(PoolCollectable, ScrapedThroughAnExposer) {
  auto clock = std::make_shared<ManualClock>();
  const auto owned = busy_pool(clock);
  OperationPool& pool = *owned;
  prometheus::Exposer exposer("127.0.0.1:0");
  const auto collectable = pool_collectable(pool);
  exposer.RegisterCollectable(collectable);
  ASSERT_FALSE(exposer.GetListeningPorts().empty());
  const std::string url = "http://127.0.0.1:" + std::to_string(exposer.GetListeningPorts().front()) + "/metrics";
  std::string body;
  EXPECT_EQ(testing::http_get(url, body), 200);
  EXPECT_NE(body.find("s3db_pool_processed_total{pool=\"app\"} 4\n"), std::string::npos) << body;
  exposer.RemoveCollectable(collectable);
}

// The shared limit's families: none before a limit is joined, then the state read on each
// Collect(), the same text as Client::prometheus() renders after the pool's.
TEST(SharedLimitCollectable, ReadsTheStateOnEveryCollect) {
  SharedLimitState state;
  auto c = shared_limit_collectable([&] { return state; }, "app");
  EXPECT_TRUE(c->Collect().empty()) << "nothing joined";
  state.joined = state.shared = true;
  state.held = 3;
  state.rate_waits = 7;
  const std::string text = serialize(c->Collect());
  EXPECT_NE(text.find("s3db_shared_permits_held{pool=\"app\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("s3db_rate_cap_waits_total{pool=\"app\"} 7"), std::string::npos) << text;
  state.held = 1;
  EXPECT_NE(serialize(c->Collect()).find("s3db_shared_permits_held{pool=\"app\"} 1"), std::string::npos);
}

// The hedged reads' families: none while the store does not hedge, then per kind.
TEST(HedgeCollectable, ReadsTheStatsOnEveryCollect) {
  HedgeStats stats;
  auto c = hedge_collectable([&] { return stats; }, "app");
  EXPECT_TRUE(c->Collect().empty()) << "a store that does not hedge";
  stats.enabled = true;
  stats.budget = 0.05;
  stats.tokens = 2.5;
  stats.get.sent = 4;
  stats.list.won = 1;
  const std::string text = serialize(c->Collect());
  EXPECT_NE(text.find("s3db_hedges_sent_total{pool=\"app\",kind=\"get\"} 4"), std::string::npos) << text;
  EXPECT_NE(text.find("s3db_hedges_won_total{pool=\"app\",kind=\"list\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("s3db_hedge_budget_tokens{pool=\"app\"} 2.5"), std::string::npos) << text;
}

}  // namespace
}  // namespace s3db
