// run_bench(): every run of the chosen scenario, one after another, then the medians (harness.h).
#include "scenario.h"

#include <stdexcept>

namespace s3db::bench {

BenchResult run_bench(const BenchOptions& o) {
  if (o.ops == 0) throw std::invalid_argument("--ops must be at least 1");
  using RunOnce = std::vector<ArmRun> (*)(const BenchOptions&, int, std::optional<PoolReport>&);
  RunOnce run_once = o.scenario == "seed"       ? &run_seed_once
                     : o.scenario == "memory"   ? &run_memory_once
                     : o.scenario == "overhead" ? &run_overhead_once
                                                : nullptr;
  const bool reads = o.scenario == "reads";
  if (!run_once && !reads) throw std::invalid_argument("unknown scenario '" + o.scenario + "'");
  BenchResult result;
  for (int r = 0; r < o.runs; ++r) {
    if (reads) {
      result.runs.push_back(run_reads_once(o, r, result.pool, result.hedging));
      continue;
    }
    for (auto& arm : run_once(o, r, result.pool)) result.runs.push_back(std::move(arm));
  }
  result.arms = summarize(result.runs);
  return result;
}

}  // namespace s3db::bench
