// tools/s3db/bench.h — the `s3db bench` harness: options, per-arm measurements, statistics and
// reports shared by the scenarios (bench_seed.cc, bench_memory.cc, bench_overhead.cc).
//
// Contract
// - A scenario runs its arms one after another in this process, `runs` times, and returns one
//   ArmRun per arm per run. Per-op timestamps are written into preallocated arrays inside the
//   timed region; statistics (sorting for percentiles, binning for plots) happen afterwards.
// - summarize() reports, per arm, the median over runs of every figure, and the total errors.
// - The JSON report shape is stable (docs/bench.md): {"scenario","ops","concurrency","runs","url",
//   "arms":[{"name","duration_ms","ops_per_sec","avg_latency_ms","peak_rss_mb","errors",...}],...}.
//   Every report (JSON, text, plot) shows the URL through redact_uri(): never its secret.
// Not thread-safe (the harness itself is single-threaded; scenarios manage their own threads).
#pragma once

#include "rss.h"

#include <s3db/database.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace s3db::cli {

struct BenchOptions {
  std::string scenario = "seed";
  std::uint64_t ops = 10000;
  int concurrency = 50;
  int runs = 1;
  std::string url = "memory://";
  bool json = false;
  std::string plot;      // SVG path, empty = none
  bool metrics = false;  // print the pool's metrics (Prometheus, or in the JSON) at the end
  int batch = 100;       // seed "batched" arm batch size
  std::vector<std::string> arms;  // seed: run only these arms (empty = all), e.g. for profiling
};

// Per-op timestamps in ns since the arm's start; preallocate with resize(n) before timing.
struct OpTimes {
  std::vector<std::int64_t> start_ns, end_ns;
  void resize(std::size_t n) { start_ns.assign(n, 0); end_ns.assign(n, 0); }
};

inline std::int64_t ns_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
      .count();
}

struct ArmRun {
  std::string name;
  std::uint64_t ops = 0;
  std::uint64_t errors = 0;
  double duration_ms = 0;
  double avg_latency_ms = 0, p50_latency_ms = 0, p99_latency_ms = 0;
  double peak_rss_mb = 0, baseline_rss_mb = 0;
  std::vector<RssSample> rss;                            // for plots
  std::vector<std::pair<double, double>> throughput;     // (ms, ops/s) for plots
  nlohmann::json extra = nlohmann::json::object();       // scenario-specific numeric fields
  std::string first_error;                               // one example, for the report
};

// Fills latency figures and the throughput series of `run` from `times` (ops with end_ns == 0
// are ignored); `duration_ms` must be set.
void finish_arm(ArmRun& run, OpTimes& times);

// Failures of one arm, from any thread: how many, and the first one's message.
struct ErrorSink {
  std::atomic<std::uint64_t> count{0};
  std::mutex mu;
  std::string first;
  void add(const Status& s);
};

// The timed window of one arm. The constructor starts the RSS sampler, then the CPU and wall
// clocks (so the sampler's start-up is not timed); finish() stops them and returns the arm's
// figures: duration, CPU time ("cpu_ms" and "cpu_us_per_op" in extra), RSS, errors, and
// latencies from `times` (offsets from t0()).
class ArmTimer {
 public:
  ArmTimer();
  std::chrono::steady_clock::time_point t0() const { return t0_; }
  std::int64_t ns() const { return ns_since(t0_); }
  ArmRun finish(std::string name, std::uint64_t ops, ErrorSink& errors, OpTimes& times);

 private:
  RssSampler rss_;
  double cpu0_ = 0;
  std::chrono::steady_clock::time_point t0_;
};

double median(std::vector<double> v);

struct ArmSummary {
  std::string name;
  std::uint64_t ops = 0, errors = 0;  // errors: total over all runs
  int runs = 0;
  double duration_ms = 0, ops_per_sec = 0, avg_latency_ms = 0, p50_latency_ms = 0,
         p99_latency_ms = 0, peak_rss_mb = 0, ms_per_op = 0;
  std::vector<double> durations_ms;
  nlohmann::json extra = nlohmann::json::object();  // medians of each numeric extra field
  std::size_t median_run = 0;  // index (in the arm's runs) of the median-duration run, for plots
  std::string first_error;
};

// Groups `runs` by arm name (keeping first-seen order) and takes medians.
std::vector<ArmSummary> summarize(const std::vector<ArmRun>& runs);

nlohmann::json report_json(const BenchOptions& o, const std::vector<ArmSummary>& arms);
std::string report_text(const BenchOptions& o, const std::vector<ArmSummary>& arms);
// Writes the SVG (throughput and RSS over time, one row per arm) using each arm's median run.
void write_plot(const BenchOptions& o, const std::vector<ArmSummary>& arms,
                const std::vector<ArmRun>& runs, const std::string& path);

struct Globals;  // cli.h

// What the last run's pool-enabled arm leaves for --metrics.
struct BenchExtras {
  nlohmann::json pool_metrics;
  std::string pool_prometheus;
};

// One run of every arm of a scenario (run_index makes storage prefixes unique).
std::vector<ArmRun> run_seed_once(const BenchOptions& o, const Globals& g, int run_index, BenchExtras& x);
std::vector<ArmRun> run_memory_once(const BenchOptions& o, const Globals& g, int run_index, BenchExtras& x);
std::vector<ArmRun> run_overhead_once(const BenchOptions& o, const Globals& g, int run_index, BenchExtras& x);

// The seed's record (name, email, age, status, tags, metadata object), ~200 bytes as JSON.
nlohmann::json seed_record(std::uint64_t i);
nlohmann::json seed_attributes();

// A fresh database for one arm (its own memory store, or its own prefix "s3db-bench-PID-ARM-RUN"
// on file:// and S3) holding the resource "bench" with seed_attributes(). `wrap`, when set, wraps
// the storage client (e.g. to count operations in flight) before the Client is built.
struct ArmDb {
  Database db;
  Resource res;
  bool remote = false;
};
using StorageWrapper = std::function<std::shared_ptr<StorageClient>(std::shared_ptr<StorageClient>)>;
ArmDb open_arm_db(const BenchOptions& o, const Globals& g, const std::string& arm, int run, bool pool,
                  const StorageWrapper& wrap = {});
// Deletes what the arm wrote on a persistent store (not timed); nothing to do for memory://.
void cleanup_arm_db(ArmDb& a);
// Keeps the pool's metrics of an arm's database for --metrics.
void keep_pool_metrics(ArmDb& a, BenchExtras& x);

// The seed's published figures (../shared/seed/operation-pool.md, "Benchmark Results").
inline constexpr double kSeedCurrentMs = 5953, kSeedPoolMs = 3830;

}  // namespace s3db::cli
