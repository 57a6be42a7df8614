// MemoryClient: point operations and LIST (docs/performance.md "MemoryClient index").
//
//   BM_Get / BM_Head / BM_Put   one key at random out of N stored (10k and 1M), put overwrites
//   BM_PutNew                   puts of new keys into a store already holding N
//   BM_GetThreads               BM_Get on 2 threads at once (shard locks shared)
//   BM_ListAll                  every key of 100k stored, in pages of 1,000 (items = keys)
//   BM_ListWhileInserting       the same scan while a writer inserts 100 new keys between pages
//                               (the pattern a lazily sorted index must not make quadratic)
//
// Keys look like a resource's record keys: one long shared prefix, a random 12-hex-digit id.
#include <s3db/storage_client.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace {

using s3db::ListRequest;
using s3db::OpContext;
using s3db::PutRequest;
using s3db::StorageClient;

std::string key_of(std::uint64_t id) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "%012llx", static_cast<unsigned long long>(id & 0xFFFFFFFFFFFFull));
  return std::string("s3db/db/resource=users/data/id=") + hex;
}

PutRequest record(std::string key) {
  PutRequest r;
  r.key = std::move(key);
  r.body.assign(200, 'x');
  r.metadata.emplace(std::string("v"), std::string(1, '1'));
  return r;
}

// A filled store and its keys in random order, built once per size and shared by the benchmarks
// (a 1M-key store takes seconds to fill).
struct Filled {
  std::unique_ptr<StorageClient> client;
  std::vector<std::string> keys;
};

Filled& filled(std::size_t n) {
  static std::mutex mu;
  static std::map<std::size_t, std::unique_ptr<Filled>> stores;
  std::lock_guard lock(mu);
  auto& slot = stores[n];
  if (!slot) {
    slot = std::make_unique<Filled>();
    slot->client = s3db::make_memory_client();
    std::mt19937_64 rng(n);
    OpContext ctx;
    slot->keys.reserve(n);
    while (slot->keys.size() < n) {
      std::string key = key_of(rng());
      if (!slot->client->put(record(key), ctx).ok()) continue;  // never fails; keeps -Werror quiet
      slot->keys.push_back(std::move(key));
    }
  }
  return *slot;
}

void BM_Get(benchmark::State& state) {
  Filled& f = filled(static_cast<std::size_t>(state.range(0)));
  OpContext ctx;
  std::size_t i = static_cast<std::size_t>(state.thread_index()) * 7919;
  for (auto _ : state) {
    auto r = f.client->get(f.keys[i++ % f.keys.size()], ctx);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Get)->Arg(10'000)->Arg(1'000'000);
BENCHMARK(BM_Get)->Name("BM_GetThreads")->Arg(10'000)->Arg(1'000'000)->Threads(2)->UseRealTime();

void BM_Head(benchmark::State& state) {
  Filled& f = filled(static_cast<std::size_t>(state.range(0)));
  OpContext ctx;
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = f.client->head(f.keys[i++ % f.keys.size()], ctx);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Head)->Arg(10'000)->Arg(1'000'000);

void BM_Put(benchmark::State& state) {
  Filled& f = filled(static_cast<std::size_t>(state.range(0)));
  OpContext ctx;
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = f.client->put_moved(record(f.keys[i++ % f.keys.size()]), ctx);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Put)->Arg(10'000)->Arg(1'000'000);

void BM_PutNew(benchmark::State& state) {
  // Its own store: the new keys would otherwise change the shared ones' size.
  auto client = s3db::make_memory_client();
  OpContext ctx;
  std::mt19937_64 rng(42);
  const auto n = static_cast<std::size_t>(state.range(0));
  for (std::size_t i = 0; i < n; ++i) benchmark::DoNotOptimize(client->put_moved(record(key_of(rng())), ctx));
  for (auto _ : state) {
    auto r = client->put_moved(record(key_of(rng())), ctx);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PutNew)->Arg(10'000)->Arg(1'000'000);

// Lists every key under the prefix in pages of 1,000; between pages runs `between`.
template <typename Between>
std::size_t list_all(StorageClient& client, Between between) {
  OpContext ctx;
  ListRequest req;
  req.prefix = "s3db/db/resource=users/data/";
  std::size_t seen = 0;
  for (;;) {
    auto page = client.list(req, ctx);
    if (!page.ok()) break;
    seen += page->objects.size();
    if (!page->truncated) break;
    req.continuation_token = page->next_continuation_token;
    between();
  }
  return seen;
}

void BM_ListAll(benchmark::State& state) {
  Filled& f = filled(static_cast<std::size_t>(state.range(0)));
  std::size_t seen = 0;
  for (auto _ : state) seen = list_all(*f.client, [] {});
  if (seen != f.keys.size()) state.SkipWithError("listing missed keys");
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(f.keys.size()));
}
BENCHMARK(BM_ListAll)->Arg(100'000)->Unit(benchmark::kMillisecond);

void BM_ListWhileInserting(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  std::size_t listed = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto client = s3db::make_memory_client();
    OpContext ctx;
    std::mt19937_64 rng(7);
    for (std::size_t i = 0; i < n; ++i) benchmark::DoNotOptimize(client->put_moved(record(key_of(rng())), ctx));
    state.ResumeTiming();
    listed += list_all(*client, [&] {
      for (int i = 0; i < 100; ++i) benchmark::DoNotOptimize(client->put_moved(record(key_of(rng())), ctx));
    });
    state.PauseTiming();
    client.reset();  // freeing 100k objects is not what is measured
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(listed));
}
BENCHMARK(BM_ListWhileInserting)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
