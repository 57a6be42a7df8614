// bench/harness/scenario.h — what the scenarios (seed.cc, memory.cc, overhead.cc, reads.cc) share inside the
// harness: per-op timestamps, the timed window of an arm, its error count, its database.
// Internal to s3db_bench_harness: callers use harness.h.
//
// Contract: OpTimes and ErrorSink may be written from any thread during the timed window; the
// rest is used by the thread running the arm. Setup failures throw as harness.h says.
#pragma once

#include "harness.h"

#include <s3db/database.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace s3db::bench {

// The value of `r`, or std::runtime_error(status text): an arm cannot run without it.
template <class T>
T value_or_throw(Result<T>&& r) {
  if (!r.ok()) throw std::runtime_error(r.status().to_string());
  return std::move(r).value();
}

// Per-op timestamps in ns since the arm's start; preallocate with resize(n) before timing.
struct OpTimes {
  std::vector<std::int64_t> start_ns, end_ns;
  void resize(std::size_t n) { start_ns.assign(n, 0); end_ns.assign(n, 0); }
};

inline std::int64_t ns_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
      .count();
}

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

// One run of every arm of a scenario (run_index makes storage prefixes unique); the pool of the
// last pool-enabled arm is kept in `pool`.
std::vector<ArmRun> run_seed_once(const BenchOptions& o, int run_index, std::optional<PoolReport>& pool);
std::vector<ArmRun> run_memory_once(const BenchOptions& o, int run_index, std::optional<PoolReport>& pool);
std::vector<ArmRun> run_overhead_once(const BenchOptions& o, int run_index, std::optional<PoolReport>& pool);
// reads: one arm "get"; adds this run's hedged reads to `hedging`.
ArmRun run_reads_once(const BenchOptions& o, int run_index, std::optional<PoolReport>& pool, HedgeReport& hedging);

// Latency quantile q (0..1) in ms of `times` (ops with end_ns == 0 ignored), the same rank rule as
// finish_arm's p50/p99 (index floor(q × (n − 1)) of the sorted latencies); 0 without samples.
double latency_quantile_ms(const OpTimes& times, double q);

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
ArmDb open_arm_db(const BenchOptions& o, const std::string& arm, int run, bool pool,
                  const StorageWrapper& wrap = {});
// Deletes what the arm wrote on a persistent store (not timed); nothing to do for memory://.
void cleanup_arm_db(ArmDb& a);

PoolReport pool_report(OperationPool& pool);

// Tells BenchOptions::on_pool about `pool` for its own lifetime (declare it after the pool).
class PoolWatch {
 public:
  PoolWatch(const BenchOptions& o, const OperationPool& pool) : o_(o) {
    if (o_.on_pool) o_.on_pool(&pool);
  }
  ~PoolWatch() {
    if (o_.on_pool) o_.on_pool(nullptr);
  }
  PoolWatch(const PoolWatch&) = delete;
  PoolWatch& operator=(const PoolWatch&) = delete;

 private:
  const BenchOptions& o_;
};

}  // namespace s3db::bench
