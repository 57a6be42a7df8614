// s3db::pool_collectable (contract in s3db/prometheus.h): the pool's families (pool/exposition.h,
// the same list OperationPool::prometheus() renders) converted to prometheus-cpp's structs.
#include <s3db/prometheus.h>

#include <prometheus/metric_family.h>

#include <functional>
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

std::vector<prometheus::MetricFamily> convert(const std::vector<pool::MetricFamily>& families) {
  std::vector<prometheus::MetricFamily> out;
  for (const pool::MetricFamily& f : families) {
    prometheus::MetricFamily family;
    family.name = std::string(f.name);
    family.help = std::string(f.help);
    family.type = type_of(f.kind);
    for (const pool::MetricSample& s : f.samples) family.metric.push_back(convert(s, f.kind));
    out.push_back(std::move(family));
  }
  return out;
}

class PoolCollectable final : public prometheus::Collectable {
 public:
  explicit PoolCollectable(const OperationPool& pool) : pool_(pool) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    return convert(pool::pool_families(pool_.stats(), pool_.metrics(), pool_.options().name));
  }

 private:
  const OperationPool& pool_;
};

// Families read from a snapshot function on every Collect() (the shared limit's, the hedges').
template <typename Snapshot, auto kFamilies>
class SnapshotCollectable final : public prometheus::Collectable {
 public:
  SnapshotCollectable(std::function<Snapshot()> read, std::string pool_name)
      : read_(std::move(read)), pool_name_(std::move(pool_name)) {}

  std::vector<prometheus::MetricFamily> Collect() const override { return convert(kFamilies(read_(), pool_name_)); }

 private:
  std::function<Snapshot()> read_;
  std::string pool_name_;
};

}  // namespace

std::shared_ptr<prometheus::Collectable> pool_collectable(const OperationPool& pool) {
  return std::make_shared<PoolCollectable>(pool);
}

std::shared_ptr<prometheus::Collectable> shared_limit_collectable(std::function<SharedLimitState()> read,
                                                                  std::string pool_name) {
  return std::make_shared<SnapshotCollectable<SharedLimitState, &pool::shared_families>>(std::move(read),
                                                                                       std::move(pool_name));
}

std::shared_ptr<prometheus::Collectable> hedge_collectable(std::function<HedgeStats()> read, std::string pool_name) {
  return std::make_shared<SnapshotCollectable<HedgeStats, &pool::hedge_families>>(std::move(read),
                                                                                 std::move(pool_name));
}

}  // namespace s3db
