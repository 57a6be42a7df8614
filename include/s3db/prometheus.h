// s3db/prometheus.h — a pool's metrics in an application's prometheus-cpp exposition
// (optional component: CMake `find_package(s3db COMPONENTS prometheus)`, target s3db::prometheus;
// built when Debian's prometheus-cpp-dev is installed; the core library never depends on it).
//
// Contract
// - pool_collectable(pool) returns a prometheus::Collectable that reads `pool` on every Collect()
//   — that is, on every scrape: the figures are live, nothing is copied or updated in between,
//   and the pool's hot path does no extra work for it.
// - Register it where prometheus-cpp takes collectables:
//       auto pool_metrics = s3db::pool_collectable(client.pool());
//       exposer.RegisterCollectable(pool_metrics);   // beside exposer.RegisterCollectable(registry)
//   (prometheus::Registry itself only holds the families it builds, so a collector that reads
//   another object's figures is registered with the Exposer, or collected beside the Registry:
//   `auto families = registry->Collect(); append(families, pool_metrics->Collect());`.)
// - The families are exactly those of OperationPool::prometheus() (docs/operation-pool.md,
//   "Metrics"), same names, help, types, labels (pool="<PoolOptions::name>") and values.
// - Ownership and lifetime: the collectable holds a reference to the pool, which must outlive
//   every Collect() call on it. prometheus-cpp's Exposer keeps only a weak_ptr: keep the returned
//   shared_ptr while the pool lives, and release it (or RemoveCollectable) before the pool goes.
// - Thread safety: Collect() may run on any thread, concurrently with the pool's work (it takes
//   the same snapshots as stats()/metrics()). Errors: none; it allocates only per scrape.
// - Secrets: the only label values are the pool's name and fixed names (codes, states, reasons);
//   the pool's name is whatever the application set (the CLI and Client never put credentials in it).
#pragma once

#include <s3db/operation_pool.h>
#include <s3db/shared_limit.h>
#include <s3db/storage_client.h>

#include <prometheus/collectable.h>

#include <functional>
#include <memory>
#include <string>

namespace s3db {

std::shared_ptr<prometheus::Collectable> pool_collectable(const OperationPool& pool);

// A Client's shared limit and rate caps (s3db/shared_limit.h), the families Client::prometheus()
// adds (s3db_shared_*, s3db_rate_cap_*; none until a limit is joined), read on every Collect():
//     auto shared = s3db::shared_limit_collectable([&client] { return client.shared_limit(); },
//                                                  client.pool().options().name);
// `read` must stay callable while the collectable is registered; the rest as above.
std::shared_ptr<prometheus::Collectable> shared_limit_collectable(std::function<SharedLimitState()> read,
                                                                  std::string pool_name);

// A Client's hedged reads (s3db/storage_client.h), the families Client::prometheus() adds
// (s3db_hedge*; none while the store does not hedge), read on every Collect():
//     auto hedging = s3db::hedge_collectable([&client] { return client.hedging(); },
//                                            client.pool().options().name);
std::shared_ptr<prometheus::Collectable> hedge_collectable(std::function<HedgeStats()> read, std::string pool_name);

}  // namespace s3db
