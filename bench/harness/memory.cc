// `s3db bench memory`: the seed note's "Memory Usage Analysis" — 100 concurrent requests, each
// inserting its own 100 freshly generated items (ops = 100 × items), with and without the pool:
//   no_pool — pool bypassed; each request starts one thread per item and awaits them (up to
//             ops operations at once, as with Promise.all in every request);
//   pool    — each request submits its items with insert_async and awaits them; the pool lets at
//             most C run at once.
// Reported besides the common figures: peak_in_flight (storage puts executing at the same time,
// counted by a wrapper around the storage client), requests and items_per_request.
#include "scenario.h"
#include "thread_burst.h"

#include <fmt/format.h>

#include <atomic>

namespace s3db::bench {
namespace {

// Counts puts executing concurrently and keeps the maximum.
class InFlightCounter final : public ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  Result<PutResult> put(const PutRequest& r, OpContext& c) override {
    const int now = active_.fetch_add(1, std::memory_order_relaxed) + 1;
    int seen = peak_.load(std::memory_order_relaxed);
    while (now > seen && !peak_.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
    }
    auto res = target().put(r, c);
    active_.fetch_sub(1, std::memory_order_relaxed);
    return res;
  }
  int peak() const { return peak_.load(); }

 private:
  std::atomic<int> active_{0}, peak_{0};
};

ArmRun run_arm(const BenchOptions& o, int run, bool pool, std::optional<PoolReport>& report) {
  const std::string name = pool ? "pool" : "no_pool";
  const std::uint64_t requests = std::min<std::uint64_t>(100, std::max<std::uint64_t>(1, o.ops));
  const std::uint64_t items = std::max<std::uint64_t>(1, o.ops / requests);
  const std::uint64_t total = requests * items;
  std::shared_ptr<InFlightCounter> counter;
  ArmDb a = open_arm_db(o, "memory-" + name, run, pool, [&](std::shared_ptr<StorageClient> s) {
    counter = std::make_shared<InFlightCounter>(std::move(s));
    return std::static_pointer_cast<StorageClient>(counter);
  });
  std::optional<PoolWatch> watch;
  if (pool) watch.emplace(o, a.db.client().pool());
  OpTimes times;
  times.resize(total);
  ErrorSink errors;
  ArmTimer timer;
  {
    ThreadBurst request_threads(requests);
    for (std::uint64_t q = 0; q < requests; ++q) {
      bool ok = request_threads.spawn([&, q] {
        // Each request builds its own items, like the seed's generateData() inside the request.
        std::vector<nlohmann::json> docs;
        docs.reserve(items);
        for (std::uint64_t k = 0; k < items; ++k) docs.push_back(seed_record(q * items + k));
        if (!pool) {
          ThreadBurst item_threads(items);
          for (std::uint64_t k = 0; k < items; ++k) {
            const std::uint64_t i = q * items + k;
            times.start_ns[i] = timer.ns();
            if (!item_threads.spawn([&, i, k] {
                  auto r = a.res.insert(std::move(docs[k]));
                  times.end_ns[i] = timer.ns();
                  if (!r.ok()) errors.add(r.status());
                }))
              errors.add(Status::Unavailable("spawn", item_threads.last_error()));
          }
          item_threads.join_all();
        } else {
          std::atomic<std::uint64_t> left{items};
          for (std::uint64_t k = 0; k < items; ++k) {
            const std::uint64_t i = q * items + k;
            times.start_ns[i] = timer.ns();
            a.res.insert_async(std::move(docs[k])).then([&, i](Result<nlohmann::json> r) {
              times.end_ns[i] = timer.ns();
              if (!r.ok()) errors.add(r.status());
              if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) left.notify_all();
            });
          }
          for (auto v = left.load(); v != 0; v = left.load()) left.wait(v);
        }
      });
      if (!ok) {
        for (std::uint64_t k = 0; k < items; ++k) errors.add(Status::Unavailable("spawn", request_threads.last_error()));
      }
    }
    request_threads.join_all();
  }
  ArmRun out = timer.finish(name, total, errors, times);
  out.extra["peak_in_flight"] = counter ? counter->peak() : 0;
  out.extra["requests"] = requests;
  out.extra["items_per_request"] = items;
  if (pool) report = pool_report(a.db.client().pool());
  cleanup_arm_db(a);
  return out;
}

}  // namespace

std::vector<ArmRun> run_memory_once(const BenchOptions& o, int run, std::optional<PoolReport>& pool) {
  std::vector<ArmRun> out;
  out.push_back(run_arm(o, run, /*pool=*/false, pool));
  out.push_back(run_arm(o, run, /*pool=*/true, pool));
  return out;
}

}  // namespace s3db::bench
