// Statistics for `s3db bench`: latency figures, throughput series and medians over runs. All of
// it runs after the timed region, so sorting and allocation here cost the measurement nothing.
#include "scenario.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace s3db::bench {

void finish_arm(ArmRun& run, OpTimes& times) {
  std::vector<std::int64_t> lat;
  lat.reserve(times.end_ns.size());
  std::int64_t last_end = 0;
  for (std::size_t i = 0; i < times.end_ns.size(); ++i) {
    if (times.end_ns[i] <= 0) continue;
    lat.push_back(times.end_ns[i] - times.start_ns[i]);
    last_end = std::max(last_end, times.end_ns[i]);
  }
  if (!lat.empty()) {
    const double sum = std::accumulate(lat.begin(), lat.end(), 0.0);
    run.avg_latency_ms = sum / static_cast<double>(lat.size()) / 1e6;
    auto pct = [&](double q) {
      auto k = static_cast<std::size_t>(q * static_cast<double>(lat.size() - 1));
      std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(k), lat.end());
      return static_cast<double>(lat[k]) / 1e6;
    };
    run.p50_latency_ms = pct(0.50);
    run.p99_latency_ms = pct(0.99);
  }
  // Throughput over time: completions per bin, as ops/s; 40 bins over the arm's duration.
  const double span_ns = std::max(run.duration_ms * 1e6, static_cast<double>(last_end));
  constexpr int kBins = 40;
  run.throughput.clear();
  if (span_ns > 0) {
    std::vector<std::uint64_t> bins(kBins, 0);
    for (auto e : times.end_ns) {
      if (e <= 0) continue;
      auto b = static_cast<int>(static_cast<double>(e) / span_ns * kBins);
      bins[static_cast<std::size_t>(std::clamp(b, 0, kBins - 1))]++;
    }
    const double bin_s = span_ns / kBins / 1e9;
    run.throughput.emplace_back(0.0, 0.0);
    for (int b = 0; b < kBins; ++b) {
      run.throughput.emplace_back((b + 0.5) * span_ns / kBins / 1e6,
                                  static_cast<double>(bins[static_cast<std::size_t>(b)]) / bin_s);
    }
  }
}

double latency_quantile_ms(const OpTimes& times, double q) {
  std::vector<std::int64_t> lat;
  lat.reserve(times.end_ns.size());
  for (std::size_t i = 0; i < times.end_ns.size(); ++i)
    if (times.end_ns[i] > 0) lat.push_back(times.end_ns[i] - times.start_ns[i]);
  if (lat.empty()) return 0;
  auto k = static_cast<std::size_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(lat.size() - 1));
  std::nth_element(lat.begin(), lat.begin() + static_cast<std::ptrdiff_t>(k), lat.end());
  return static_cast<double>(lat[k]) / 1e6;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::vector<ArmSummary> summarize(const std::vector<ArmRun>& runs) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const ArmRun*>> by_name;
  for (const auto& r : runs) {
    if (!by_name.count(r.name)) order.push_back(r.name);
    by_name[r.name].push_back(&r);
  }
  std::vector<ArmSummary> out;
  for (const auto& name : order) {
    const auto& rs = by_name[name];
    ArmSummary s;
    s.name = name;
    s.runs = static_cast<int>(rs.size());
    s.ops = rs.front()->ops;
    auto med = [&](auto field) {
      std::vector<double> v;
      for (auto* r : rs) v.push_back(field(*r));
      return median(std::move(v));
    };
    for (auto* r : rs) {
      s.errors += r->errors;
      s.durations_ms.push_back(r->duration_ms);
      if (s.first_error.empty()) s.first_error = r->first_error;
    }
    s.duration_ms = med([](const ArmRun& r) { return r.duration_ms; });
    s.ops_per_sec = med([](const ArmRun& r) {
      return r.duration_ms > 0 ? static_cast<double>(r.ops) / (r.duration_ms / 1e3) : 0.0;
    });
    s.avg_latency_ms = med([](const ArmRun& r) { return r.avg_latency_ms; });
    s.p50_latency_ms = med([](const ArmRun& r) { return r.p50_latency_ms; });
    s.p99_latency_ms = med([](const ArmRun& r) { return r.p99_latency_ms; });
    s.peak_rss_mb = med([](const ArmRun& r) { return r.peak_rss_mb; });
    s.ms_per_op = s.ops ? s.duration_ms / static_cast<double>(s.ops) : 0;
    for (auto& [key, value] : rs.front()->extra.items()) {
      if (!value.is_number()) { s.extra[key] = value; continue; }
      s.extra[key] = med([&key](const ArmRun& r) { return r.extra.value(key, 0.0); });
    }
    // The run whose duration is closest to the median stands for the arm in plots.
    double best = 1e300;
    for (std::size_t i = 0; i < rs.size(); ++i) {
      const double d = std::abs(rs[i]->duration_ms - s.duration_ms);
      if (d < best) { best = d; s.median_run = i; }
    }
    out.push_back(std::move(s));
  }
  return out;
}

void ErrorSink::add(const Status& s) {
  if (count.fetch_add(1, std::memory_order_relaxed) == 0) {
    std::lock_guard lock(mu);
    first = s.to_string();
  }
}

ArmTimer::ArmTimer() {
  rss_.start();
  cpu0_ = process_cpu_ms();
  t0_ = std::chrono::steady_clock::now();
}

ArmRun ArmTimer::finish(std::string name, std::uint64_t ops, ErrorSink& errors, OpTimes& times) {
  const auto end = std::chrono::steady_clock::now();
  const double cpu_ms = process_cpu_ms() - cpu0_;
  rss_.stop();
  ArmRun out;
  out.name = std::move(name);
  out.ops = ops;
  out.duration_ms = std::chrono::duration<double, std::milli>(end - t0_).count();
  out.errors = errors.count.load();
  {
    std::lock_guard lock(errors.mu);
    out.first_error = errors.first;
  }
  out.peak_rss_mb = rss_.peak_mb();
  out.baseline_rss_mb = rss_.baseline_mb();
  out.rss = rss_.samples();
  finish_arm(out, times);
  out.extra["cpu_ms"] = cpu_ms;
  out.extra["cpu_us_per_op"] = ops ? cpu_ms * 1e3 / static_cast<double>(ops) : 0.0;
  return out;
}

}  // namespace s3db::bench
