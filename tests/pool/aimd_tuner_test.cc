// The aimd tuner (pool/aimd_tuner.h): decrease on overload signals, increase only while
// saturated, latency guard fed by successful attempts only; settling under a store that throttles
// above K in flight, and climbing back when it stops.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;

PoolOptions adaptive(int start, std::shared_ptr<ManualClock> clock) {
  PoolOptions o = testing::pool_options(start, std::move(clock));
  o.adaptive.enabled = true;
  o.adaptive.min_concurrency = 2;
  o.adaptive.max_concurrency = 20;
  o.adaptive.window = milliseconds(1000);
  // These tests are aimd's own: Throttled lowers the limit, as it does without a send rate (the
  // send rate's tests are send_rate_test.cc).
  o.adaptive.send_rate = false;
  return o;
}

OpOptions no_retry() {
  OpOptions o;
  o.retries = 0;
  return o;
}

struct Changes {
  std::mutex mu;
  std::vector<std::pair<int, int>> values;
  std::vector<std::string> reasons;
  EventListener listener() {
    return [this](const EventInfo& e) {
      std::lock_guard<std::mutex> g(mu);
      values.emplace_back(e.old_concurrency, e.new_concurrency);
      reasons.emplace_back(e.reason);
    };
  }
};

TEST(PoolAdaptive, MultiplicativeDecreaseAtMostOncePerWindow) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(adaptive(10, clock));
  Changes ch;
  auto sub = pool.on(PoolEvent::kConcurrencyChanged, ch.listener());
  auto throttled = [](OpContext&) { return Status::Throttled("SlowDown"); };
  EXPECT_EQ(pool.run(throttled, no_retry()).code(), Code::kThrottled);
  EXPECT_EQ(pool.stats().concurrency, 7);  // floor(10 * 0.7)
  for (int i = 0; i < 5; ++i) (void)pool.run(throttled, no_retry());
  EXPECT_EQ(pool.stats().concurrency, 7);  // same window: one signal
  clock->advance(milliseconds(1000));
  (void)pool.run([](OpContext&) { return Status::Unavailable("503"); }, no_retry());
  EXPECT_EQ(pool.stats().concurrency, 4);
  clock->advance(milliseconds(1000));
  (void)pool.run([](OpContext&) { return Status::Timeout("t"); }, no_retry());
  EXPECT_EQ(pool.stats().concurrency, 2);
  clock->advance(milliseconds(1000));
  (void)pool.run(throttled, no_retry());
  EXPECT_EQ(pool.stats().concurrency, 2);  // floor at min_concurrency
  // Non-overload errors never decrease.
  clock->advance(milliseconds(1000));
  (void)pool.run([](OpContext&) { return Status::NotFound("x"); }, no_retry());
  EXPECT_EQ(pool.stats().concurrency, 2);
  std::lock_guard<std::mutex> g(ch.mu);
  EXPECT_EQ(ch.values, (std::vector<std::pair<int, int>>{{10, 7}, {7, 4}, {4, 2}}));
  EXPECT_EQ(ch.reasons, (std::vector<std::string>{"throttled", "unavailable", "timeout"}));
}

TEST(PoolAdaptive, AdditiveIncreaseOnlyWhileSaturated) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(adaptive(2, clock));
  Changes ch;
  auto sub = pool.on(PoolEvent::kConcurrencyChanged, ch.listener());
  // Not saturated: sequential ops, windows pass, the limit stays.
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
    clock->advance(milliseconds(1000));
  }
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(pool.stats().concurrency, 2);

  // Saturated: both slots busy and work queued behind them.
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  int started = 0;
  auto blocker = [&](OpContext&) {
    std::unique_lock<std::mutex> lk(mu);
    ++started;
    cv.notify_all();
    cv.wait_for(lk, std::chrono::seconds(10), [&] { return open; });
    return Status::OK();
  };
  std::vector<Future<void>> fs;
  for (int i = 0; i < 4; ++i) fs.push_back(pool.submit(blocker));
  {
    std::unique_lock<std::mutex> lk(mu);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(10), [&] { return started == 2; }));
  }
  EXPECT_EQ(pool.stats().queue_size, 2u);
  clock->advance(milliseconds(1000));  // the window ends while saturated
  {
    std::lock_guard<std::mutex> lk(mu);
    open = true;
    cv.notify_all();
  }
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(pool.stats().concurrency, 3);  // +1 once for the saturated window
  std::lock_guard<std::mutex> g(ch.mu);
  ASSERT_EQ(ch.values.size(), 1u);
  EXPECT_EQ(ch.values[0], (std::pair<int, int>{2, 3}));
  EXPECT_EQ(ch.reasons[0], "saturated");
}

// Asynchronous submissions that find a free slot are not saturation either: the limit must not
// grow under a load that never used it (a submit once marked the pool saturated unconditionally).
TEST(PoolAdaptive, SubmitsThatFindAFreeSlotAreNotSaturation) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(adaptive(2, clock));
  Changes ch;
  auto sub = pool.on(PoolEvent::kConcurrencyChanged, ch.listener());
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(pool.submit([](OpContext&) { return Status::OK(); }).get().ok());
    clock->advance(milliseconds(1000));
  }
  EXPECT_TRUE(pool.submit([](OpContext&) { return Status::OK(); }).get().ok());
  EXPECT_EQ(pool.stats().concurrency, 2);
  std::lock_guard<std::mutex> g(ch.mu);
  EXPECT_TRUE(ch.values.empty());
}

TEST(PoolAdaptive, LatencyGuardUsesSuccessfulAttemptsOnly) {
  auto clock = std::make_shared<ManualClock>();
  PoolOptions o = adaptive(10, clock);
  o.adaptive.target_latency = milliseconds(50);
  OperationPool pool(o);
  // Slow failures (non-overload codes) and fast successes: the guard stays quiet.
  (void)pool.run([&](OpContext&) {
    clock->advance(milliseconds(400));
    return Status::NotFound("slow 404");
  }, no_retry());
  EXPECT_TRUE(pool.run([&](OpContext&) {
    clock->advance(milliseconds(10));
    return Status::OK();
  }).ok());
  clock->advance(milliseconds(1000));
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(pool.stats().concurrency, 10);
  // Slow successes over a window: multiplicative decrease with reason "latency".
  Changes ch;
  auto sub = pool.on(PoolEvent::kConcurrencyChanged, ch.listener());
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(pool.run([&](OpContext&) {
      clock->advance(milliseconds(200));
      return Status::OK();
    }).ok());
  }
  clock->advance(milliseconds(1000));
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(pool.stats().concurrency, 7);
  std::lock_guard<std::mutex> g(ch.mu);
  ASSERT_EQ(ch.reasons.size(), 1u);
  EXPECT_EQ(ch.reasons[0], "latency");
}

// A scripted store: an op answers Throttled at once when more than `k` ops (itself included) are
// in flight; otherwise it holds its slot until the gate opens. One round = one AIMD window:
// `batch` ops are submitted (more than the limit: saturation), the test waits until every op has
// either entered and blocked, been throttled, or is still queued behind full slots, reads the
// limit (the limit "under load"), then moves the clock one window and opens the gate.
class ThrottlingStore {
 public:
  explicit ThrottlingStore(int k) : k_(k) {}
  void set_k(int k) { k_.store(k); }

  Status op() {
    const int n = in_flight_.fetch_add(1) + 1;
    if (n > k_.load()) {
      in_flight_.fetch_sub(1);
      throttled_.fetch_add(1);
      return Status::Throttled("SlowDown", "above K in flight");
    }
    std::unique_lock<std::mutex> lk(mu_);
    ++blocked_;
    cv_.wait_for(lk, std::chrono::seconds(10), [&] { return open_; });
    --blocked_;
    in_flight_.fetch_sub(1);
    return Status::OK();
  }

  // One round on `pool`; returns the limit seen while the load was on.
  int round(OperationPool& pool, ManualClock& clock, int batch) {
    {
      std::lock_guard<std::mutex> g(mu_);
      open_ = false;
    }
    std::vector<Future<void>> fs;
    for (int i = 0; i < batch; ++i) fs.push_back(pool.submit([this](OpContext&) { return op(); }, no_retry()));
    // Settled: every running op is blocked in the store and no free slot is left for the queue.
    EXPECT_TRUE(testing::eventually([&] {
      const PoolStats s = pool.stats();
      std::lock_guard<std::mutex> g(mu_);
      return static_cast<int>(s.active) == blocked_ &&
             (s.queue_size == 0 || static_cast<int>(s.active) >= s.concurrency);
    }));
    const int loaded = pool.stats().concurrency;
    clock.advance(milliseconds(1000));
    {
      std::lock_guard<std::mutex> g(mu_);
      open_ = true;
    }
    cv_.notify_all();
    for (auto& f : fs) (void)f.get();
    return loaded;
  }

  int throttled() const { return throttled_.load(); }

 private:
  std::atomic<int> k_;
  std::atomic<int> in_flight_{0};
  std::atomic<int> throttled_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  int blocked_ = 0;
  bool open_ = false;
};

PoolOptions throttled_store_pool(std::shared_ptr<ManualClock> clock) {
  PoolOptions o = adaptive(50, std::move(clock));
  o.adaptive.max_concurrency = 40;
  // 0.8: one decrease from just above K = 20 (21) lands at 16 = 0.8 K, inside the band.
  o.adaptive.decrease_factor = 0.8;
  return o;
}

TEST(PoolAimdTuner, SettlesWithinEightyPercentOfKAndKUnderAThrottlingStore) {
  constexpr int kK = 20, kBatch = 60, kSettle = 15, kRun = 40;
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(throttled_store_pool(clock));
  Changes ch;
  auto sub = pool.on(PoolEvent::kConcurrencyChanged, ch.listener());
  ThrottlingStore store(kK);
  for (int r = 0; r < kSettle; ++r) (void)store.round(pool, *clock, kBatch);
  const int throttled_before = store.throttled();
  std::vector<int> limits;
  for (int r = 0; r < kRun; ++r) limits.push_back(store.round(pool, *clock, kBatch));
  for (int r = 0; r < kRun; ++r) {
    EXPECT_GE(limits[r], 16) << "round " << kSettle + r;
    EXPECT_LE(limits[r], kK) << "round " << kSettle + r;
  }
  // Settled means at the knee and quiet: the limit holds at K under the ceiling the store showed
  // and probes past it once every kProbeAfterWindows windows, not at every sawtooth (a plain
  // AIMD here: K for 1 round in 6, a throttled answer every 6 rounds).
  EXPECT_GE(std::count(limits.begin(), limits.end(), kK), kRun / 3);
  EXPECT_LE(store.throttled() - throttled_before, kRun / 8);
  // It got there by decreasing (reason "throttled"), and climbed while saturated.
  std::lock_guard<std::mutex> g(ch.mu);
  EXPECT_NE(std::find(ch.reasons.begin(), ch.reasons.end(), "throttled"), ch.reasons.end());
  EXPECT_NE(std::find(ch.reasons.begin(), ch.reasons.end(), "saturated"), ch.reasons.end());
}

TEST(PoolAimdTuner, ClimbsBackTowardsMaxWhenThrottlingStops) {
  constexpr int kBatch = 60;
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(throttled_store_pool(clock));
  ThrottlingStore store(20);
  for (int r = 0; r < 15; ++r) (void)store.round(pool, *clock, kBatch);
  ASSERT_LE(pool.stats().concurrency, 21);
  store.set_k(1000);  // the store recovers
  int rounds = 0;
  while (pool.stats().concurrency < 40 && rounds < 60) {
    (void)store.round(pool, *clock, kBatch);
    ++rounds;
  }
  EXPECT_EQ(pool.stats().concurrency, 40) << "after " << rounds << " windows";
}

}  // namespace
}  // namespace s3db
