// `s3db bench overhead`: what the pool costs per operation when the operation does nothing.
//   direct — the no-op called in a loop (the baseline: a call through std::function);
//   run    — OperationPool::run() from one thread: the inline fast path (free slot, empty queue);
//   submit — N OperationPool::submit() then every Future awaited: queue, thread hand-off, wake-ups.
// ns_per_op = duration / ops (latency here is the mean cost, not a per-op measurement: timing each
// no-op would cost more than the op).
#include "scenario.h"

#include <s3db/connection.h>

#include <functional>

namespace s3db::bench {
namespace {

ArmRun finish(const std::string& name, const BenchOptions& o, RssSampler& rss, double ms,
              std::uint64_t errors) {
  rss.stop();
  ArmRun out;
  out.name = name;
  out.ops = o.ops;
  out.duration_ms = ms;
  out.errors = errors;
  out.peak_rss_mb = rss.peak_mb();
  out.baseline_rss_mb = rss.baseline_mb();
  out.rss = rss.samples();
  out.avg_latency_ms = out.p50_latency_ms = out.p99_latency_ms =
      o.ops ? ms / static_cast<double>(o.ops) : 0;
  out.throughput = {{0.0, 0.0}, {ms, ms > 0 ? static_cast<double>(o.ops) / (ms / 1e3) : 0.0}};
  out.extra = {{"ns_per_op", o.ops ? ms * 1e6 / static_cast<double>(o.ops) : 0.0}};
  return out;
}

double since_ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::vector<ArmRun> run_overhead_once(const BenchOptions& o, int, std::optional<PoolReport>& report) {
  std::vector<ArmRun> out;
  std::atomic<std::uint64_t> sink{0};
  // The no-op touches an atomic so no arm can be optimised away.
  std::function<Status(OpContext&)> noop = [&sink](OpContext&) {
    sink.fetch_add(1, std::memory_order_relaxed);
    return Status::OK();
  };
  {
    RssSampler rss;
    rss.start();
    OpContext ctx;
    std::uint64_t errors = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < o.ops; ++i) errors += noop(ctx).ok() ? 0 : 1;
    out.push_back(finish("direct", o, rss, since_ms(t0), errors));
  }
  PoolOptions po;
  ConnectionOptions pool_settings;
  pool_settings.concurrency = o.concurrency;
  pool_settings.apply_to(po);
  po.name = "s3db-bench-overhead";
  OperationPool pool(po);
  const PoolWatch watch(o, pool);
  {
    RssSampler rss;
    rss.start();
    std::uint64_t errors = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < o.ops; ++i) errors += pool.run(noop).ok() ? 0 : 1;
    out.push_back(finish("run", o, rss, since_ms(t0), errors));
  }
  {
    std::vector<Future<void>> futures;
    futures.reserve(o.ops);
    RssSampler rss;
    rss.start();
    std::uint64_t errors = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (std::uint64_t i = 0; i < o.ops; ++i) futures.push_back(pool.submit(noop));
    for (auto& f : futures) errors += f.get().ok() ? 0 : 1;
    out.push_back(finish("submit", o, rss, since_ms(t0), errors));
  }
  report = pool_report(pool);
  return out;
}

}  // namespace s3db::bench
