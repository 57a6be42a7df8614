// `s3db bench` scenario "seed": the seed note's 10,000 inserts of ~200-byte records through
// Resource::insert, in four arms run one after another in this process:
//   batched   — pool bypassed; 100 operations started at once (one thread each), the batch
//               awaited, then the next: the seed's "current" Promise.all-per-100 code;
//   unbounded — pool bypassed; all N started at once, one thread per operation: the seed's
//               "uncontrolled parallelism" (threads are what concurrent tasks cost in C++);
//   pool      — all N submitted with Resource::insert_async to the pool (concurrency C), then
//               all awaited;
//   pool-json — the same records as JSON text, submitted with Resource::insert_json_async (the
//               one-pass reader: no nlohmann::json built or freed per record).
// Every arm gets a fresh Database (its own memory store, or its own prefix on file:// / S3, removed
// afterwards), pre-generated records, preallocated timestamp arrays and its own RSS sampler.
// Per-op latency is submit → completion (a Future::then continuation in the pool arm).
#include "scenario.h"
#include "thread_burst.h"

#include <s3db/connection.h>

#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

namespace s3db::bench {
namespace {

const char* const kStatuses[] = {"active", "inactive", "pending", "suspended"};
const char* const kTags[] = {"alpha", "beta", "gamma", "delta", "omega"};

}  // namespace

nlohmann::json seed_record(std::uint64_t i) {
  // Deterministic per index so every arm and run writes the same data.
  return {{"name", fmt::format("User {:06}", i)},
          {"email", fmt::format("user{:06}@example.com", i)},
          {"age", static_cast<int>(18 + i % 60)},
          {"status", kStatuses[i % 4]},
          {"tags", {kTags[i % 5], kTags[(i + 2) % 5]}},
          {"metadata", {{"source", "bench"}, {"region", "eu-west-1"}, {"score", static_cast<int>(i * 7919 % 1000)},
                        {"verified", i % 3 == 0}}}};
}

nlohmann::json seed_attributes() {
  return {{"name", "string|required"}, {"email", "email|required"}, {"age", "integer|min:0"},
          {"status", "string"},       {"tags", "array|items:string"}, {"metadata", "object"}};
}

ArmDb open_arm_db(const BenchOptions& o, const std::string& arm, int run, bool pool,
                  const StorageWrapper& wrap) {
  // Hand the memory freed by the previous arm back to the system first, so that every arm starts
  // from a similar heap and its peak RSS is its own (glibc keeps freed memory otherwise).
  ::malloc_trim(0);
  auto conn = ConnectionOptions::FromUri(o.url);
  if (!conn.ok()) throw std::invalid_argument("invalid --url: " + conn.status().message());
  DatabaseOptions opts;
  opts.client.pool_enabled = pool;
  opts.client.concurrency = o.concurrency;
  // A prefix per arm and run: arms never see each other's records, even on a shared bucket.
  opts.prefix = fmt::format("s3db-bench-{}-{}-{}", ::getpid(), arm, run);
  Database db = [&] {
    if (!wrap) {
      opts.client.pool.name = "s3db-cli";  // the Prometheus label --metrics has always shown here
      return value_or_throw(Database::open(o.url, std::move(opts)));
    }
    std::shared_ptr<StorageClient> storage = value_or_throw(make_storage_client(*conn));
    ClientOptions copts = opts.client;
    ConnectionOptions pool_settings = *conn;  // as Client::open would apply them
    pool_settings.concurrency = o.concurrency;
    pool_settings.apply_to(copts.pool);
    auto client = Client::wrap(wrap(std::move(storage)), std::move(copts));
    return value_or_throw(Database::open(std::move(client), std::move(opts)));
  }();
  ResourceConfig cfg;
  cfg.name = "bench";
  cfg.attributes = seed_attributes();
  Resource res = value_or_throw(db.create_resource(std::move(cfg)));
  return {db, res, db.client().storage().kind() != "memory"};
}

// Removes what an arm wrote on a persistent store (not timed). Memory stores vanish with the Database.
void cleanup_arm_db(ArmDb& a) {
  if (!a.remote) return;
  auto keys = a.db.client().list_all(a.db.prefix());
  if (!keys.ok()) return;
  std::vector<std::string> names;
  names.reserve(keys->size());
  for (auto& m : *keys) names.push_back(std::move(m.key));
  (void)a.db.client().remove_many(std::move(names));
}

PoolReport pool_report(OperationPool& pool) {
  return {pool.metrics(), pool.stats(), pool.prometheus()};
}

namespace {

std::vector<nlohmann::json> seed_records(std::uint64_t n) {
  std::vector<nlohmann::json> docs;
  docs.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) docs.push_back(seed_record(i));
  return docs;
}

// batched / unbounded: one thread per insert, `group` of them at a time (group = N: unbounded).
ArmRun run_threaded(const BenchOptions& o, const std::string& name, int run, std::uint64_t group) {
  ArmDb a = open_arm_db(o, name, run, /*pool=*/false);
  std::vector<nlohmann::json> docs = seed_records(o.ops);
  OpTimes times;
  times.resize(o.ops);
  ErrorSink errors;
  ArmTimer timer;
  {
    ThreadBurst burst(std::min<std::uint64_t>(group, o.ops));
    for (std::uint64_t base = 0; base < o.ops; base += group) {
      const std::uint64_t end = std::min(o.ops, base + group);
      for (std::uint64_t i = base; i < end; ++i) {
        times.start_ns[i] = timer.ns();
        bool started = burst.spawn([&, i] {
          auto r = a.res.insert(std::move(docs[i]));
          times.end_ns[i] = timer.ns();
          if (!r.ok()) errors.add(r.status());
        });
        if (!started) errors.add(Status::Unavailable("spawn", burst.last_error()));
      }
      burst.join_all();
    }
  }
  ArmRun out = timer.finish(name, o.ops, errors, times);
  cleanup_arm_db(a);
  return out;
}

// pool / pool-json: all N submitted with `submit(item, i)` (a Future) to the pool, then all
// awaited. `items` are made before the arm's timed window.
template <class Item, class Submit>
ArmRun run_pooled(const BenchOptions& o, const std::string& name, int run, std::optional<PoolReport>& pool,
                  std::vector<Item> items, Submit submit) {
  ArmDb a = open_arm_db(o, name, run, /*pool=*/true);
  const PoolWatch watch(o, a.db.client().pool());
  OpTimes times;
  times.resize(o.ops);
  ErrorSink errors;
  std::atomic<std::uint64_t> remaining{o.ops};
  ArmTimer timer;
  for (std::uint64_t i = 0; i < o.ops; ++i) {
    times.start_ns[i] = timer.ns();
    submit(a.res, std::move(items[i])).then([&, i](auto r) {
      times.end_ns[i] = timer.ns();
      if (!r.ok()) errors.add(r.status());
      if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) remaining.notify_all();
    });
  }
  for (std::uint64_t left = remaining.load(std::memory_order_acquire); left != 0;
       left = remaining.load(std::memory_order_acquire))
    remaining.wait(left, std::memory_order_acquire);
  ArmRun out = timer.finish(name, o.ops, errors, times);
  pool = pool_report(a.db.client().pool());
  cleanup_arm_db(a);
  return out;
}

ArmRun run_pool(const BenchOptions& o, int run, std::optional<PoolReport>& pool) {
  return run_pooled(o, "pool", run, pool, seed_records(o.ops),
                    [](Resource& r, nlohmann::json doc) { return r.insert_async(std::move(doc)); });
}

// The same records given as JSON text (what a bulk loader reads): Resource::insert_json_async.
ArmRun run_pool_json(const BenchOptions& o, int run, std::optional<PoolReport>& pool) {
  std::vector<std::string> texts;
  texts.reserve(o.ops);
  for (std::uint64_t i = 0; i < o.ops; ++i) texts.push_back(seed_record(i).dump());
  return run_pooled(o, "pool-json", run, pool, std::move(texts),
                    [](Resource& r, std::string text) { return r.insert_json_async(std::move(text)); });
}

}  // namespace

std::vector<ArmRun> run_seed_once(const BenchOptions& o, int run, std::optional<PoolReport>& pool) {
  auto wanted = [&](const char* arm) {
    return o.arms.empty() || std::find(o.arms.begin(), o.arms.end(), arm) != o.arms.end();
  };
  std::vector<ArmRun> out;
  if (wanted("batched"))
    out.push_back(run_threaded(o, "batched", run, static_cast<std::uint64_t>(std::max(1, o.batch))));
  if (wanted("unbounded")) out.push_back(run_threaded(o, "unbounded", run, o.ops));
  if (wanted("pool")) out.push_back(run_pool(o, run, pool));
  if (wanted("pool-json")) out.push_back(run_pool_json(o, run, pool));
  return out;
}

}  // namespace s3db::bench
