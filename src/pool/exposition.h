// pool::exposition — the pool's metrics as Prometheus metric families, in one place: the text
// exposition of OperationPool::prometheus() and the prometheus-cpp component
// (s3db/prometheus.h) both render this list, so names, help texts and labels have one home.
//
// Contract
// - pool_families() is a pure function of one stats()/metrics() snapshot and the pool's name:
//   every family has a name, a help text and a kind, and its samples carry the label pool="<name>"
//   first. Families that do not apply (breaker or retry budget off, no concurrency change yet)
//   are left out; a family with no sample yet is kept (valid exposition).
// - to_text() renders families in the Prometheus text format 0.0.4 (label values escaped).
// - Allocates: meant for a scrape, never for the pool's hot path.
#pragma once

#include <s3db/operation_pool.h>
#include <s3db/shared_limit.h>
#include <s3db/storage_client.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3db::pool {

enum class MetricKind { kCounter, kGauge, kHistogram };

struct MetricSample {
  std::vector<std::pair<std::string_view, std::string>> labels;  // pool="..." first
  double value = 0;          // counter / gauge
  LatencySummary histogram;  // histogram: at_most (buckets), sum_s, count
};

struct MetricFamily {
  std::string_view name;
  std::string_view help;
  MetricKind kind = MetricKind::kGauge;
  std::vector<MetricSample> samples;
};

std::vector<MetricFamily> pool_families(const PoolStats& s, const PoolMetrics& m, std::string_view pool_name);
// A Client's shared limit and rate caps (s3db/shared_limit.h); empty when none was joined.
std::vector<MetricFamily> shared_families(const SharedLimitState& s, std::string_view pool_name);
// A Client's hedged reads (s3db/storage_client.h); empty when its store does not hedge.
std::vector<MetricFamily> hedge_families(const HedgeStats& s, std::string_view pool_name);
std::string to_text(const std::vector<MetricFamily>& families);

}  // namespace s3db::pool
