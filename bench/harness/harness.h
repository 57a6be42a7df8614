// bench/harness/harness.h — the benchmark harness behind `s3db bench` (library s3db_bench_harness):
// options, per-arm measurements, statistics and reports of the scenarios seed, memory, overhead
// and reads (seed.cc, memory.cc, overhead.cc, reads.cc; docs/bench.md describes them).
//
// Contract
// - The harness knows nothing of the command line: the caller fills BenchOptions, run_bench()
//   returns the measurements, and the caller prints report_text() or report_json() (for `reads`:
//   report_reads_text() or report_reads_json(), which add the hedged-read figures) and, with
//   --plot, calls write_plot().
// - run_bench() runs the scenario's arms one after another in this process, `runs` times, and
//   returns one ArmRun per arm per run. Per-op timestamps are written into preallocated arrays
//   inside the timed region; statistics (sorting for percentiles, binning for plots) happen
//   afterwards.
// - summarize() reports, per arm, the median over runs of every figure, and the total errors.
// - The JSON report shape is stable (docs/bench.md): {"scenario","ops","concurrency","runs","url",
//   "arms":[{"name","duration_ms","ops_per_sec","avg_latency_ms","peak_rss_mb","errors",...}],...};
//   `reads` adds "objects", "size" and "hedging" (docs/bench.md).
//   Every report (JSON, text, plot) shows the URL through redact_uri(): never its secret.
// - Failures: a failed operation inside an arm is counted in that arm's errors (first_error keeps
//   one example); failing to set up an arm (open the store, create the resource) throws
//   std::runtime_error carrying the Status text; options the caller should have refused (ops = 0,
//   an unknown scenario, a malformed url) throw std::invalid_argument; write_plot() throws
//   std::runtime_error when the file cannot be written.
// Not thread-safe (the harness itself is single-threaded; scenarios manage their own threads).
#pragma once

#include "rss.h"

#include <s3db/operation_pool.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace s3db::bench {

struct BenchOptions {
  std::string scenario = "seed";  // seed | memory | overhead | reads
  std::uint64_t ops = 10000;      // reads: GETs (the CLI's default there is kReadsDefaultOps)
  int concurrency = 50;  // the pool's, winning over the URL's; 0 = auto (ConnectionOptions::kAutoConcurrency)
  int runs = 1;
  std::string url = "memory://";
  int batch = 100;       // seed "batched" arm batch size
  std::vector<std::string> arms;  // seed: run only these arms (empty = all), e.g. for profiling
  std::uint64_t objects = 200;    // reads: distinct objects written first (the GETs cycle over them)
  std::uint64_t object_size = 1024;  // reads: bytes of each object
  // Called with each pool-enabled arm's pool when the arm starts, and with nullptr before that
  // pool goes (on the harness's thread): `s3db bench --metrics-listen` serves the live one.
  std::function<void(const OperationPool*)> on_pool;
};

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

// The pool of the last run's pool-enabled arm (for `s3db bench --metrics`).
struct PoolReport {
  PoolMetrics metrics;
  PoolStats stats;
  std::string prometheus;
};

// `reads`: the hedged reads of the GET phases (Client::hedging(), kind get: after minus before
// each run's GETs), summed over the runs. All zero, enabled = false, on a store that does not hedge.
struct HedgeReport {
  bool enabled = false;           // of the last run's Client
  double budget = 0;              // hedge_budget (0.05 = 5 %)
  std::uint64_t requests = 0;     // GETs the store sent (duplicates not counted)
  std::uint64_t sent = 0, won = 0;  // duplicates sent, duplicates that answered first
  double delay_ms = 0;            // the live p95 of GET at the end of the last run (0: too few answers)
  std::vector<nlohmann::json> per_run;  // {"requests","sent","won","delay_ms"} of each run
  double extra_pct() const {
    return requests ? 100.0 * static_cast<double>(sent) / static_cast<double>(requests) : 0.0;
  }
};

struct BenchResult {
  std::vector<ArmRun> runs;        // every arm of every run, in order
  std::vector<ArmSummary> arms;    // summarize(runs)
  std::optional<PoolReport> pool;  // empty when no arm ran with the pool
  HedgeReport hedging;             // reads only
};

// The CLI's defaults of the `reads` scenario, where the general ones (10,000 ops, concurrency 50)
// do not fit: 2,000 GETs (the proof of hedged reads), 16 in flight.
inline constexpr std::uint64_t kReadsDefaultOps = 2000;
inline constexpr int kReadsDefaultConcurrency = 16;

BenchResult run_bench(const BenchOptions& o);

double median(std::vector<double> v);

// Groups `runs` by arm name (keeping first-seen order) and takes medians.
std::vector<ArmSummary> summarize(const std::vector<ArmRun>& runs);

nlohmann::json report_json(const BenchOptions& o, const std::vector<ArmSummary>& arms);
std::string report_text(const BenchOptions& o, const std::vector<ArmSummary>& arms);
// `reads`: the GET arm's latency percentiles, wall time and rate, plus the hedging figures.
nlohmann::json report_reads_json(const BenchOptions& o, const BenchResult& result);
std::string report_reads_text(const BenchOptions& o, const BenchResult& result);
// Writes the SVG (throughput and RSS over time, one row per arm) using each arm's median run.
void write_plot(const BenchOptions& o, const std::vector<ArmSummary>& arms,
                const std::vector<ArmRun>& runs, const std::string& path);

// The figures of s3db.js v16.3.0's OperationPool note ("Benchmark Results": MemoryClient,
// 10,000 inserts), which the seed scenario reproduces.
inline constexpr double kSeedCurrentMs = 5953, kSeedPoolMs = 3830;

}  // namespace s3db::bench
