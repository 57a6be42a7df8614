// `s3db bench reads`: read latency, and what hedged reads do to its tail (issue 13).
//   setup — `objects` objects of `object_size` bytes written through the Client's pool (put_async,
//           `concurrency` in flight), under "s3db-bench-PID-reads-RUN/" (not timed);
//   get   — `ops` GETs cycling over those objects through the pool, a window of `concurrency` kept
//           in flight (a completion frees its place, the next GET is submitted at once), so a
//           latency is one GET's submit → completion on the steady clock, not a wait in a queue
//           the bench filled itself; a body of the wrong size counts as an error;
//   clean — remove_many of the objects through the pool (not timed; keys it could not delete are
//           the arm's "cleanup_errors").
// Each run opens its own Client on the URL (hedge=, hedge_budget= and the rest of the URL apply),
// so every run's hedging starts cold; the hedging figures are Client::hedging()'s get kind after
// the GETs minus before them.
#include "scenario.h"

#include <s3db/client.h>
#include <s3db/connection.h>

#include <fmt/format.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <stdexcept>

namespace s3db::bench {
namespace {

// At most `limit` operations in flight: acquire() before submitting, release() in the completion.
// release() notifies under the lock, so a waiter returning from wait_done() never races a
// completion still touching the window.
class Window {
 public:
  explicit Window(std::size_t limit) : limit_(limit == 0 ? 1 : limit) {}
  void acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ < limit_; });
    ++in_flight_;
  }
  void release() {
    std::lock_guard lock(mu_);
    --in_flight_;
    ++done_;
    cv_.notify_all();
  }
  void wait_done(std::uint64_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t limit_, in_flight_ = 0;
  std::uint64_t done_ = 0;
};

std::shared_ptr<Client> open_client(const BenchOptions& o) {
  if (auto conn = ConnectionOptions::FromUri(o.url); !conn.ok())
    throw std::invalid_argument("invalid --url: " + conn.status().message());
  ClientOptions copts;
  copts.concurrency = o.concurrency;  // the command line's, winning over the URL's
  copts.pool.name = "s3db-cli";       // the Prometheus label of every bench's --metrics
  return value_or_throw(Client::open(o.url, std::move(copts)));
}

// Deterministic bytes per object, so a GET can be checked by its size at no cost.
std::string object_body(std::uint64_t i, std::uint64_t size) {
  std::string body(size, 'a');
  for (std::uint64_t k = 0; k < size; ++k) body[k] = static_cast<char>('a' + (i + k) % 26);
  return body;
}

void write_objects(Client& client, const std::vector<std::string>& keys, std::uint64_t size, std::size_t window) {
  Window w(window);
  ErrorSink errors;
  for (std::uint64_t i = 0; i < keys.size(); ++i) {
    PutRequest req;
    req.key = keys[i];
    req.body = object_body(i, size);
    req.content_type = "application/octet-stream";
    w.acquire();
    client.put_async(std::move(req)).then([&](auto r) {
      if (!r.ok()) errors.add(r.status());
      w.release();
    });
  }
  w.wait_done(keys.size());
  if (errors.count.load() != 0) {
    std::lock_guard lock(errors.mu);
    throw std::runtime_error(fmt::format("bench reads: writing {} objects failed ({} errors), first: {}",
                                         keys.size(), errors.count.load(), errors.first));
  }
}

double ms_of(std::chrono::nanoseconds d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

ArmRun run_reads_once(const BenchOptions& o, int run, std::optional<PoolReport>& pool, HedgeReport& hedging) {
  if (o.objects == 0) throw std::invalid_argument("--objects must be at least 1");
  std::shared_ptr<Client> client = open_client(o);
  const PoolWatch watch(o, client->pool());
  const std::size_t window = o.concurrency > 0 ? static_cast<std::size_t>(o.concurrency)
                                               : static_cast<std::size_t>(kReadsDefaultConcurrency);
  std::vector<std::string> keys;
  keys.reserve(o.objects);
  for (std::uint64_t i = 0; i < o.objects; ++i)
    keys.push_back(fmt::format("s3db-bench-{}-reads-{}/obj-{:06}", ::getpid(), run, i));
  write_objects(*client, keys, o.object_size, window);

  OpTimes times;
  times.resize(o.ops);
  ErrorSink errors;
  Window w(window);
  const HedgeStats before = client->hedging();
  ArmTimer timer;
  for (std::uint64_t i = 0; i < o.ops; ++i) {
    w.acquire();
    const std::string& key = keys[i % keys.size()];
    times.start_ns[i] = timer.ns();
    client->get_async(key).then([&, i](auto r) {
      times.end_ns[i] = timer.ns();
      if (!r.ok())
        errors.add(r.status());
      else if (r->body.size() != o.object_size)
        errors.add(Status::Internal(fmt::format("bench reads: get {}", keys[i % keys.size()]),
                                    fmt::format("{} bytes, expected {}", r->body.size(), o.object_size)));
      w.release();
    });
  }
  w.wait_done(o.ops);
  ArmRun out = timer.finish("get", o.ops, errors, times);
  const HedgeStats after = client->hedging();

  out.extra["p90_latency_ms"] = latency_quantile_ms(times, 0.90);
  out.extra["p95_latency_ms"] = latency_quantile_ms(times, 0.95);
  out.extra["p999_latency_ms"] = latency_quantile_ms(times, 0.999);
  out.extra["max_latency_ms"] = latency_quantile_ms(times, 1.0);

  const std::uint64_t requests = after.get.requests - before.get.requests;
  const std::uint64_t sent = after.get.sent - before.get.sent;
  const std::uint64_t won = after.get.won - before.get.won;
  hedging.enabled = after.enabled;
  hedging.budget = after.budget;
  hedging.requests += requests;
  hedging.sent += sent;
  hedging.won += won;
  hedging.delay_ms = ms_of(after.get.delay);
  hedging.per_run.push_back({{"requests", requests}, {"sent", sent}, {"won", won}, {"delay_ms", hedging.delay_ms}});

  auto removed = client->remove_many(keys);
  out.extra["cleanup_errors"] = removed.ok() ? removed->failed.size() : keys.size();
  pool = pool_report(client->pool());
  return out;
}

}  // namespace s3db::bench
