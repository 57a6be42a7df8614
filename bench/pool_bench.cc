// OperationPool overhead with no-op operations.
//
//   BM_RunInline        run() on an idle pool: the inline fast path (target ≤ 200 ns/op)
//   BM_SubmitGet        submit() then get() one op at a time: a full hand-off round trip
//   BM_SubmitBatch      submit 256 ops, then get() them: per-op cost with a thread hand-off
//                       (target ≤ 1 µs/op), 1 and 2 submitting threads
//   BM_QueuedBytes      bytes per queued op with 1,000,000 queued (target ≤ 64 + closure)
#include <s3db/operation_pool.h>

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

namespace {

using s3db::OpContext;
using s3db::OperationPool;
using s3db::PoolOptions;
using s3db::Status;

PoolOptions opts(int concurrency) {
  PoolOptions o;
  o.concurrency = concurrency;
  return o;
}

void BM_RunInline(benchmark::State& state) {
  OperationPool pool(opts(4));
  for (auto _ : state) {
    Status st = pool.run([](OpContext&) { return Status::OK(); });
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RunInline);

void BM_RunInlineValue(benchmark::State& state) {
  OperationPool pool(opts(4));
  int i = 0;
  for (auto _ : state) {
    auto r = pool.run([&](OpContext&) -> s3db::Result<int> { return ++i; });
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RunInlineValue);

void BM_SubmitGet(benchmark::State& state) {
  OperationPool pool(opts(1));
  for (auto _ : state) {
    Status st = pool.submit([](OpContext&) { return Status::OK(); }).get();
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SubmitGet)->MeasureProcessCPUTime()->UseRealTime();

// Shared by the submitting threads of one run.
OperationPool* g_pool = nullptr;

void BM_SubmitBatch(benchmark::State& state) {
  constexpr int kBatch = 256;
  // Thread 0 builds the pool before the loop's starting barrier releases the others.
  if (state.thread_index() == 0) g_pool = new OperationPool(opts(static_cast<int>(state.range(0))));
  std::vector<s3db::Future<void>> fs;
  fs.reserve(kBatch);
  for (auto _ : state) {
    for (int i = 0; i < kBatch; ++i) fs.push_back(g_pool->submit([](OpContext&) { return Status::OK(); }));
    for (auto& f : fs) benchmark::DoNotOptimize(f.get());
    fs.clear();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  if (state.thread_index() == 0) {
    // The loop ends with a barrier: every thread has finished its batches.
    delete g_pool;
    g_pool = nullptr;
  }
}
BENCHMARK(BM_SubmitBatch)->Arg(1)->Threads(1)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_SubmitBatch)->Arg(2)->Threads(1)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_SubmitBatch)->Arg(1)->Threads(2)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK(BM_SubmitBatch)->Arg(2)->Threads(2)->MeasureProcessCPUTime()->UseRealTime();

std::size_t heap_bytes() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

std::size_t rss_bytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return static_cast<std::size_t>(resident) * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

void BM_QueuedBytes(benchmark::State& state) {
  constexpr std::size_t kOps = 1'000'000;
  for (auto _ : state) {
    OperationPool pool(opts(2));
    pool.pause();
    // Warm the allocator and the queue's level vector so that they are not counted.
    (void)pool.submit([](OpContext&) { return Status::OK(); });
    const std::size_t heap0 = heap_bytes();
    const std::size_t rss0 = rss_bytes();
    for (std::size_t i = 0; i < kOps; ++i) {
      (void)pool.submit([](OpContext&) { return Status::OK(); });  // the Future is dropped
    }
    const std::size_t heap1 = heap_bytes();
    const std::size_t rss1 = rss_bytes();
    state.counters["heap_bytes_per_op"] = static_cast<double>(heap1 - heap0) / kOps;
    state.counters["rss_bytes_per_op"] = static_cast<double>(rss1 - rss0) / kOps;
    state.counters["queued"] = static_cast<double>(pool.stats().queue_size);
    state.PauseTiming();
    pool.resume();
    pool.drain();
    state.ResumeTiming();
  }
}
BENCHMARK(BM_QueuedBytes)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
