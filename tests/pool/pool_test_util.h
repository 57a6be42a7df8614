// Helpers shared by the pool tests.
#pragma once

#include <s3db/operation_pool.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

namespace s3db::testing {

inline PoolOptions pool_options(int concurrency, std::shared_ptr<Clock> clock = nullptr) {
  PoolOptions o;
  o.concurrency = concurrency;
  o.clock = std::move(clock);
  return o;
}

// Polls `cond` (bounded: ~10 s of real time) — used only to wait for another thread to reach a
// state, never to measure time.
inline bool eventually(const std::function<bool()>& cond) {
  for (int i = 0; i < 10000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return cond();
}

}  // namespace s3db::testing
