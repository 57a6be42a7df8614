// Reports of `s3db bench reads`: the GET arm's latency percentiles, wall time and rate (medians
// over runs, as every bench figure), and the hedged reads of the GET phases (sums over runs).
#include "harness.h"

#include <s3db/connection.h>

#include <fmt/format.h>

#include <stdexcept>

namespace s3db::bench {
namespace {

const ArmSummary& get_arm(const BenchResult& result) {
  if (result.arms.empty()) throw std::invalid_argument("bench reads: no run to report");
  return result.arms.front();
}

double extra(const ArmSummary& a, const char* key) { return a.extra.value(key, 0.0); }

std::string ms(double v) {
  return v >= 100 ? fmt::format("{:.0f} ms", v) : v >= 1 ? fmt::format("{:.2f} ms", v)
                                                         : fmt::format("{:.3f} ms", v);
}

}  // namespace

nlohmann::json report_reads_json(const BenchOptions& o, const BenchResult& result) {
  nlohmann::json j = report_json(o, result.arms);
  j["objects"] = o.objects;
  j["size"] = o.object_size;
  const HedgeReport& h = result.hedging;
  j["hedging"] = {{"enabled", h.enabled},   {"budget", h.budget}, {"requests", h.requests},
                  {"sent", h.sent},         {"won", h.won},       {"extra_pct", h.extra_pct()},
                  {"delay_ms", h.delay_ms}, {"per_run", h.per_run}};
  return j;
}

std::string report_reads_text(const BenchOptions& o, const BenchResult& result) {
  const ArmSummary& a = get_arm(result);
  const HedgeReport& h = result.hedging;
  const std::string concurrency =
      o.concurrency == ConnectionOptions::kAutoConcurrency ? std::string("auto") : std::to_string(o.concurrency);
  std::string out = fmt::format(
      "s3db bench — scenario reads: {} GETs over {} objects of {} bytes, concurrency {}, {}, median of {} run{}\n\n",
      o.ops, o.objects, o.object_size, concurrency, redact_uri(o.url), o.runs, o.runs == 1 ? "" : "s");
  const double total = static_cast<double>(a.ops) * std::max(1, a.runs);
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"GETs", fmt::format("{}", a.ops)},
      {"Errors", fmt::format("{} ({:.2f}%)", a.errors, total > 0 ? 100.0 * static_cast<double>(a.errors) / total : 0.0)},
      {"p50 latency", ms(a.p50_latency_ms)},
      {"p90 latency", ms(extra(a, "p90_latency_ms"))},
      {"p95 latency", ms(extra(a, "p95_latency_ms"))},
      {"p99 latency", ms(a.p99_latency_ms)},
      {"p99.9 latency", ms(extra(a, "p999_latency_ms"))},
      {"max latency", ms(extra(a, "max_latency_ms"))},
      {"Wall time", ms(a.duration_ms)},
      {"GETs/s", fmt::format("{:.0f}", a.ops_per_sec)},
      {"Hedging", h.enabled ? fmt::format("on (budget {:g}%)", h.budget * 100) : std::string("off")},
      {"Hedges sent", fmt::format("{}", h.sent)},
      {"Hedges won", fmt::format("{}", h.won)},
      {"Extra requests", fmt::format("{:.2f}% ({} / {} GET requests)", h.extra_pct(), h.sent, h.requests)},
      {"GET hedge delay (p95)", h.delay_ms > 0 ? ms(h.delay_ms) : std::string("-")}};
  std::size_t w0 = 0, w1 = 0;
  for (const auto& [k, v] : rows) {
    w0 = std::max(w0, k.size());
    w1 = std::max(w1, v.size());
  }
  for (const auto& [k, v] : rows) out += fmt::format("| {:<{}} | {:>{}} |\n", k, w0, v, w1);
  if (o.runs > 1) out += "(latencies, wall time and rate: medians of the runs; errors and hedges: totals)\n";
  if (!a.first_error.empty()) out += fmt::format("First error: {}\n", a.first_error);
  if (const double c = extra(a, "cleanup_errors"); c > 0)
    out += fmt::format("Clean-up: {:g} objects could not be deleted\n", c);
  return out;
}

}  // namespace s3db::bench
