// The bench harness on its own, without the CLI: what run_bench() returns for each scenario, how
// summarize() picks medians, and the options it refuses. Small op counts on memory://; nothing
// here depends on how fast the machine is.
#include "harness/harness.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace s3db::bench {
namespace {

std::vector<std::string> names(const std::vector<ArmSummary>& arms) {
  std::vector<std::string> out;
  for (const auto& a : arms) out.push_back(a.name);
  return out;
}

TEST(BenchHarness, RefusesOptionsTheCallerShouldHaveRefused) {
  BenchOptions zero_ops;
  zero_ops.ops = 0;
  EXPECT_THROW(run_bench(zero_ops), std::invalid_argument);
  BenchOptions unknown;
  unknown.scenario = "nonsense";
  unknown.ops = 10;
  EXPECT_THROW(run_bench(unknown), std::invalid_argument);
  BenchOptions bad_url;
  bad_url.ops = 10;
  bad_url.url = "nonsense://x";
  EXPECT_THROW(run_bench(bad_url), std::invalid_argument);
}

TEST(BenchHarness, OverheadReportsEveryArmOfEveryRunAndTheirMedians) {
  BenchOptions o;
  o.scenario = "overhead";
  o.ops = 200;
  o.runs = 3;
  o.concurrency = 4;
  const BenchResult r = run_bench(o);
  ASSERT_EQ(r.runs.size(), 9u);  // 3 arms × 3 runs
  EXPECT_EQ(names(r.arms), (std::vector<std::string>{"direct", "run", "submit"}));
  for (const auto& a : r.arms) {
    EXPECT_EQ(a.runs, 3) << a.name;
    EXPECT_EQ(a.errors, 0u) << a.name;
    ASSERT_EQ(a.durations_ms.size(), 3u) << a.name;
    EXPECT_EQ(a.duration_ms, median(a.durations_ms)) << a.name;
    EXPECT_TRUE(a.extra.contains("ns_per_op")) << a.name;
  }
  ASSERT_TRUE(r.pool.has_value());
  EXPECT_EQ(r.pool->stats.concurrency, 4);
  EXPECT_GE(r.pool->stats.processed, o.ops);  // the last run's submit arm at least
  EXPECT_NE(r.pool->prometheus.find("pool=\"s3db-bench-overhead\""), std::string::npos);
}

TEST(BenchHarness, SeedKeepsAPoolReportOnlyWhenThePoolArmRan) {
  BenchOptions o;
  o.ops = 20;
  o.batch = 5;
  o.arms = {"batched"};
  const BenchResult without = run_bench(o);
  EXPECT_EQ(names(without.arms), (std::vector<std::string>{"batched"}));
  EXPECT_EQ(without.arms[0].errors, 0u) << without.arms[0].first_error;
  EXPECT_FALSE(without.pool.has_value());

  o.arms = {"pool"};
  const BenchResult with = run_bench(o);
  EXPECT_EQ(names(with.arms), (std::vector<std::string>{"pool"}));
  EXPECT_EQ(with.arms[0].errors, 0u) << with.arms[0].first_error;
  ASSERT_TRUE(with.pool.has_value());
  EXPECT_GE(with.pool->stats.processed, o.ops);
  EXPECT_NE(with.pool->prometheus.find("pool=\"s3db-cli\""), std::string::npos);
}

// --metrics-listen's hook: each pool arm's pool while it runs, nullptr before it goes.
TEST(BenchHarness, OnPoolSeesEachPoolArmWhileItRuns) {
  BenchOptions o;
  o.ops = 20;
  o.batch = 5;
  std::vector<std::string> seen;  // the pool's name while on, "none" when cleared
  o.on_pool = [&](const OperationPool* p) { seen.push_back(p ? p->options().name : "none"); };
  o.arms = {"batched", "pool"};
  (void)run_bench(o);
  EXPECT_EQ(seen, (std::vector<std::string>{"s3db-cli", "none"}));  // the batched arm: no pool
  seen.clear();
  o.scenario = "overhead";
  o.arms.clear();
  (void)run_bench(o);
  EXPECT_EQ(seen, (std::vector<std::string>{"s3db-bench-overhead", "none"}));
}

TEST(BenchHarness, SummarizeTakesMediansPerArmInFirstSeenOrder) {
  auto run = [](std::string name, double ms, std::uint64_t errors, double extra) {
    ArmRun r;
    r.name = std::move(name);
    r.ops = 100;
    r.duration_ms = ms;
    r.errors = errors;
    r.extra["cpu_ms"] = extra;
    if (errors) r.first_error = "Unavailable: spawn";
    return r;
  };
  const std::vector<ArmRun> runs = {run("b", 30, 0, 3), run("a", 5, 1, 9), run("b", 10, 2, 1),
                                    run("a", 7, 0, 5), run("b", 20, 0, 2)};
  const std::vector<ArmSummary> s = summarize(runs);
  ASSERT_EQ(names(s), (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(s[0].runs, 3);
  EXPECT_EQ(s[0].duration_ms, 20);
  EXPECT_EQ(s[0].median_run, 2u);  // the run of 20 ms, third of arm b
  EXPECT_EQ(s[0].durations_ms, (std::vector<double>{30, 10, 20}));
  EXPECT_EQ(s[0].errors, 2u);
  EXPECT_EQ(s[0].first_error, "Unavailable: spawn");
  EXPECT_EQ(s[0].extra["cpu_ms"].get<double>(), 2);
  EXPECT_DOUBLE_EQ(s[0].ops_per_sec, 100 / 0.020);  // median of 3333, 10000, 5000
  EXPECT_EQ(s[1].duration_ms, 6);  // an even count: the mean of the middle two
  EXPECT_EQ(s[1].errors, 1u);
}

TEST(BenchHarness, ReadsGetsEveryObjectBackAndReportsHedgingOfTheGetPhase) {
  BenchOptions o;
  o.scenario = "reads";
  o.ops = 120;
  o.objects = 7;
  o.object_size = 33;
  o.runs = 2;
  o.concurrency = 4;
  const BenchResult r = run_bench(o);
  ASSERT_EQ(r.runs.size(), 2u);
  ASSERT_EQ(names(r.arms), (std::vector<std::string>{"get"}));
  EXPECT_EQ(r.arms[0].ops, 120u);
  EXPECT_EQ(r.arms[0].errors, 0u) << r.arms[0].first_error;
  for (const auto& run : r.runs) {
    EXPECT_EQ(run.extra.value("cleanup_errors", -1.0), 0.0);
    EXPECT_LE(run.p50_latency_ms, run.extra.value("p90_latency_ms", 0.0));
    EXPECT_LE(run.extra.value("p95_latency_ms", 0.0), run.p99_latency_ms);
    EXPECT_LE(run.p99_latency_ms, run.extra.value("p999_latency_ms", 0.0));
    EXPECT_LE(run.extra.value("p999_latency_ms", 0.0), run.extra.value("max_latency_ms", 0.0));
  }
  EXPECT_FALSE(r.hedging.enabled);  // memory:// does not hedge
  EXPECT_EQ(r.hedging.sent, 0u);
  EXPECT_EQ(r.hedging.extra_pct(), 0.0);
  EXPECT_EQ(r.hedging.per_run.size(), 2u);
  EXPECT_TRUE(r.pool.has_value());
  const nlohmann::json j = report_reads_json(o, r);
  EXPECT_EQ(j["objects"], 7);
  EXPECT_EQ(j["size"], 33);
  EXPECT_EQ(j["hedging"]["enabled"], false);
  EXPECT_NE(report_reads_text(o, r).find("| Extra requests"), std::string::npos);

  BenchOptions none = o;
  none.objects = 0;
  EXPECT_THROW(run_bench(none), std::invalid_argument);
  BenchOptions bad_url = o;
  bad_url.url = "nonsense://x";
  EXPECT_THROW(run_bench(bad_url), std::invalid_argument);
}

}  // namespace
}  // namespace s3db::bench
