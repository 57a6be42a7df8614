// stats(), metrics() (histograms, throughput, utilisation, errors by code) and prometheus().
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <string>

#include "pool/exposition.h"
#include "pool/histogram.h"
#include "pool/observation.h"
#include "pool_test_util.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;

TEST(PoolHistogram, BucketsAreContiguousAndBounded) {
  using pool::Histogram;
  for (int i = 1; i < Histogram::kBuckets; ++i) {
    ASSERT_EQ(Histogram::lower(i), Histogram::upper(i - 1) + 1) << i;
  }
  for (std::uint64_t v : {0ull, 1ull, 7ull, 8ull, 15ull, 16ull, 1000ull, 123456789ull, ~0ull}) {
    const int i = Histogram::index(v);
    EXPECT_LE(Histogram::lower(i), v);
    EXPECT_GE(Histogram::upper(i), v);
    // Relative bucket width ≤ 1/8.
    if (v >= 8) {
      EXPECT_LE(Histogram::upper(i) - Histogram::lower(i), Histogram::lower(i) / 8);
    }
  }
}

TEST(PoolHistogram, PercentilesFromCumulativeCounts) {
  pool::Histogram h;
  for (int i = 1; i <= 100; ++i) h.record(static_cast<std::uint64_t>(i) * 1'000'000);  // 1..100 ms
  const LatencySummary s = h.summary();
  EXPECT_EQ(s.count, 100u);
  EXPECT_NEAR(s.avg_ms, 50.5, 1e-9);
  EXPECT_NEAR(s.p50_ms, 50, 50 * 0.07);
  EXPECT_NEAR(s.p95_ms, 95, 95 * 0.07);
  EXPECT_NEAR(s.p99_ms, 99, 99 * 0.07);
  EXPECT_NEAR(s.max_ms, 100, 1e-9);
  EXPECT_EQ(h.count_at_most(0), 0u);
  EXPECT_EQ(h.count_at_most(~0ull), 100u);
  // The Prometheus buckets of the summary agree with count_at_most at every bound.
  EXPECT_NEAR(s.sum_s, 5.05, 1e-9);
  for (std::size_t b = 0; b < kLatencyBucketBounds.size(); ++b) {
    EXPECT_EQ(s.at_most[b], h.count_at_most(static_cast<std::uint64_t>(kLatencyBucketBounds[b] * 1e9))) << b;
  }
  EXPECT_EQ(s.at_most[0], 0u);    // 0.1 ms
  EXPECT_EQ(s.at_most[4], 9u);    // 10 ms: 1..9 ms (10 ms's bucket reaches above 10 ms)
  EXPECT_EQ(s.at_most[11], 100u);  // 30 s
}

TEST(PoolMetrics, StatsCountProcessedErrorsRetries) {
  auto clock = std::make_shared<ManualClock>();
  PoolOptions po = testing::pool_options(3, clock);
  po.backoff.base = milliseconds(0);
  OperationPool pool(po);
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(pool.run([](OpContext&) { return Status::NotFound("a"); }).code(), Code::kNotFound);
  EXPECT_TRUE(pool.run([](OpContext& c) { return c.attempt() < 3 ? Status::Unavailable("b") : Status::OK(); }).ok());
  pool.pause();
  auto f = pool.submit([](OpContext&) { return Status::OK(); });
  PoolStats s = pool.stats();
  EXPECT_EQ(s.processed, 3u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.retries, 2u);
  EXPECT_EQ(s.queue_size, 1u);
  EXPECT_EQ(s.active, 0u);
  EXPECT_EQ(s.concurrency, 3);
  EXPECT_TRUE(s.paused);
  EXPECT_FALSE(s.stopped);
  pool.resume();
  EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(pool.stats().processed, 4u);
}

TEST(PoolMetrics, LatencyThroughputUtilisationOnTheManualClock) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(1, clock));
  // Queue wait: 20 ms in the queue while paused.
  pool.pause();
  auto f = pool.submit([&](OpContext&) {
    clock->advance(milliseconds(100));  // execution: 100 ms
    return Status::OK();
  });
  clock->advance(milliseconds(20));
  pool.resume();
  EXPECT_TRUE(f.get().ok());
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(pool.run([](OpContext&) { return Status::Unavailable("x"); }, [] {
                OpOptions o;
                o.retries = 0;
                return o;
              }()).code(),
              Code::kUnavailable);
  }
  // t = 120 ms: 10 completions, all in second 0; 100 ms busy of 120 ms capacity.
  PoolMetrics m = pool.metrics();
  EXPECT_EQ(m.processed, 10u);
  EXPECT_EQ(m.queue_wait.count, 10u);  // the queued op and 9 inline ones (0 wait)
  EXPECT_NEAR(m.queue_wait.max_ms, 20, 20 * 0.13);
  EXPECT_EQ(m.execution.count, 10u);
  EXPECT_NEAR(m.execution.max_ms, 100, 100 * 0.13);
  EXPECT_NEAR(m.execution.p99_ms, 100, 100 * 0.13);
  EXPECT_NEAR(m.utilisation, 100.0 / 120.0, 0.01);
  EXPECT_EQ(m.errors_by_code[static_cast<int>(Code::kUnavailable)], 9u);
  EXPECT_EQ(m.errors_by_code[static_cast<int>(Code::kOk)], 0u);
  EXPECT_DOUBLE_EQ(m.throughput_current, 10);
  EXPECT_NEAR(m.uptime_s, 0.12, 1e-9);
  EXPECT_NEAR(m.throughput_avg, 10 / 0.12, 1e-6);
  EXPECT_EQ(m.concurrency, 1);

  clock->advance(milliseconds(1380));  // t = 1.5 s: half of second 0 still in the window
  m = pool.metrics();
  EXPECT_NEAR(m.throughput_current, 5, 1e-9);
  EXPECT_NEAR(m.utilisation, 100.0 / 1500.0, 0.001);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  clock->advance(milliseconds(3000));  // t = 4.5 s
  m = pool.metrics();
  EXPECT_DOUBLE_EQ(m.throughput_current, 0);
  EXPECT_DOUBLE_EQ(m.throughput_peak, 10);  // best full second
  EXPECT_NEAR(m.throughput_avg, 13 / 4.5, 1e-6);
}

TEST(PoolMetrics, PrometheusExposition) {
  auto clock = std::make_shared<ManualClock>();
  PoolOptions po = testing::pool_options(2, clock);
  po.name = "te\"st";
  OperationPool pool(po);
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(pool.run([](OpContext&) { return Status::NotFound("x"); }).code(), Code::kNotFound);
  const std::string text = pool.prometheus();
  auto has = [&](const std::string& s) { return text.find(s) != std::string::npos; };
  EXPECT_TRUE(has("# HELP s3db_pool_processed_total "));
  EXPECT_TRUE(has("# TYPE s3db_pool_processed_total counter\n"));
  EXPECT_TRUE(has("s3db_pool_processed_total{pool=\"te\\\"st\"} 2\n"));
  EXPECT_TRUE(has("s3db_pool_errors_total{pool=\"te\\\"st\",code=\"NotFound\"} 1\n"));
  EXPECT_TRUE(has("s3db_pool_errors_total{pool=\"te\\\"st\",code=\"Throttled\"} 0\n"));
  EXPECT_TRUE(has("# TYPE s3db_pool_concurrency gauge\n"));
  EXPECT_TRUE(has("s3db_pool_concurrency{pool=\"te\\\"st\"} 2\n"));
  EXPECT_TRUE(has("# TYPE s3db_pool_execution_seconds histogram\n"));
  EXPECT_TRUE(has("s3db_pool_execution_seconds_bucket{pool=\"te\\\"st\",le=\"+Inf\"} 2\n"));
  EXPECT_TRUE(has("s3db_pool_execution_seconds_bucket{pool=\"te\\\"st\",le=\"0.0001\"} 2\n"));  // 0 ns on the manual clock
  EXPECT_TRUE(has("s3db_pool_execution_seconds_count{pool=\"te\\\"st\"} 2\n"));
  EXPECT_TRUE(has("s3db_pool_queue_wait_seconds_sum{pool=\"te\\\"st\"} 0\n"));
  // Every sample line belongs to a declared metric family.
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find('\n', pos);
    ASSERT_NE(end, std::string::npos);
    const std::string line = text.substr(pos, end - pos);
    if (line[0] != '#') {
      const std::string name = line.substr(0, line.find('{'));
      std::string family = name;
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        const std::string sfx = suffix;
        if (family.size() > sfx.size() && family.compare(family.size() - sfx.size(), sfx.size(), sfx) == 0 &&
            text.find("# TYPE " + family.substr(0, family.size() - sfx.size()) + " histogram") != std::string::npos) {
          family = family.substr(0, family.size() - sfx.size());
        }
      }
      EXPECT_TRUE(has("# TYPE " + family + " ")) << line;
    }
    pos = end + 1;
  }
}

// The design note's detailed shape: error rate, concurrency avg and every concurrency decision.
TEST(PoolMetrics, ErrorRateConcurrencyAvgAndDecisions) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(2, clock));
  PoolMetrics m = pool.metrics();
  EXPECT_EQ(m.decisions.total, 0u);
  EXPECT_DOUBLE_EQ(m.error_rate, 0);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(pool.run([](OpContext&) { return Status::NotFound("x"); }).code(), Code::kNotFound);
  clock->advance(milliseconds(1000));
  pool.set_concurrency(6);  // 2 for 1 s, then 6 for 1 s: 4 on average
  clock->advance(milliseconds(1000));
  pool.set_concurrency(6);  // no change: not a decision
  m = pool.metrics();
  EXPECT_EQ(m.errors, 1u);
  EXPECT_DOUBLE_EQ(m.error_rate, 0.25);
  EXPECT_NEAR(m.concurrency_avg, 4.0, 1e-9);
  EXPECT_EQ(m.concurrency, 6);
  EXPECT_EQ(m.decisions.total, 1u);
  ASSERT_EQ(m.decisions.reasons, 1u);
  EXPECT_EQ(m.decisions.by_reason[0].reason, "set_concurrency");
  EXPECT_EQ(m.decisions.by_reason[0].count, 1u);
  EXPECT_EQ(m.decisions.last.old_value, 2);
  EXPECT_EQ(m.decisions.last.new_value, 6);
  EXPECT_EQ(m.decisions.last.reason, "set_concurrency");
  EXPECT_DOUBLE_EQ(m.decisions.last.at_s, 1.0);
}

// Tuners report through the same path (Observation::emit_change): every change is counted by its
// reason, listeners or not; past kReasons - 1 distinct reasons the rest count as "other".
TEST(PoolMetrics, DecisionsCountedByReasonWithOverflow) {
  ManualClock clock;
  pool::Observation obs(clock.now(), clock);
  static constexpr const char* kReasons[] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"};
  for (const char* r : kReasons) obs.emit_change(pool::ConcurrencyChange{4, 3, r});
  clock.advance(milliseconds(2500));
  obs.emit_change(pool::ConcurrencyChange{3, 5, "r1"});
  const ConcurrencyDecisions d = obs.decisions();
  EXPECT_EQ(d.total, 10u);
  ASSERT_EQ(d.reasons, ConcurrencyDecisions::kReasons);
  for (std::size_t i = 0; i + 1 < ConcurrencyDecisions::kReasons; ++i) {
    EXPECT_EQ(d.by_reason[i].reason, kReasons[i]);
    EXPECT_EQ(d.by_reason[i].count, i == 1 ? 2u : 1u) << i;
  }
  EXPECT_EQ(d.by_reason[7].reason, "other");
  EXPECT_EQ(d.by_reason[7].count, 2u);  // r7, r8
  EXPECT_EQ(d.last.reason, "r1");
  EXPECT_EQ(d.last.old_value, 3);
  EXPECT_EQ(d.last.new_value, 5);
  EXPECT_DOUBLE_EQ(d.last.at_s, 2.5);
}

TEST(PoolMetrics, PrometheusDetailedFamilies) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(2, clock));
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(pool.run([](OpContext&) { return Status::Unauthorized("x"); }).code(), Code::kUnauthorized);
  const std::string before = pool.prometheus();
  EXPECT_NE(before.find("# TYPE s3db_pool_concurrency_changes_total counter\n"), std::string::npos);
  EXPECT_EQ(before.find("s3db_pool_concurrency_changes_total{"), std::string::npos);  // none yet
  EXPECT_EQ(before.find("s3db_pool_concurrency_last_change"), std::string::npos);
  clock->advance(milliseconds(1000));
  pool.set_concurrency(4);
  clock->advance(milliseconds(1000));
  const std::string text = pool.prometheus();
  auto has = [&](const std::string& s) { return text.find(s) != std::string::npos; };
  EXPECT_TRUE(has("# TYPE s3db_pool_error_ratio gauge\ns3db_pool_error_ratio{pool=\"s3db\"} 0.5\n")) << text;
  EXPECT_TRUE(has("s3db_pool_concurrency_avg{pool=\"s3db\"} 3\n"));
  EXPECT_TRUE(has("s3db_pool_concurrency_changes_total{pool=\"s3db\",reason=\"set_concurrency\"} 1\n"));
  EXPECT_TRUE(has("s3db_pool_concurrency_last_change_seconds{pool=\"s3db\",reason=\"set_concurrency\"} 1\n"));
  EXPECT_TRUE(has("s3db_pool_concurrency_last_change_from{pool=\"s3db\"} 2\n"));
  EXPECT_TRUE(has("# TYPE s3db_pool_latency_quantile_seconds gauge\n"));
  EXPECT_TRUE(has("s3db_pool_ran_again_total{pool=\"s3db\"} 0\n"));
  EXPECT_TRUE(has("s3db_pool_deduplicated_total{pool=\"s3db\"} 0\n"));
  EXPECT_TRUE(has("s3db_pool_latency_quantile_seconds{pool=\"s3db\",stage=\"execution\",quantile=\"0.99\"} 0\n"));
  // Every family is declared once, with HELP before TYPE.
  std::size_t families = 0;
  for (std::size_t pos = text.find("# TYPE "); pos != std::string::npos; pos = text.find("# TYPE ", pos + 1)) {
    const std::string name = text.substr(pos + 7, text.find(' ', pos + 7) - pos - 7);
    EXPECT_EQ(text.find("# TYPE " + name + " "), text.rfind("# TYPE " + name + " ")) << name;
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
    ++families;
  }
  EXPECT_EQ(families, pool::pool_families(pool.stats(), pool.metrics(), "s3db").size());
}

}  // namespace
}  // namespace s3db
