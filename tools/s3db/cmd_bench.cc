// s3db bench [seed|memory|overhead] [--ops N] [--runs R] [--plot FILE.svg] [--metrics] [--batch B]
// (with the global --url, --concurrency, --json). Runs the scenario R times and reports the median
// of each figure per arm: the seed's table (text) or one stable JSON object (docs/bench.md).
#include "bench.h"
#include "cli.h"
#include "session.h"

#include <s3db/connection.h>

#include <iostream>

namespace s3db::cli {
namespace {

int run(const Globals& g, BenchOptions o) {
  o.url = g.url;
  o.json = g.json;
  o.concurrency = g.concurrency > 0 ? g.concurrency : 50;
  if (o.ops == 0) throw UsageError("--ops must be at least 1");
  if (auto parsed = ConnectionOptions::FromUri(o.url); !parsed.ok())
    throw UsageError("invalid --url: " + parsed.status().message());

  std::vector<ArmRun> runs;
  BenchExtras extras;
  for (int r = 0; r < o.runs; ++r) {
    std::vector<ArmRun> one = o.scenario == "memory"   ? run_memory_once(o, g, r, extras)
                              : o.scenario == "overhead" ? run_overhead_once(o, g, r, extras)
                                                         : run_seed_once(o, g, r, extras);
    for (auto& a : one) runs.push_back(std::move(a));
  }
  const std::vector<ArmSummary> arms = summarize(runs);
  if (!o.plot.empty()) write_plot(o, arms, runs, o.plot);
  if (o.json) {
    nlohmann::json j = report_json(o, arms);
    if (!o.plot.empty()) j["plot"] = o.plot;
    if (o.metrics) j["metrics"] = extras.pool_metrics;
    std::cout << j.dump() << '\n';
  } else {
    std::cout << report_text(o, arms);
    if (!o.plot.empty()) std::cout << "Plot written to " << o.plot << '\n';
    if (o.metrics) std::cout << "\nPool metrics (last run):\n" << extras.pool_prometheus;
  }
  std::cout.flush();
  return kExitOk;
}

}  // namespace

void add_bench(CLI::App& app, Command& cmd) {
  auto o = std::make_shared<BenchOptions>();
  auto* sub = app.add_subcommand("bench", "reproduce the seed note's benchmarks (uses --url, --concurrency, --json)");
  sub->add_option("scenario", o->scenario, "seed (default) | memory | overhead")
      ->check(CLI::IsMember({"seed", "memory", "overhead"}))
      ->capture_default_str();
  sub->add_option("--ops", o->ops, "operations per arm")->capture_default_str();
  sub->add_option("--runs", o->runs, "runs; each figure is the median over runs")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  sub->add_option("--plot", o->plot, "write throughput and RSS over time per arm as an SVG file");
  sub->add_flag("--metrics", o->metrics, "print the pool's metrics (last run) at the end");
  sub->add_option("--batch", o->batch, "seed: batch size of the batched arm")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  sub->add_option("--arm", o->arms, "seed: run only this arm (repeatable): batched | unbounded | pool")
      ->check(CLI::IsMember({"batched", "unbounded", "pool"}));
  sub->callback([&cmd, o] { cmd.run = [&cmd, o] { return run(*cmd.globals, *o); }; });
}

}  // namespace s3db::cli
