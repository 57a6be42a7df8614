// s3db::pool_collectable (contract in s3db/prometheus.h): the pool's families (pool/exposition.h,
// the same list OperationPool::prometheus() renders) converted to prometheus-cpp's structs.
#include <s3db/prometheus.h>

#include <prometheus/metric_family.h>

#include <limits>
#include <string>
#include <vector>

#include "pool/exposition.h"

namespace s3db {

namespace {

prometheus::MetricType type_of(pool::MetricKind k) {
  switch (k) {
    case pool::MetricKind::kCounter: return prometheus::MetricType::Counter;
    case pool::MetricKind::kGauge: return prometheus::MetricType::Gauge;
    case pool::MetricKind::kHistogram: return prometheus::MetricType::Histogram;
  }
  return prometheus::MetricType::Untyped;
}

prometheus::ClientMetric convert(const pool::MetricSample& s, pool::MetricKind kind) {
  prometheus::ClientMetric c;
  for (const auto& [name, value] : s.labels) c.label.push_back({std::string(name), value});
  switch (kind) {
    case pool::MetricKind::kCounter: c.counter.value = s.value; break;
    case pool::MetricKind::kGauge: c.gauge.value = s.value; break;
    case pool::MetricKind::kHistogram: {
      const LatencySummary& h = s.histogram;
      c.histogram.sample_count = h.count;
      c.histogram.sample_sum = h.sum_s;
      for (std::size_t b = 0; b < kLatencyBucketBounds.size(); ++b) {
        c.histogram.bucket.push_back({h.at_most[b], kLatencyBucketBounds[b]});
      }
      c.histogram.bucket.push_back({h.count, std::numeric_limits<double>::infinity()});
      break;
    }
  }
  return c;
}

class PoolCollectable final : public prometheus::Collectable {
 public:
  explicit PoolCollectable(const OperationPool& pool) : pool_(pool) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    for (const pool::MetricFamily& f : pool::pool_families(pool_.stats(), pool_.metrics(), pool_.options().name)) {
      prometheus::MetricFamily family;
      family.name = std::string(f.name);
      family.help = std::string(f.help);
      family.type = type_of(f.kind);
      for (const pool::MetricSample& s : f.samples) family.metric.push_back(convert(s, f.kind));
      out.push_back(std::move(family));
    }
    return out;
  }

 private:
  const OperationPool& pool_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> pool_collectable(const OperationPool& pool) {
  return std::make_shared<PoolCollectable>(pool);
}

}  // namespace s3db
