// The pool's protective units on their own (s3db/pool_protection.h): the circuit breaker's table,
// row by row, and the retry budget's bucket.
#include "pool/circuit_breaker.h"
#include "pool/retry_budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace s3db::pool {
namespace {

using namespace std::chrono_literals;

CircuitBreakerOptions small_breaker() {
  CircuitBreakerOptions o;
  o.enabled = true;
  o.threshold = 0.5;
  o.min_volume = 10;
  o.window = 10s;
  o.open_timeout = 30s;
  o.half_open_probes = 3;
  return o;
}

const TimePoint t0 = TimePoint{} + 1h;

// Sends `n` attempts at `now` ending with `code`; returns the last transition seen.
std::optional<BreakerTransition> run(CircuitBreaker& b, int n, Code code, TimePoint now) {
  std::optional<BreakerTransition> moved;
  for (int i = 0; i < n; ++i) {
    const BreakerTicket t = b.admit(now);
    if (t.admission == Admission::kRefused) continue;
    if (auto m = b.record(code, t.generation, now)) moved = m;
  }
  return moved;
}

TEST(CircuitBreakerTest, OpensOnlyAtTheThresholdWithTheMinimumVolume) {
  CircuitBreaker b(small_breaker());
  // 9 failures: below the minimum volume, however bad.
  EXPECT_FALSE(run(b, 9, Code::kUnavailable, t0));
  EXPECT_EQ(b.state(t0), BreakerState::kClosed);
  // Answers that are not about health keep it closed: 40 % unhealthy over 25.
  CircuitBreaker c(small_breaker());
  run(c, 5, Code::kNotFound, t0);
  run(c, 5, Code::kPreconditionFailed, t0);
  run(c, 5, Code::kInvalidArgument, t0);
  run(c, 10, Code::kThrottled, t0);
  EXPECT_EQ(c.state(t0), BreakerState::kClosed);
  // The one that reaches 50 % opens it.
  auto moved = run(c, 5, Code::kTimeout, t0);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->from, BreakerState::kClosed);
  EXPECT_EQ(moved->to, BreakerState::kOpen);
  EXPECT_EQ(c.state(t0), BreakerState::kOpen);
  EXPECT_EQ(c.open_until(), t0 + 30s);
  EXPECT_EQ(c.times_opened(), 1u);
}

TEST(CircuitBreakerTest, FailuresOlderThanTheWindowNoLongerCount) {
  CircuitBreaker b(small_breaker());
  run(b, 9, Code::kUnavailable, t0);
  // 11 s later those 9 have left the window: one more failure is 1 of 1, below the volume.
  EXPECT_FALSE(run(b, 1, Code::kUnavailable, t0 + 11s));
  EXPECT_EQ(b.state(t0 + 11s), BreakerState::kClosed);
  // Within the window they add up.
  CircuitBreaker c(small_breaker());
  run(c, 9, Code::kUnavailable, t0);
  EXPECT_TRUE(run(c, 1, Code::kUnavailable, t0 + 5s));
}

TEST(CircuitBreakerTest, ARunOfOutagesOpensItWhateverTheWindowHolds) {
  CircuitBreakerOptions o = small_breaker();
  o.consecutive = 20;
  // A busy client: 1,000 successes in the window, then the store goes down.
  CircuitBreaker b(o);
  run(b, 1000, Code::kOk, t0);
  EXPECT_FALSE(run(b, 19, Code::kUnavailable, t0 + 1s)) << "19 of 1,019: 2 %, and not yet 20 in a row";
  auto moved = run(b, 1, Code::kTimeout, t0 + 1s);
  ASSERT_TRUE(moved) << "the 20th in a row";
  EXPECT_EQ(moved->to, BreakerState::kOpen);
  // A healthy answer breaks the run; Throttled neither counts nor breaks it.
  CircuitBreaker c(o);
  run(c, 1000, Code::kOk, t0);
  run(c, 19, Code::kUnavailable, t0);
  run(c, 1, Code::kNotFound, t0);
  EXPECT_FALSE(run(c, 19, Code::kUnavailable, t0));
  run(c, 30, Code::kThrottled, t0);
  EXPECT_EQ(c.state(t0), BreakerState::kClosed);
  EXPECT_TRUE(run(c, 1, Code::kUnavailable, t0)) << "19 + 1 around the throttles";
  // Off: only the share counts.
  o.consecutive = 0;
  CircuitBreaker d(o);
  run(d, 1000, Code::kOk, t0);
  EXPECT_FALSE(run(d, 100, Code::kUnavailable, t0));
}

TEST(CircuitBreakerTest, OpenRefusesThenHalfOpenAdmitsLimitedProbesThenCloses) {
  CircuitBreaker b(small_breaker());
  run(b, 10, Code::kUnavailable, t0);
  ASSERT_EQ(b.state(t0), BreakerState::kOpen);
  EXPECT_EQ(b.admit(t0 + 29s).admission, Admission::kRefused);
  EXPECT_EQ(b.refused(), 1u);

  // Timeout passed: the first admit moves it to half-open and is a probe; 3 probes at most.
  const TimePoint t1 = t0 + 30s;
  BreakerTicket p1 = b.admit(t1);
  ASSERT_TRUE(p1.moved);
  EXPECT_EQ(p1.moved->to, BreakerState::kHalfOpen);
  EXPECT_EQ(p1.admission, Admission::kProbe);
  BreakerTicket p2 = b.admit(t1), p3 = b.admit(t1);
  EXPECT_EQ(p2.admission, Admission::kProbe);
  EXPECT_EQ(p3.admission, Admission::kProbe);
  EXPECT_EQ(b.admit(t1).admission, Admission::kRefused);
  // A cancelled probe frees its place.
  EXPECT_FALSE(b.record(Code::kCancelled, p3.generation, t1));
  BreakerTicket p4 = b.admit(t1);
  EXPECT_EQ(p4.admission, Admission::kProbe);
  // Healthy answers (a NotFound is one) close it after 3.
  EXPECT_FALSE(b.record(Code::kOk, p1.generation, t1));
  EXPECT_FALSE(b.record(Code::kNotFound, p2.generation, t1));
  auto closed = b.record(Code::kOk, p4.generation, t1);
  ASSERT_TRUE(closed);
  EXPECT_EQ(closed->from, BreakerState::kHalfOpen);
  EXPECT_EQ(closed->to, BreakerState::kClosed);
  EXPECT_EQ(b.admit(t1).admission, Admission::kAdmitted);
  // Closing forgot the failures that opened it: one more is below the volume.
  EXPECT_FALSE(run(b, 1, Code::kUnavailable, t1));
}

TEST(CircuitBreakerTest, OneUnhealthyProbeOpensItAgainForAFullTimeout) {
  CircuitBreaker b(small_breaker());
  run(b, 10, Code::kThrottled, t0);
  const TimePoint t1 = t0 + 31s;
  BreakerTicket p1 = b.admit(t1), p2 = b.admit(t1);
  auto reopened = b.record(Code::kTimeout, p1.generation, t1);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->from, BreakerState::kHalfOpen);
  EXPECT_EQ(reopened->to, BreakerState::kOpen);
  EXPECT_EQ(b.open_until(), t1 + 30s);
  EXPECT_EQ(b.times_opened(), 2u);
  // The other probe of that half-open says nothing about the new state.
  EXPECT_FALSE(b.record(Code::kOk, p2.generation, t1));
  EXPECT_EQ(b.state(t1 + 1s), BreakerState::kOpen);
  EXPECT_EQ(b.state(t1 + 30s), BreakerState::kHalfOpen);
}

TEST(CircuitBreakerTest, AttemptsSentBeforeItOpenedDoNotCountAfterwards) {
  CircuitBreaker b(small_breaker());
  std::vector<BreakerTicket> early;
  for (int i = 0; i < 5; ++i) early.push_back(b.admit(t0));  // in flight while it opens
  run(b, 10, Code::kUnavailable, t0);
  ASSERT_EQ(b.state(t0), BreakerState::kOpen);
  const TimePoint t1 = t0 + 30s;
  BreakerTicket probe = b.admit(t1);
  ASSERT_EQ(probe.admission, Admission::kProbe);
  // Late answers of the early attempts neither close nor reopen it.
  for (const auto& t : early) EXPECT_FALSE(b.record(Code::kOk, t.generation, t1));
  EXPECT_FALSE(b.record(Code::kUnavailable, early[0].generation, t1));
  EXPECT_EQ(b.state(t1), BreakerState::kHalfOpen);
}

TEST(CircuitBreakerTest, HalfOpensOnTimeWithoutAnAttemptAndNumbersItsTransitions) {
  CircuitBreaker b(small_breaker());
  auto opened = run(b, 10, Code::kUnavailable, t0);
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->generation, 1u);
  EXPECT_EQ(opened->open_until, t0 + 30s);
  EXPECT_FALSE(b.half_open_if_due(t0 + 29s));
  BreakerSnapshot s = b.snapshot(t0 + 29s);
  EXPECT_EQ(s.state, BreakerState::kOpen);
  EXPECT_EQ(s.generation, 1u);
  EXPECT_EQ(s.times_opened, 1u);
  auto half = b.half_open_if_due(t0 + 30s);
  ASSERT_TRUE(half);
  EXPECT_EQ(half->from, BreakerState::kOpen);
  EXPECT_EQ(half->to, BreakerState::kHalfOpen);
  EXPECT_EQ(half->generation, 2u);
  EXPECT_FALSE(b.half_open_if_due(t0 + 31s)) << "only once";
  // The first attempt then is a probe and moves nothing: the timer already did.
  BreakerTicket p = b.admit(t0 + 31s);
  EXPECT_EQ(p.admission, Admission::kProbe);
  EXPECT_FALSE(p.moved);
  EXPECT_EQ(p.generation, 2u);
  s = b.snapshot(t0 + 31s);
  EXPECT_EQ(s.state, BreakerState::kHalfOpen);
  EXPECT_EQ(s.refused, 0u);
}

TEST(RetryBudgetTest, SpendsRefusesAndRefills) {
  RetryBudgetOptions o;
  o.enabled = true;
  o.capacity = 20;
  o.retry_cost = 5;
  o.timeout_cost = 10;
  o.success_refund = 1;
  RetryBudget b(o);
  EXPECT_EQ(b.tokens(), 20);
  EXPECT_EQ(b.try_take(Code::kTimeout), 10);
  EXPECT_EQ(b.try_take(Code::kUnavailable), 5);
  EXPECT_EQ(b.try_take(Code::kThrottled), 5);
  EXPECT_EQ(b.tokens(), 0);
  EXPECT_EQ(b.try_take(Code::kThrottled), 0);  // spent: the failure is final
  EXPECT_EQ(b.refused(), 1u);
  // A success after a retry gives back what that retry cost; one without retries gives 1.
  b.on_success(5);
  EXPECT_EQ(b.tokens(), 5);
  b.on_success(0);
  EXPECT_EQ(b.tokens(), 6);
  EXPECT_EQ(b.try_take(Code::kTimeout), 0) << "6 tokens do not pay for a timeout's 10";
  EXPECT_EQ(b.try_take(Code::kUnavailable), 5);
  // Never above capacity.
  for (int i = 0; i < 100; ++i) b.on_success(10);
  EXPECT_EQ(b.tokens(), 20);
}

TEST(RetryBudgetTest, ConcurrentTakersNeverOverdrawIt) {
  RetryBudgetOptions o;
  o.enabled = true;
  o.capacity = 500;
  RetryBudget b(o);
  std::atomic<int> paid{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) paid += b.try_take(Code::kUnavailable);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(paid.load(), 500);
  EXPECT_EQ(b.tokens(), 0);
  EXPECT_EQ(b.refused(), 8u * 200u - 100u);
}

}  // namespace
}  // namespace s3db::pool
