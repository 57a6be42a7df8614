// Reports for `s3db bench`: the stable JSON object, the seed-style text table and the SVG plot.
#include "harness.h"
#include "svg_plot.h"

#include <s3db/connection.h>

#include <fmt/format.h>

#include <fstream>
#include <map>
#include <stdexcept>

namespace s3db::bench {
namespace {

const ArmSummary* find_arm(const std::vector<ArmSummary>& arms, const std::string& name) {
  for (const auto& a : arms)
    if (a.name == name) return &a;
  return nullptr;
}

double error_rate(const ArmSummary& a) {
  const double total = static_cast<double>(a.ops) * std::max(1, a.runs);
  return total > 0 ? static_cast<double>(a.errors) / total : 0;
}

// "pool" against every other arm: duration saved (%) and throughput ratio.
nlohmann::json improvements(const std::vector<ArmSummary>& arms) {
  nlohmann::json j = nlohmann::json::object();
  const ArmSummary* pool = find_arm(arms, "pool");
  if (!pool || pool->duration_ms <= 0) return j;
  for (const auto& a : arms) {
    if (&a == pool || a.duration_ms <= 0 || a.name == "pool-json") continue;  // pool-json: the pool too
    j[a.name] = {{"duration_reduction_pct", (a.duration_ms - pool->duration_ms) / a.duration_ms * 100},
                 {"speedup", a.duration_ms / pool->duration_ms},
                 {"throughput_ratio", a.ops_per_sec > 0 ? pool->ops_per_sec / a.ops_per_sec : 0.0}};
  }
  return j;
}

std::string mb(double v) { return fmt::format("{:.1f} MB", v); }
std::string concurrency_text(int c) { return c == ConnectionOptions::kAutoConcurrency ? "auto" : std::to_string(c); }
std::string ms(double v) {
  return v >= 100 ? fmt::format("{:.0f} ms", v) : v >= 1 ? fmt::format("{:.2f} ms", v)
                                                         : fmt::format("{:.4f} ms", v);
}

}  // namespace

nlohmann::json report_json(const BenchOptions& o, const std::vector<ArmSummary>& arms) {
  nlohmann::json j = {{"scenario", o.scenario}, {"ops", o.ops}, {"concurrency", o.concurrency == ConnectionOptions::kAutoConcurrency ? nlohmann::json("auto") : nlohmann::json(o.concurrency)},
                      {"runs", o.runs}, {"url", redact_uri(o.url)}, {"arms", nlohmann::json::array()}};
  for (const auto& a : arms) {
    nlohmann::json arm = {{"name", a.name},
                          {"duration_ms", a.duration_ms},
                          {"ops_per_sec", a.ops_per_sec},
                          {"avg_latency_ms", a.avg_latency_ms},
                          {"peak_rss_mb", a.peak_rss_mb},
                          {"errors", a.errors},
                          {"ops", a.ops},
                          {"error_rate", error_rate(a)},
                          {"ms_per_op", a.ms_per_op},
                          {"p50_latency_ms", a.p50_latency_ms},
                          {"p99_latency_ms", a.p99_latency_ms},
                          {"durations_ms", a.durations_ms}};
    for (auto& [k, v] : a.extra.items()) arm[k] = v;
    if (!a.first_error.empty()) arm["first_error"] = a.first_error;
    j["arms"].push_back(std::move(arm));
  }
  if (o.scenario == "seed" || o.scenario == "memory") j["improvement"] = improvements(arms);
  if (o.scenario == "seed") {
    j["seed_reference"] = {{"current_ms", kSeedCurrentMs}, {"pool_ms", kSeedPoolMs},
                           {"source", "s3db.js v16.3.0 OperationPool note, MemoryClient, 10,000 inserts"}};
    if (const ArmSummary* pool = find_arm(arms, "pool"); pool && pool->duration_ms > 0 && o.ops == 10000)
      j["seed_reference"]["pool_speedup_vs_seed_pool"] = kSeedPoolMs / pool->duration_ms;
  }
  return j;
}

std::string report_text(const BenchOptions& o, const std::vector<ArmSummary>& arms) {
  std::string out = fmt::format("s3db bench — scenario {}: {} ops, concurrency {}, {}, median of {} run{}\n\n",
                                o.scenario, o.ops, concurrency_text(o.concurrency), redact_uri(o.url), o.runs, o.runs == 1 ? "" : "s");
  std::vector<std::pair<std::string, std::vector<std::string>>> rows = {
      {"Duration", {}}, {"Throughput", {}}, {"Avg latency (submit→done)", {}},
      {"Duration / ops", {}}, {"p99 latency", {}}, {"Peak RSS", {}}, {"Error rate", {}}};
  std::map<std::string, std::vector<std::string>> extra_rows;
  std::vector<std::string> extra_order;
  for (const auto& a : arms) {
    rows[0].second.push_back(ms(a.duration_ms));
    rows[1].second.push_back(fmt::format("{:.0f} ops/s", a.ops_per_sec));
    rows[2].second.push_back(ms(a.avg_latency_ms));
    rows[3].second.push_back(ms(a.ms_per_op));
    rows[4].second.push_back(ms(a.p99_latency_ms));
    rows[5].second.push_back(mb(a.peak_rss_mb));
    rows[6].second.push_back(fmt::format("{:.2f}% ({})", error_rate(a) * 100, a.errors));
    for (auto& [k, v] : a.extra.items()) {
      if (!extra_rows.count(k)) extra_order.push_back(k);
      extra_rows[k].push_back(v.is_number() ? fmt::format("{:g}", v.get<double>()) : v.dump());
    }
  }
  for (const auto& k : extra_order) rows.emplace_back(k, extra_rows[k]);
  std::size_t w0 = 6;
  for (auto& r : rows) w0 = std::max(w0, r.first.size());
  std::vector<std::size_t> w;
  for (std::size_t c = 0; c < arms.size(); ++c) {
    std::size_t m = arms[c].name.size();
    for (auto& r : rows) if (c < r.second.size()) m = std::max(m, r.second[c].size());
    w.push_back(m);
  }
  auto line = [&](const std::string& first, auto cell) {
    std::string s = fmt::format("| {:<{}} |", first, w0);
    for (std::size_t c = 0; c < arms.size(); ++c) s += fmt::format(" {:>{}} |", cell(c), w[c]);
    return s + "\n";
  };
  out += line("Metric", [&](std::size_t c) { return arms[c].name; });
  out += line(std::string(w0, '-'), [&](std::size_t c) { return std::string(w[c], '-'); });
  for (auto& r : rows)
    out += line(r.first, [&](std::size_t c) { return c < r.second.size() ? r.second[c] : ""; });

  const auto imp = improvements(arms);
  if (!imp.empty()) {
    out += "\nImprovement of pool:";
    for (auto& [name, v] : imp.items())
      out += fmt::format("  vs {}: {:.1f}% faster, {:.1f}× throughput;", name,
                         v["duration_reduction_pct"].get<double>(), v["throughput_ratio"].get<double>());
    out.back() = '\n';
  }
  if (o.scenario == "seed") {
    out += fmt::format("\nSeed (s3db.js v16.3.0, MemoryClient, 10,000 inserts): current {:.0f} ms, "
                       "OperationPool {:.0f} ms.\n", kSeedCurrentMs, kSeedPoolMs);
    if (const ArmSummary* pool = find_arm(arms, "pool"); pool && pool->duration_ms > 0) {
      if (o.ops == 10000)
        out += fmt::format("Here: pool {} — {:.0f}× the seed's OperationPool figure.\n",
                           ms(pool->duration_ms), kSeedPoolMs / pool->duration_ms);
      if (const ArmSummary* text = find_arm(arms, "pool-json"); text && text->duration_ms > 0)
        out += fmt::format("Here: pool-json {} — {:.0f}× the seed's OperationPool figure, {:.1f}× the pool arm.\n",
                           ms(text->duration_ms), kSeedPoolMs / text->duration_ms * 10000.0 / static_cast<double>(o.ops),
                           pool->duration_ms / text->duration_ms);
      else
        out += fmt::format("Here: pool {} for {} ops (compare with the seed at --ops 10000).\n",
                           ms(pool->duration_ms), o.ops);
    }
  }
  for (const auto& a : arms)
    if (!a.first_error.empty()) out += fmt::format("First error in {}: {}\n", a.name, a.first_error);
  return out;
}

void write_plot(const BenchOptions& o, const std::vector<ArmSummary>& arms,
                const std::vector<ArmRun>& runs, const std::string& path) {
  static const char* kColors[] = {"#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b"};
  PlotFigure fig;
  fig.title = fmt::format("s3db bench {} — {} ops, concurrency {}", o.scenario, o.ops, concurrency_text(o.concurrency));
  fig.subtitle = fmt::format("{} · each row: the median-duration run of that arm (of {}) · RSS sampled every 1 ms",
                             redact_uri(o.url), o.runs);
  fig.columns = 2;
  for (std::size_t i = 0; i < arms.size(); ++i) {
    const ArmSummary& a = arms[i];
    const ArmRun* run = nullptr;
    std::size_t k = 0;
    for (const auto& r : runs)
      if (r.name == a.name && k++ == a.median_run) { run = &r; break; }
    if (!run) continue;
    const std::string color = kColors[i % std::size(kColors)];
    PlotSeries thr{a.name, color, run->throughput};
    for (auto& p : thr.points) p.second /= 1000.0;  // k ops/s keeps tick labels short
    PlotSeries rss{a.name, color, {}};
    for (const auto& s : run->rss) rss.points.emplace_back(s.t_ms, s.rss_mb);
    fig.panels.push_back({fmt::format("{}: throughput ({} in {})", a.name, a.ops, ms(run->duration_ms)),
                          "time since arm start (ms)", "k ops/s", {std::move(thr)}});
    fig.panels.push_back({fmt::format("{}: resident memory (peak {})", a.name, mb(run->peak_rss_mb)),
                          "time since arm start (ms)", "RSS (MB)", {std::move(rss)}});
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write plot file " + path);
  out << render_svg(fig);
  if (!out.flush()) throw std::runtime_error("cannot write plot file " + path);
}

}  // namespace s3db::bench
