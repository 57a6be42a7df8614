// Retries: which failures retry, backoff bounds, Retry-After, slot release during backoff.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

// A deterministic policy: fixed delay, records the calls.
class FixedDelay final : public RetryPolicy {
 public:
  explicit FixedDelay(std::chrono::milliseconds d, int max = 3) : d_(d), max_(max) {}
  int max_retries() const noexcept override { return max_; }
  std::chrono::milliseconds delay(const Status& s, int, std::uint64_t) const noexcept override {
    if (auto ra = s.retry_after()) return *ra;
    return d_;
  }

 private:
  std::chrono::milliseconds d_;
  int max_;
};

PoolOptions manual(int concurrency, std::shared_ptr<ManualClock> clock, std::chrono::milliseconds delay) {
  PoolOptions o = testing::pool_options(concurrency, clock);
  o.retry_policy = std::make_shared<FixedDelay>(delay);
  return o;
}

TEST(PoolRetry, RetryableFailureRetriesAfterBackoff) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(manual(1, clock, std::chrono::milliseconds(100)));
  std::atomic<int> calls{0};
  auto f = pool.submit([&](OpContext& ctx) -> Result<int> {
    const int n = calls.fetch_add(1) + 1;
    EXPECT_EQ(ctx.attempt(), n);
    if (n < 3) return Status::Unavailable("503");
    return n;
  });
  ASSERT_TRUE(testing::eventually([&] { return calls.load() == 1; }));
  ASSERT_TRUE(testing::eventually([&] { return pool.stats().retries == 1; }));
  clock->advance(std::chrono::milliseconds(99));
  EXPECT_FALSE(f.wait_for(std::chrono::milliseconds(20)));
  EXPECT_EQ(calls.load(), 1);  // still backing off
  clock->advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(testing::eventually([&] { return calls.load() == 2; }));
  ASSERT_TRUE(testing::eventually([&] { return pool.stats().retries == 2; }));
  clock->advance(std::chrono::milliseconds(100));
  auto r = f.get();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, 3);
  EXPECT_EQ(pool.stats().retries, 2u);
  EXPECT_EQ(pool.stats().errors, 0u);
}

TEST(PoolRetry, NonRetryableCodesNeverRetry) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(manual(2, clock, std::chrono::milliseconds(1)));
  for (Status s : {Status::NotFound("x"), Status::PreconditionFailed("x"), Status::InvalidArgument("x"),
                   Status::Unauthorized("x"), Status::AlreadyExists("x"), Status::Internal("x")}) {
    std::atomic<int> calls{0};
    auto f = pool.submit([&, s](OpContext&) {
      calls.fetch_add(1);
      return s;
    });
    EXPECT_EQ(f.get().code(), s.code());
    EXPECT_EQ(calls.load(), 1);
  }
  EXPECT_EQ(pool.stats().retries, 0u);
}

TEST(PoolRetry, RetriesAreBoundedAndLastErrorReported) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(manual(1, clock, std::chrono::milliseconds(0)));
  std::atomic<int> calls{0};
  OpOptions o;
  o.retries = 2;
  auto f = pool.submit(
      [&](OpContext&) {
        calls.fetch_add(1);
        return Status::Throttled("slow down");
      },
      o);
  EXPECT_EQ(f.get().code(), Code::kThrottled);
  EXPECT_EQ(calls.load(), 3);  // 1 + 2 retries
}

TEST(PoolRetry, RetryableOverrideInBothDirections) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(manual(1, clock, std::chrono::milliseconds(0)));
  std::atomic<int> calls{0};
  OpOptions retry_not_found;
  retry_not_found.retryable = [](const Status& s) { return s.is_not_found(); };
  auto f = pool.submit(
      [&](OpContext&) -> Result<int> {
        if (calls.fetch_add(1) == 0) return Status::NotFound("eventually consistent");
        return 1;
      },
      retry_not_found);
  EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(calls.load(), 2);

  std::atomic<int> calls2{0};
  OpOptions never;
  never.retryable = [](const Status&) { return false; };
  auto g = pool.submit(
      [&](OpContext&) {
        calls2.fetch_add(1);
        return Status::Unavailable("503");
      },
      never);
  EXPECT_EQ(g.get().code(), Code::kUnavailable);
  EXPECT_EQ(calls2.load(), 1);
}

TEST(PoolRetry, ExponentialBackoffBoundsWithFullJitter) {
  auto policy = exponential_backoff();  // 100 ms base, 1 s throttled, 20 s cap
  EXPECT_EQ(policy->max_retries(), 3);
  const Status unavailable = Status::Unavailable("x");
  const Status throttled = Status::Throttled("x");
  for (int attempt = 1; attempt <= 12; ++attempt) {
    const std::int64_t ceil_u = std::min<std::int64_t>(20000, 100LL << (attempt - 1));
    const std::int64_t ceil_t = std::min<std::int64_t>(20000, 1000LL << (attempt - 1));
    std::int64_t max_seen_u = 0, min_seen_u = 1 << 30;
    for (std::uint64_t r = 0; r < 2000; ++r) {
      const std::uint64_t random = r * 0x9E3779B97F4A7C15ull;
      const auto du = policy->delay(unavailable, attempt, random).count();
      const auto dt = policy->delay(throttled, attempt, random).count();
      ASSERT_GE(du, 0);
      ASSERT_LE(du, ceil_u);
      ASSERT_GE(dt, 0);
      ASSERT_LE(dt, ceil_t);
      max_seen_u = std::max<std::int64_t>(max_seen_u, du);
      min_seen_u = std::min<std::int64_t>(min_seen_u, du);
    }
    // Full jitter: the delays spread over the whole [0, ceiling] range.
    EXPECT_GT(max_seen_u, ceil_u * 9 / 10) << attempt;
    EXPECT_LT(min_seen_u, ceil_u / 10 + 1) << attempt;
  }
  // Exact values for a given random number: random % (ceiling + 1).
  EXPECT_EQ(policy->delay(unavailable, 1, 250).count(), 250 % 101);
  EXPECT_EQ(policy->delay(unavailable, 3, 1000).count(), 1000 % 401);
  EXPECT_EQ(policy->delay(throttled, 40, 123456789).count(), 123456789 % 20001);  // capped, no overflow
  BackoffOptions custom;
  custom.base = std::chrono::milliseconds(10);
  custom.cap = std::chrono::milliseconds(50);
  auto p2 = exponential_backoff(custom);
  for (std::uint64_t r = 0; r < 1000; ++r) EXPECT_LE(p2->delay(unavailable, 10, r * 7919).count(), 50);
}

TEST(PoolRetry, RetryAfterIsHonouredCappedAndJittered) {
  auto policy = exponential_backoff();  // Retry-After capped at 30 s, jittered up to +20 %
  Status s = Status::Throttled("slow down");
  s.set_retry_after(std::chrono::milliseconds(7000));
  std::int64_t lo = 1 << 30, hi = 0;
  for (std::uint64_t r = 0; r < 2000; ++r) {
    const auto d = policy->delay(s, 1, r * 0x9E3779B97F4A7C15ull).count();
    ASSERT_GE(d, 7000) << "never earlier than the server asked";
    ASSERT_LE(d, 8400);
    lo = std::min<std::int64_t>(lo, d);
    hi = std::max<std::int64_t>(hi, d);
  }
  EXPECT_LT(lo, 7100);  // spread over the whole range: clients told the same instant disperse
  EXPECT_GT(hi, 8300);
  // "Retry in a day" waits the cap (plus its jitter), not a day.
  s.set_retry_after(std::chrono::hours(24));
  for (std::uint64_t r = 0; r < 200; ++r) {
    const auto d = policy->delay(s, 1, r * 7919).count();
    ASSERT_GE(d, 30000);
    ASSERT_LE(d, 36000);
  }
  BackoffOptions exact;
  exact.retry_after_jitter = 0;
  exact.retry_after_cap = std::chrono::milliseconds(5000);
  auto p2 = exponential_backoff(exact);
  s.set_retry_after(std::chrono::milliseconds(1234));
  EXPECT_EQ(p2->delay(s, 1, 987654321).count(), 1234);
  s.set_retry_after(std::chrono::milliseconds(9000));
  EXPECT_EQ(p2->delay(s, 1, 987654321).count(), 5000);

  // In the pool: the retry does not start before Retry-After has elapsed, and has by +20 %.
  auto clock = std::make_shared<ManualClock>();
  PoolOptions o = testing::pool_options(1, clock);  // default exponential policy
  OperationPool pool(o);
  std::atomic<int> calls{0};
  auto f = pool.submit([&](OpContext&) -> Status {
    if (calls.fetch_add(1) == 0) {
      Status st = Status::Unavailable("503");
      st.set_retry_after(std::chrono::milliseconds(2500));
      return st;
    }
    return Status::OK();
  });
  ASSERT_TRUE(testing::eventually([&] { return pool.stats().retries == 1; }));
  clock->advance(std::chrono::milliseconds(2499));
  EXPECT_FALSE(f.wait_for(std::chrono::milliseconds(20)));
  EXPECT_EQ(calls.load(), 1);
  clock->advance(std::chrono::milliseconds(501));
  EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(calls.load(), 2);
}

TEST(PoolRetry, ThrottledFailuresArePatient) {
  auto policy = exponential_backoff();
  EXPECT_EQ(policy->max_retries_after(Status::Throttled("x")), 8);
  EXPECT_EQ(policy->max_retries_after(Status::Unavailable("x")), 3);
  EXPECT_EQ(policy->max_retries_after(Status::Timeout("x")), 3);
  BackoffOptions none;
  none.max_retries = 0;  // no retries means none, throttled or not
  EXPECT_EQ(exponential_backoff(none)->max_retries_after(Status::Throttled("x")), 0);
  BackoffOptions many;
  many.max_retries = 12;  // patience never lowers the general limit
  EXPECT_EQ(exponential_backoff(many)->max_retries_after(Status::Throttled("x")), 12);

  // In the pool, with zero delays so that only the counts matter.
  PoolOptions o = testing::pool_options(1, std::make_shared<ManualClock>());
  o.backoff.base = std::chrono::milliseconds(0);
  o.backoff.throttled_base = std::chrono::milliseconds(0);
  OperationPool pool(o);
  auto attempts_until_final = [&](Status answer, OpOptions options = {}) {
    std::atomic<int> calls{0};
    const Status s = pool.submit(
                             [&](OpContext&) {
                               calls.fetch_add(1);
                               return answer;
                             },
                             options)
                         .get();
    EXPECT_EQ(s.code(), answer.code());
    return calls.load();
  };
  EXPECT_EQ(attempts_until_final(Status::Throttled("SlowDown")), 9);
  EXPECT_EQ(attempts_until_final(Status::Unavailable("503")), 4);
  OpOptions two;
  two.retries = 2;  // the caller's own limit wins
  EXPECT_EQ(attempts_until_final(Status::Throttled("SlowDown"), two), 3);
}

TEST(PoolRetry, SlotIsReleasedDuringBackoff) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(manual(1, clock, std::chrono::milliseconds(1000)));
  auto failing = pool.submit([](OpContext& ctx) -> Status {
    return ctx.attempt() == 1 ? Status::Unavailable("503") : Status::OK();
  });
  ASSERT_TRUE(testing::eventually([&] { return pool.stats().retries == 1; }));
  EXPECT_EQ(pool.stats().active, 0u);
  // With concurrency 1, another op runs while the first one waits out its backoff.
  auto other = pool.submit([](OpContext&) -> Result<int> { return 5; });
  auto r = other.get();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(failing.ready());
  clock->advance(std::chrono::milliseconds(1000));
  EXPECT_TRUE(failing.get().ok());
}

TEST(PoolRetry, RunInlineRetriesThroughTheQueue) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(manual(1, clock, std::chrono::milliseconds(10)));
  std::atomic<int> calls{0};
  std::thread advancer([&] {
    ASSERT_TRUE(testing::eventually([&] { return pool.stats().retries == 1; }));
    clock->advance(std::chrono::milliseconds(10));
  });
  auto r = pool.run([&](OpContext&) -> Result<int> {
    if (calls.fetch_add(1) == 0) return Status::Timeout("slow");
    return 11;
  });
  advancer.join();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 11);
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace s3db
