// The send rate learnt from throttling (pool/send_rate.h): when a Throttled answer is a signal,
// what rate pacing starts at, the cubic growth and the end of pacing, the token bucket; a
// simulated store with haproxy's sliding rate limit (the proof's limiter) and one that throttles
// at random; and the pool pacing its queue (order kept, run() not skipping it).
#include "pool/noise_floor.h"
#include "pool/send_rate.h"

#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

using pool::SendRate;
using std::chrono::milliseconds;

constexpr Duration kWindow = std::chrono::seconds(1);

TimePoint at_ms(std::int64_t ms) { return TimePoint(milliseconds(ms)); }

// `n` answers with `code` spread evenly over [from_ms, to_ms), each sent `latency_ms` before.
void answers(SendRate& r, Code code, int n, std::int64_t from_ms, std::int64_t to_ms, std::int64_t latency_ms = 50) {
  for (int i = 0; i < n; ++i) {
    const TimePoint now = at_ms(from_ms + (to_ms - from_ms) * i / n);
    (void)r.feedback_locked(code, now - milliseconds(latency_ms), now);
  }
}

TEST(SendRate, OffUntilTheStoreThrottlesAndNeverHoldsAnAttemptThen) {
  SendRate r(kWindow, at_ms(0));
  answers(r, Code::kOk, 500, 0, 1000);
  answers(r, Code::kNotFound, 50, 1000, 1100);
  answers(r, Code::kUnavailable, 50, 1100, 1200);  // the store is down, not asking for less
  EXPECT_FALSE(r.pacing());
  TimePoint next{};
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(r.take_locked(at_ms(1200), next));
  EXPECT_EQ(r.rate_locked(at_ms(1200)), 0.0);
}

TEST(SendRate, ASignalPacesAtBackOffTimesWhatTheStoreAccepted) {
  SendRate r(kWindow, at_ms(0));
  answers(r, Code::kOk, 150, 0, 1000);  // the store accepted 150/s
  EXPECT_FALSE(r.feedback_locked(Code::kThrottled, at_ms(1000), at_ms(1010))) << "one throttle is no signal";
  EXPECT_TRUE(r.feedback_locked(Code::kThrottled, at_ms(1000), at_ms(1011)));
  EXPECT_TRUE(r.pacing());
  EXPECT_NEAR(r.rate_locked(at_ms(1011)), SendRate::kBackOff * 150, 3) << "the accepted rate, not what was sent";
  EXPECT_EQ(r.signals(), 1u);
}

TEST(SendRate, InThePoolsFirstWindowTheAcceptedRateIsALowerBound) {
  // 150 accepted in the first 0.56 s (a limiter counting over a second lets them through): the
  // store's rate is 150/s, not 268/s.
  SendRate r(kWindow, at_ms(0));
  answers(r, Code::kOk, 150, 0, 560);
  answers(r, Code::kThrottled, 2, 560, 561);
  ASSERT_TRUE(r.pacing());
  EXPECT_NEAR(r.rate_locked(at_ms(561)), SendRate::kBackOff * 150, 2);
}

TEST(NoiseFloor, TheMedianShareOfRecentWindowsAndWhatIsNewsAboveIt) {
  pool::NoiseFloor f(kWindow, at_ms(0));
  EXPECT_EQ(f.floor(), 0.0);
  f.count(true);
  EXPECT_FALSE(f.above(2)) << "one failure on a clean store, slack 2";
  f.count(true);
  EXPECT_TRUE(f.above(2));
  // Windows failing 10 %, 10 %, 50 % (a burst), 10 %: the floor is 10 %.
  std::int64_t ms = 0;
  for (int share : {10, 10, 50, 10}) {
    ms += 1000;
    EXPECT_EQ(f.roll(at_ms(ms)), 1);
    for (int i = 0; i < 100; ++i) f.count(i < share);
  }
  EXPECT_EQ(f.roll(at_ms(ms + 1000)), 1);
  EXPECT_NEAR(f.floor(), 0.10, 1e-9);
  for (int i = 0; i < 100; ++i) f.count(i < 12);
  EXPECT_FALSE(f.above(2)) << "12 % against a 10 % floor is noise";
  for (int i = 0; i < 100; ++i) f.count(i < 40);
  EXPECT_TRUE(f.above(2)) << "26 % is news";
  EXPECT_EQ(f.roll(at_ms(ms + 3500)), 2) << "a quiet window in between";
  // Windows under kVolume attempts say nothing.
  pool::NoiseFloor g(kWindow, at_ms(0));
  for (int i = 0; i < 10; ++i) g.count(true);
  (void)g.roll(at_ms(1000));
  EXPECT_EQ(g.floor(), 0.0);
}

TEST(SendRate, ABurstOfThrottlesIsOneSignal) {
  SendRate r(kWindow, at_ms(0));
  answers(r, Code::kOk, 200, 0, 1000);
  answers(r, Code::kThrottled, 40, 1000, 1100);  // one burst, same window
  EXPECT_EQ(r.signals(), 1u);
  const double paced = r.rate_locked(at_ms(1100));
  // The next window: answers to requests sent before the decrease say nothing new.
  answers(r, Code::kThrottled, 10, 2000, 2050, /*latency_ms=*/1500);
  EXPECT_EQ(r.signals(), 1u);
  // Requests sent after it, throttled again: a new signal, from the lower rate.
  answers(r, Code::kThrottled, 10, 2100, 2150, /*latency_ms=*/50);
  EXPECT_EQ(r.signals(), 2u);
  EXPECT_LT(r.rate_locked(at_ms(2150)), paced);
}

TEST(SendRate, GrowsBackFlatNearTheLastRateThenProbesAndStopsPacing) {
  SendRate r(kWindow, at_ms(0));
  answers(r, Code::kOk, 100, 0, 1000);
  answers(r, Code::kThrottled, 2, 1000, 1001);
  ASSERT_TRUE(r.pacing());
  const double w = r.rate_locked(at_ms(1001)) / SendRate::kBackOff;  // the rate it was throttled at
  const double k = std::cbrt(w * (1 - SendRate::kBackOff) / SendRate::kCubicScale);  // s to get back
  const auto at_s = [&](double s) { return at_ms(1001 + static_cast<std::int64_t>(s * 1000)); };
  EXPECT_LT(r.rate_locked(at_s(k / 2)), w);
  EXPECT_GT(r.rate_locked(at_s(k / 2)), SendRate::kBackOff * w);
  EXPECT_NEAR(r.rate_locked(at_s(k)), w, 0.5) << "back at the knee after K s";
  EXPECT_NEAR(r.rate_locked(at_s(k + 1)), w + SendRate::kCubicScale, 0.5) << "then probing slowly";
  TimePoint next{};
  EXPECT_TRUE(r.take_locked(at_s(k + 1), next));
  EXPECT_TRUE(r.pacing());
  const double off = k + std::cbrt((SendRate::kOffAt - 1) * w / SendRate::kCubicScale);
  EXPECT_TRUE(r.take_locked(at_s(off + 0.01), next));
  EXPECT_FALSE(r.pacing()) << "doubled without a throttle: the store stopped throttling";
}

TEST(SendRate, TheBucketHandsOutTheRateAndSaysWhenTheNextTokenIsDue) {
  SendRate r(kWindow, at_ms(0));
  answers(r, Code::kOk, 125, 0, 1000);
  answers(r, Code::kThrottled, 2, 1000, 1001);
  ASSERT_TRUE(r.pacing());
  const double rate = r.rate_locked(at_ms(1001));  // ~100/s: a token every ~10 ms
  TimePoint next{};
  EXPECT_FALSE(r.take_locked(at_ms(1001), next)) << "pacing starts with an empty bucket";
  EXPECT_GT(next, at_ms(1001));
  EXPECT_LE(next, at_ms(1001) + milliseconds(static_cast<int>(1000 / rate) + 1));
  // Over one simulated second, the tokens taken follow the rate (which grows a little).
  int taken = 0;
  for (int ms = 1001; ms < 2001; ++ms) {
    while (r.take_locked(at_ms(ms), next)) ++taken;
  }
  EXPECT_GE(taken, static_cast<int>(rate) - 2);
  EXPECT_LE(taken, static_cast<int>(r.rate_locked(at_ms(2001))) + 2);
}

// A simulated client against a store behind haproxy's limiter (the proof's: `sc0_gpc0_rate gt R`
// on a 1 s freq_ctr, counting accepted requests only, checked after the proxy's delay). The client
// always has work, keeps at most `in_flight` requests out, sends only with a token, and every
// request takes `latency_ms`.
struct SimResult {
  std::uint64_t accepted = 0, throttled = 0;
  double seconds = 0;
  double accepted_share_of_r() const { return static_cast<double>(accepted) / seconds; }
  double throttled_share() const { return static_cast<double>(throttled) / static_cast<double>(accepted + throttled); }
};

SimResult simulate(int limit_r, int in_flight, int latency_ms, int seconds, double random_throttle = 0) {
  SendRate rate(kWindow, at_ms(0));
  std::mt19937 rng(42);
  std::uniform_real_distribution<double> u(0, 1);
  struct Request {
    std::int64_t sent_ms, done_ms;
    bool throttled;
  };
  std::deque<Request> out;
  std::int64_t period = 0;
  std::uint64_t curr = 0, prev = 0;
  SimResult res;
  for (std::int64_t ms = 0; ms < seconds * 1000; ++ms) {
    while (!out.empty() && out.front().done_ms <= ms) {
      const Request q = out.front();
      out.pop_front();
      (void)rate.feedback_locked(q.throttled ? Code::kThrottled : Code::kOk, at_ms(q.sent_ms), at_ms(ms));
      (q.throttled ? res.throttled : res.accepted) += 1;
    }
    TimePoint next{};
    while (static_cast<int>(out.size()) < in_flight && rate.take_locked(at_ms(ms), next)) {
      // The proxy checks its rate when the request reaches it (after its delay): here, at send
      // time + latency, which only shifts the counter; same verdict.
      const std::int64_t p = (ms + latency_ms) / 1000;
      if (p != period) {
        prev = p == period + 1 ? curr : 0;
        curr = 0;
        period = p;
      }
      const double into = static_cast<double>((ms + latency_ms) % 1000) / 1000.0;
      const bool over = static_cast<double>(curr) + static_cast<double>(prev) * (1 - into) > limit_r;
      const bool throttled = over || u(rng) < random_throttle;
      if (!throttled) ++curr;
      out.push_back(Request{ms, ms + latency_ms, throttled});
    }
  }
  res.seconds = seconds;
  return res;
}

TEST(SendRateSimulated, BehindARateLimitItReachesEightyFivePercentWithTwoPercentThrottled) {
  // The proof's figures: R = 150/s, ~60 ms a request, 16 in flight after slow start (266/s on
  // offer: the limit binds). 30 s, start included.
  const SimResult s = simulate(150, 16, 60, 30);
  std::printf("R = 150: %.1f %% of R, %.2f %% throttled\n", 100 * s.accepted_share_of_r() / 150, 100 * s.throttled_share());
  EXPECT_GE(s.accepted_share_of_r(), 0.85 * 150) << s.accepted << " accepted, " << s.throttled << " throttled";
  EXPECT_LE(s.throttled_share(), 0.02) << s.accepted << " accepted, " << s.throttled << " throttled";
  // Scaled up: S3's 3,500 PUT/s a prefix, 30 ms, 256 in flight.
  const SimResult big = simulate(3500, 256, 30, 30);
  std::printf("R = 3500: %.1f %% of R, %.2f %% throttled\n", 100 * big.accepted_share_of_r() / 3500,
              100 * big.throttled_share());
  EXPECT_GE(big.accepted_share_of_r(), 0.85 * 3500) << big.accepted << " accepted, " << big.throttled << " throttled";
  EXPECT_LE(big.throttled_share(), 0.02) << big.accepted << " accepted, " << big.throttled << " throttled";
}

TEST(SendRateSimulated, AStoreThatThrottlesAtRandomDoesNotDriveTheRateDown) {
  // 10 % SlowDown whatever the rate, no limit: pacing cannot help; it must not cost throughput.
  const SimResult s = simulate(1 << 30, 16, 60, 30, 0.10);
  const double offered = 16 * 1000.0 / 60;  // 16 in flight, 60 ms each
  EXPECT_GE(static_cast<double>(s.accepted + s.throttled) / s.seconds, 0.8 * offered)
      << s.accepted << " accepted, " << s.throttled << " throttled in " << s.seconds << " s";
}

// ---- in the pool -----------------------------------------------------------------------------

PoolOptions paced_pool(std::shared_ptr<ManualClock> clock) {
  PoolOptions o = testing::pool_options(4, std::move(clock));
  o.adaptive.enabled = true;
  o.adaptive.min_concurrency = 4;
  o.adaptive.max_concurrency = 4;
  o.backoff.max_retries = 0;
  return o;
}

// Teaches `pool` that the store accepts ~`per_s` requests/s: a window of successes, then two
// throttles; the clock ends just after them.
void teach(OperationPool& pool, ManualClock& clock, int per_s) {
  for (int i = 0; i < per_s; ++i) {
    ASSERT_TRUE(pool.run([&](OpContext&) {
      clock.advance(milliseconds(1000 / per_s));
      return Status::OK();
    }).ok());
  }
  for (int i = 0; i < 2; ++i) (void)pool.run([](OpContext&) { return Status::Throttled("SlowDown", "test"); });
}

TEST(SendRateInThePool, PacedOpsWaitForTokensInQueueOrderAndRunSkipsNothing) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(paced_pool(clock));
  teach(pool, *clock, 50);
  const double rate = pool.stats().send_rate;
  ASSERT_GT(rate, 0) << "two throttles after a window of answers: pacing";
  EXPECT_NEAR(rate, SendRate::kBackOff * 50, 5);
  EXPECT_TRUE(pool.metrics().send_rate.pacing);

  std::mutex mu;
  std::vector<int> order;
  std::vector<Future<void>> fs;
  for (int i = 0; i < 6; ++i) {
    fs.push_back(pool.submit([&, i](OpContext&) {
      std::lock_guard<std::mutex> g(mu);
      order.push_back(i);
      return Status::OK();
    }));
  }
  // Nothing starts without a token, though 4 slots are free.
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(pool.stats().active, 0u);
  EXPECT_EQ(pool.stats().queue_size, 6u);
  // run() from another thread queues behind them rather than taking a free slot inline.
  std::atomic<bool> ran{false};
  std::thread runner([&] {
    (void)pool.run([&](OpContext&) {
      std::lock_guard<std::mutex> g(mu);
      order.push_back(100);
      ran = true;
      return Status::OK();
    });
  });
  ASSERT_TRUE(testing::eventually([&] { return pool.stats().queue_size == 7; }));
  EXPECT_FALSE(ran.load());
  // Each token's worth of time lets one more op start, in order.
  const auto token = milliseconds(static_cast<int>(1000 / rate) + 1);
  for (int step = 0; step < 40 && !ran.load(); ++step) {
    clock->advance(token);
    std::this_thread::sleep_for(milliseconds(2));
  }
  ASSERT_TRUE(testing::eventually([&] { return ran.load(); }));
  runner.join();
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  std::lock_guard<std::mutex> g(mu);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 100}));
}

TEST(SendRateInThePool, ThrottledIsTheRatesSignalNotTheLimits) {
  auto clock = std::make_shared<ManualClock>();
  PoolOptions o = paced_pool(clock);
  o.adaptive.max_concurrency = 10;
  o.concurrency = 10;
  OperationPool pool(o);
  teach(pool, *clock, 50);
  EXPECT_EQ(pool.stats().concurrency, 10) << "aimd left the limit alone";
  EXPECT_GT(pool.stats().send_rate, 0);

  o.adaptive.send_rate = false;  // without it, aimd lowers the limit on Throttled
  OperationPool plain(o);
  teach(plain, *clock, 50);
  EXPECT_LT(plain.stats().concurrency, 10);
  EXPECT_EQ(plain.stats().send_rate, 0);
  EXPECT_FALSE(plain.metrics().send_rate.enabled);
}

TEST(SendRateInThePool, AMemoryBasedStartSlowStartsAndDoublesWhileSaturated) {
  auto clock = std::make_shared<ManualClock>();
  PoolOptions o;
  o.clock = clock;
  o.concurrency = 0;  // the memory-based suggestion: 40 here
  o.adaptive.enabled = true;
  o.adaptive.max_concurrency = 40;
  o.adaptive.memory_limit = std::uint64_t{1} << 40;
  o.adaptive.memory_usage = [] { return std::uint64_t{0}; };
  OperationPool pool(o);
  EXPECT_EQ(pool.options().concurrency, 40);
  EXPECT_EQ(pool.stats().concurrency, 8) << "slow start from AdaptiveOptions::slow_start_from";
  std::vector<std::string> reasons;
  std::mutex mu;
  auto sub = pool.on(PoolEvent::kConcurrencyChanged, [&](const EventInfo& e) {
    std::lock_guard<std::mutex> g(mu);
    reasons.emplace_back(e.reason);
  });
  // Saturated windows: 16, 32, then 40 (the suggestion), then additive.
  for (int expected : {16, 32, 40, 41}) {
    std::vector<Future<void>> fs;
    std::atomic<bool> open{false};
    for (int i = 0; i < 60; ++i) {
      fs.push_back(pool.submit([&](OpContext&) {
        while (!open.load()) std::this_thread::sleep_for(milliseconds(1));
        return Status::OK();
      }));
    }
    ASSERT_TRUE(testing::eventually([&] { return static_cast<int>(pool.stats().active) == pool.stats().concurrency; }));
    clock->advance(milliseconds(1000));
    open = true;
    for (auto& f : fs) EXPECT_TRUE(f.get().ok());
    if (expected == 41) break;  // max is 40: no additive step past it
    EXPECT_EQ(pool.stats().concurrency, expected);
  }
  EXPECT_EQ(pool.stats().concurrency, 40);
  std::lock_guard<std::mutex> g(mu);
  EXPECT_EQ(std::count(reasons.begin(), reasons.end(), "slow_start"), 3);

  o.concurrency = 12;  // a start the caller chose: no slow start
  OperationPool chosen(o);
  EXPECT_EQ(chosen.stats().concurrency, 12);
  o.concurrency = 0;
  o.adaptive.slow_start_from = 0;
  OperationPool off(o);
  EXPECT_EQ(off.stats().concurrency, 40);
}

}  // namespace
}  // namespace s3db
