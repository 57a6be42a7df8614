// `s3db bench reads` through the built binary: the GET counts, the JSON keys (docs/bench.md) and
// the text table. memory:// only and no timing assertions: latencies are whatever the machine gives.
#include "cli/cli_support.h"

using namespace cli_test;

TEST(CliBenchReads, JsonCountsAndKeys) {
  CliRun r = run({"--url", "memory://reads/bench", "bench", "reads", "--ops", "300", "--objects", "20", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["scenario"], "reads");
  EXPECT_EQ(j["ops"], 300);
  EXPECT_EQ(j["objects"], 20);
  EXPECT_EQ(j["size"], 1024);             // the default
  EXPECT_EQ(j["concurrency"], 16);        // the scenario's default, not the seed's 50
  EXPECT_EQ(j["runs"], 1);
  EXPECT_EQ(j["url"].get<std::string>().rfind("memory://", 0), 0u);
  ASSERT_EQ(j["arms"].size(), 1u);
  const json& a = j["arms"][0];
  EXPECT_EQ(a["name"], "get");
  EXPECT_EQ(a["ops"], 300);
  EXPECT_EQ(a["errors"], 0) << a;
  EXPECT_EQ(a["cleanup_errors"], 0);
  for (const char* k : {"duration_ms", "ops_per_sec", "avg_latency_ms", "p50_latency_ms", "p90_latency_ms",
                        "p95_latency_ms", "p99_latency_ms", "p999_latency_ms", "max_latency_ms"}) {
    ASSERT_TRUE(a.contains(k) && a[k].is_number()) << k;
    EXPECT_GE(a[k].get<double>(), 0) << k;
  }
  // Ranks, not timings: each percentile is at most the next one.
  const char* order[] = {"p50_latency_ms", "p90_latency_ms", "p95_latency_ms", "p99_latency_ms",
                         "p999_latency_ms", "max_latency_ms"};
  for (int i = 0; i + 1 < 6; ++i) EXPECT_LE(a[order[i]].get<double>(), a[order[i + 1]].get<double>()) << order[i];

  const json& h = j["hedging"];
  for (const char* k : {"enabled", "budget", "requests", "sent", "won", "extra_pct", "delay_ms", "per_run"})
    EXPECT_TRUE(h.contains(k)) << k;
  EXPECT_EQ(h["enabled"], false);  // memory:// never hedges
  EXPECT_EQ(h["sent"], 0);
  EXPECT_EQ(h["won"], 0);
  EXPECT_EQ(h["extra_pct"], 0);
  ASSERT_EQ(h["per_run"].size(), 1u);
}

TEST(CliBenchReads, RunsSizeAndConcurrencyAreHonoured) {
  CliRun r = run({"--concurrency", "3", "--json", "bench", "reads", "--ops", "40", "--objects", "5", "--size", "10",
                  "--runs", "2"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["concurrency"], 3);
  EXPECT_EQ(j["size"], 10);
  EXPECT_EQ(j["runs"], 2);
  EXPECT_EQ(j["arms"][0]["errors"], 0);  // a body of the wrong size would be one
  EXPECT_EQ(j["arms"][0]["durations_ms"].size(), 2u);
  EXPECT_EQ(j["hedging"]["per_run"].size(), 2u);
}

TEST(CliBenchReads, TextTable) {
  CliRun r = run({"bench", "reads", "--ops", "50", "--objects", "5"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* row : {"scenario reads: 50 GETs over 5 objects", "| GETs", "| Errors", "| p50 latency",
                          "| p99.9 latency", "| max latency", "| Wall time", "| GETs/s", "| Hedging", "| Hedges sent",
                          "| Hedges won", "| Extra requests", "| GET hedge delay (p95)"})
    EXPECT_NE(r.out.find(row), std::string::npos) << row << "\n" << r.out;
}

TEST(CliBenchReads, RefusesZeroObjects) {
  CliRun r = run({"bench", "reads", "--ops", "10", "--objects", "0"});
  EXPECT_EQ(r.code, 2) << r.err;
}
