// The retry budget wired into the pool (PoolOptions::retry_budget): every retry pays, an empty
// bucket makes failures final at once, successes refill it — a store in trouble sees no retry
// storm. ManualClock with zero backoff: nothing depends on time.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

PoolOptions budget_pool(int concurrency, int capacity, int cost) {
  PoolOptions o = testing::pool_options(concurrency, std::make_shared<ManualClock>());
  o.backoff.base = std::chrono::milliseconds(0);  // retries start at once: only counts matter
  o.backoff.throttled_base = std::chrono::milliseconds(0);
  o.retry_budget.enabled = true;
  o.retry_budget.capacity = capacity;
  o.retry_budget.retry_cost = cost;
  o.retry_budget.timeout_cost = 2 * cost;
  o.retry_budget.success_refund = 1;
  return o;
}

bool says_spent(const Status& s) { return s.message().find("retry budget spent") != std::string::npos; }

TEST(PoolRetryBudget, NoRetryStormWhenEverythingFails) {
  // 100 ops against a store that answers 503 to everything: without a budget each would be sent
  // 1 + 3 times (400 requests); capacity 50 at 5 a retry pays for 10 retries in all.
  OperationPool pool(budget_pool(8, 50, 5));
  std::array<std::atomic<int>, 100> attempts{};
  std::vector<Future<void>> fs;
  for (int i = 0; i < 100; ++i) {
    fs.push_back(pool.submit([&, i](OpContext&) {
      attempts[i].fetch_add(1);
      return Status::Unavailable("503 Service Unavailable");
    }));
  }
  int requests = 0;
  std::uint64_t spent = 0;
  for (int i = 0; i < 100; ++i) {
    const Status s = fs[i].get();
    requests += attempts[i].load();
    EXPECT_EQ(s.code(), Code::kUnavailable);  // the store's own answer...
    EXPECT_NE(s.message().find("503 Service Unavailable"), std::string::npos) << s.message();
    // ... and the budget's word, unless the op used up its own 3 retries first (which op gets the
    // tokens depends on timing; how many there are does not).
    if (says_spent(s)) ++spent;
    else EXPECT_EQ(attempts[i].load(), 4) << s.message();
  }
  EXPECT_EQ(requests, 110);
  const PoolStats st = pool.stats();
  EXPECT_TRUE(st.retry_budget_enabled);
  EXPECT_EQ(st.retries, 10u);
  EXPECT_EQ(st.retry_budget_tokens, 0);
  EXPECT_EQ(st.retry_budget_refused, spent);
  EXPECT_GE(spent, 97u);  // at most 3 ops can take 3 of the 10 retries each
  const PoolMetrics m = pool.metrics();
  EXPECT_TRUE(m.retry_budget.enabled);
  EXPECT_EQ(m.retry_budget.tokens, 0);
  EXPECT_EQ(m.retry_budget.refused, spent);
  const std::string text = pool.prometheus();
  EXPECT_NE(text.find("s3db_pool_retry_budget_tokens{pool=\"s3db\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("s3db_pool_retry_budget_refused_total{pool=\"s3db\"} " + std::to_string(spent)),
            std::string::npos);
}

TEST(PoolRetryBudget, SpentThenRefilledBySuccesses) {
  OperationPool pool(budget_pool(1, 10, 5));
  std::atomic<int> requests{0};
  auto always_503 = [&](OpContext&) {
    requests.fetch_add(1);
    return Status::Unavailable("503");
  };
  // Two retries empty the bucket; the third failure is final at once.
  Status s = pool.run(always_503);
  EXPECT_TRUE(says_spent(s)) << s.message();
  EXPECT_EQ(requests.load(), 3);
  // Spent: the next failure is not retried at all.
  s = pool.submit(always_503).get();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(says_spent(s));
  EXPECT_EQ(requests.load(), 4);
  EXPECT_EQ(pool.stats().retry_budget_tokens, 0);
  // Five successes refund 1 each: one retry's worth.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(pool.stats().retry_budget_tokens, 5);
  // A success after a retry gives back what the retry cost.
  s = pool.run([&](OpContext& ctx) {
    requests.fetch_add(1);
    return ctx.attempt() == 1 ? Status::Unavailable("503") : Status::OK();
  });
  EXPECT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(requests.load(), 6);
  EXPECT_EQ(pool.stats().retry_budget_tokens, 5);
  // A Timeout costs more (10): 5 tokens do not pay for it.
  s = pool.run([](OpContext&) { return Status::Timeout("attempt timed out"); });
  EXPECT_EQ(s.code(), Code::kTimeout);
  EXPECT_TRUE(says_spent(s));
  EXPECT_EQ(pool.stats().retries, 3u);
}

TEST(PoolRetryBudget, ThrottledPatienceStopsWhereTheBudgetEnds) {
  // Throttled may retry 8 times by default; a 20-token budget at 5 a retry allows 4.
  OperationPool pool(budget_pool(1, 20, 5));
  std::atomic<int> requests{0};
  const Status s = pool.run([&](OpContext&) {
    requests.fetch_add(1);
    return Status::Throttled("SlowDown");
  });
  EXPECT_EQ(s.code(), Code::kThrottled);
  EXPECT_TRUE(says_spent(s)) << s.message();
  EXPECT_EQ(requests.load(), 5);
}

}  // namespace
}  // namespace s3db
