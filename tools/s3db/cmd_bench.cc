// s3db bench [seed|memory|overhead|reads] [--ops N] [--runs R] [--plot FILE.svg] [--metrics] [--batch B]
//            [--metrics-listen 127.0.0.1:PORT]  (serves the running arm's pool; empty between arms)
//            [--objects N] [--size BYTES]  (reads)
// (with the global --url, --concurrency, --json). Options and printing only: the harness
// (bench/harness, library s3db_bench_harness) runs the scenario R times and takes the median of
// each figure per arm; this prints the seed's table (text) or one stable JSON object (docs/bench.md).
#include "cli.h"
#include "metrics_server.h"
#include "session.h"

#include <harness/harness.h>
#include <s3db/connection.h>

#include <iostream>
#include <mutex>

namespace s3db::cli {
namespace {

struct BenchArgs {
  bench::BenchOptions options;
  std::string plot;      // SVG path, empty = none
  bool metrics = false;  // print the pool's metrics (Prometheus, or in the JSON) at the end
  std::string metrics_listen;  // --metrics-listen HOST:PORT (empty = off)
  bool ops_given = false;      // --ops on the command line (else the scenario's default)
};

// The pool of the arm now running, for --metrics-listen: set and cleared by the harness thread,
// read by the server thread (the mutex keeps a pool from going while it is rendered).
struct LivePool {
  std::mutex mu;
  const OperationPool* pool = nullptr;
};

std::unique_ptr<MetricsServer> serve_live_pool(const std::string& address, bench::BenchOptions& o) {
  if (address.empty()) return nullptr;
  auto live = std::make_shared<LivePool>();
  o.on_pool = [live](const OperationPool* p) {
    std::lock_guard<std::mutex> g(live->mu);
    live->pool = p;
  };
  return MetricsServer::start(address, [live] {
    std::lock_guard<std::mutex> g(live->mu);
    return live->pool ? live->pool->prometheus() : std::string();
  });
}

int run(const Globals& g, BenchArgs args) {
  bench::BenchOptions& o = args.options;
  o.url = g.url;
  const bool reads = o.scenario == "reads";
  // A bench compares runs: a fixed default, or auto if asked.
  o.concurrency = g.concurrency.value_or(reads ? bench::kReadsDefaultConcurrency : 50);
  if (reads && !args.ops_given) o.ops = bench::kReadsDefaultOps;
  if (o.ops == 0) throw UsageError("--ops must be at least 1");
  if (auto parsed = ConnectionOptions::FromUri(o.url); !parsed.ok())
    throw UsageError("invalid --url: " + parsed.status().message());

  const auto metrics_server = serve_live_pool(args.metrics_listen, o);
  const bench::BenchResult result = bench::run_bench(o);
  if (!args.plot.empty()) bench::write_plot(o, result.arms, result.runs, args.plot);
  if (g.json) {
    nlohmann::json j = reads ? bench::report_reads_json(o, result) : bench::report_json(o, result.arms);
    if (!args.plot.empty()) j["plot"] = args.plot;
    if (args.metrics)
      j["metrics"] = result.pool ? metrics_json(result.pool->metrics, result.pool->stats) : nlohmann::json();
    std::cout << j.dump() << '\n';
  } else {
    std::cout << (reads ? bench::report_reads_text(o, result) : bench::report_text(o, result.arms));
    if (!args.plot.empty()) std::cout << "Plot written to " << args.plot << '\n';
    if (args.metrics)
      std::cout << "\nPool metrics (last run):\n" << (result.pool ? result.pool->prometheus : "");
  }
  std::cout.flush();
  return kExitOk;
}

}  // namespace

void add_bench(CLI::App& app, Command& cmd) {
  auto args = std::make_shared<BenchArgs>();
  bench::BenchOptions& o = args->options;
  auto* sub = app.add_subcommand(
      "bench",
      "reproduce the seed note's benchmarks, or measure read latency and hedged reads (uses --url, "
      "--concurrency, --json; --concurrency defaults to 50, and to 16 GETs in flight for reads)");
  sub->add_option("scenario", o.scenario,
                  "seed (default) | memory | overhead | reads (GET latency p50..max and hedged reads: "
                  "--objects written first, then --ops GETs with --concurrency in flight, default 16)")
      ->check(CLI::IsMember({"seed", "memory", "overhead", "reads"}))
      ->capture_default_str();
  sub->add_option("--ops", o.ops, "operations per arm (reads: GETs, default 2000)")
      ->capture_default_str()
      ->each([args](const std::string&) { args->ops_given = true; });
  sub->add_option("--objects", o.objects, "reads: distinct objects written first; the GETs cycle over them")
      ->check(CLI::Range(static_cast<std::uint64_t>(1), static_cast<std::uint64_t>(10000000)))
      ->capture_default_str();
  sub->add_option("--size", o.object_size, "reads: bytes of each object")
      ->check(CLI::Range(static_cast<std::uint64_t>(0), static_cast<std::uint64_t>(1) << 30))
      ->capture_default_str();
  sub->add_option("--runs", o.runs, "runs; each figure is the median over runs")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_option("--plot", args->plot, "write throughput and RSS over time per arm as an SVG file");
  sub->add_flag("--metrics", args->metrics, "print the pool's metrics (last run) at the end");
  add_metrics_listen_option(sub, args->metrics_listen);
  sub->add_option("--batch", o.batch, "seed: batch size of the batched arm")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  sub->add_option("--arm", o.arms, "seed: run only this arm (repeatable): batched | unbounded | pool | pool-json")
      ->check(CLI::IsMember({"batched", "unbounded", "pool", "pool-json"}));
  sub->callback([&cmd, args] { cmd.run = [&cmd, args] { return run(*cmd.globals, *args); }; });
}

}  // namespace s3db::cli
