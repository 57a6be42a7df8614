// Run again (OpContext::run_again_after / run_again_when_woken, OperationPool::wake): an op that
// must wait — a write that lost a conflict — returns asking the pool to run it again. It waits on
// the pool's Clock without a slot, is not a retry (no retry count, no budget token, no breaker
// failure), and the deadline and stop() cut the wait short. ManualClock: nothing depends on time.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

using namespace std::chrono_literals;
using testing::eventually;
using testing::pool_options;

// Runs `pauses` times asking to run again after `pause`, then succeeds; records attempt numbers.
struct Pausing {
  int pauses;
  Duration pause;
  std::atomic<int>* runs;
  std::vector<int>* attempts = nullptr;
  Status operator()(OpContext& ctx) {
    const int run = runs->fetch_add(1);
    if (attempts) attempts->push_back(ctx.attempt());
    if (run < pauses) {
      EXPECT_TRUE(ctx.run_again_after(pause));
      return Status::PreconditionFailed("conflict", "another writer won");
    }
    return Status::OK();
  }
};

TEST(PoolRunAgain, APausedOpReleasesItsSlotAndWaitsOnThePoolClock) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(pool_options(1, clock));
  std::atomic<int> runs{0};
  std::vector<int> attempts;
  Future<void> paused = pool.submit(Pausing{1, 100ms, &runs, &attempts});
  ASSERT_TRUE(eventually([&] { return pool.stats().ran_again == 1; }));
  // Concurrency 1: another op gets the slot while the first one waits.
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_FALSE(paused.ready());
  clock->advance(99ms);
  EXPECT_FALSE(paused.ready());
  clock->advance(1ms);
  EXPECT_TRUE(paused.get().ok());
  EXPECT_EQ(runs.load(), 2);
  EXPECT_EQ(attempts, (std::vector<int>{1, 1}));  // the same attempt: not a retry
  const PoolStats st = pool.stats();
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.ran_again, 1u);
  EXPECT_EQ(st.errors, 0u);
}

TEST(PoolRunAgain, TheInlinePathPausesToo) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(pool_options(1, clock));
  std::atomic<int> runs{0};
  std::atomic<bool> done{false};
  std::thread caller([&] {
    EXPECT_TRUE(pool.run(Pausing{1, 10ms, &runs}).ok());  // idle pool: the first run is inline
    done = true;
  });
  ASSERT_TRUE(eventually([&] { return pool.stats().ran_again == 1; }));
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());  // the slot is free
  EXPECT_FALSE(done.load());
  clock->advance(10ms);
  caller.join();
  EXPECT_EQ(runs.load(), 2);
}

TEST(PoolRunAgain, NotARetryNoRetryCountBudgetOrBreakerFailure) {
  PoolOptions o = pool_options(1, std::make_shared<ManualClock>());
  o.retry_budget.enabled = true;
  o.retry_budget.capacity = 10;
  o.retry_budget.retry_cost = 10;  // one retry would empty it
  o.breaker.enabled = true;
  o.breaker.threshold = 0.5;
  o.breaker.min_volume = 2;
  OperationPool pool(o);
  const int tokens = pool.stats().retry_budget_tokens;
  std::atomic<int> runs{0};
  OpOptions no_retries;
  no_retries.retries = 0;
  // Ten pauses with a status the breaker counts as a failure when it ends an attempt: none is one.
  Status s = pool.run(
      [&](OpContext& ctx) {
        if (runs.fetch_add(1) < 10) {
          EXPECT_TRUE(ctx.run_again_after(0ms));
          return Status::Unavailable("busy", "try again soon");
        }
        return Status::OK();
      },
      no_retries);
  EXPECT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(runs.load(), 11);
  const PoolStats st = pool.stats();
  EXPECT_EQ(st.retries, 0u);
  EXPECT_EQ(st.ran_again, 10u);
  EXPECT_EQ(st.retry_budget_tokens, tokens);
  EXPECT_EQ(st.retry_budget_refused, 0u);
  EXPECT_EQ(st.breaker_state, BreakerState::kClosed);
  EXPECT_EQ(st.breaker_opened, 0u);
}

TEST(PoolRunAgain, APauseThatWouldPassTheDeadlineEndsWithTimeoutAtOnce) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(pool_options(1, clock));
  std::atomic<int> runs{0};
  OpOptions o;
  o.deadline = clock->now() + 50ms;
  Status s = pool.submit(Pausing{1, 50ms, &runs}, o).get();  // no clock advance needed
  EXPECT_EQ(s.code(), Code::kTimeout) << s.to_string();
  EXPECT_NE(s.message().find("another writer won"), std::string::npos) << s.message();  // why it paused
  EXPECT_EQ(runs.load(), 1);
}

TEST(PoolRunAgain, AWaitUntilWokenEndsWithTimeoutAtTheDeadline) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(pool_options(1, clock));
  std::atomic<int> runs{0};
  OpOptions o;
  o.deadline = clock->now() + 50ms;
  Future<void> f = pool.submit(
      [&](OpContext& ctx) {
        runs.fetch_add(1);
        EXPECT_TRUE(ctx.run_again_when_woken());
        return Status::PreconditionFailed("waiting for a turn");
      },
      o);
  ASSERT_TRUE(eventually([&] { return pool.stats().ran_again == 1; }));
  clock->advance(49ms);
  EXPECT_FALSE(f.ready());
  clock->advance(1ms);
  EXPECT_EQ(f.get().code(), Code::kTimeout);
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(pool.stats().active, 0u);
}

TEST(PoolRunAgain, StopCancelsAWaitingOp) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(pool_options(1, clock));
  std::atomic<int> runs{0};
  Future<void> paused = pool.submit(Pausing{1, 1h, &runs});
  Future<void> woken = pool.submit([](OpContext& ctx) {
    EXPECT_TRUE(ctx.run_again_when_woken());  // no deadline: waits for wake() or stop()
    return Status::PreconditionFailed("waiting for a turn");
  });
  ASSERT_TRUE(eventually([&] { return pool.stats().ran_again == 2; }));
  pool.stop();
  EXPECT_EQ(paused.get().code(), Code::kCancelled);
  EXPECT_EQ(woken.get().code(), Code::kCancelled);
}

TEST(PoolRunAgain, WakeEndsTheWaitAndAnEarlyWakeIsKept) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(pool_options(2, clock));
  std::atomic<std::uint64_t> id{0};
  std::atomic<int> runs{0};
  Future<void> f = pool.submit([&](OpContext& ctx) {
    if (runs.fetch_add(1) > 0) return Status::OK();
    id = ctx.op_id();
    EXPECT_TRUE(ctx.run_again_when_woken());
    return Status::PreconditionFailed("waiting for a turn");
  });
  ASSERT_TRUE(eventually([&] { return pool.stats().ran_again == 1; }));
  EXPECT_NE(id.load(), 0u);
  EXPECT_FALSE(f.ready());
  pool.wake(id.load());
  EXPECT_TRUE(f.get().ok());  // no clock advance
  EXPECT_EQ(runs.load(), 2);

  // The wake comes while the op is still in the attempt that asks to wait (the writer ahead left
  // meanwhile): it is kept, and the op runs again at once.
  std::atomic<int> runs2{0};
  Future<void> g = pool.submit([&](OpContext& ctx) {
    if (runs2.fetch_add(1) > 0) return Status::OK();
    pool.wake(ctx.op_id());
    EXPECT_TRUE(ctx.run_again_when_woken());
    return Status::PreconditionFailed("waiting for a turn");
  });
  EXPECT_TRUE(g.get().ok());
  EXPECT_EQ(runs2.load(), 2);
}

TEST(PoolRunAgain, EventsTellAPauseFromAFailureRetry) {
  PoolOptions o = pool_options(1, std::make_shared<ManualClock>());
  o.backoff.base = 0ms;
  OperationPool pool(o);
  std::mutex mu;
  std::vector<std::string> reasons;
  std::vector<Code> codes;
  Subscription sub = pool.on(PoolEvent::kTaskRetry, [&](const EventInfo& e) {
    std::lock_guard<std::mutex> g(mu);
    reasons.emplace_back(e.reason);
    codes.push_back(e.status->code());
  });
  std::atomic<int> runs{0};
  Status s = pool.submit([&](OpContext& ctx) {
                   const int run = runs.fetch_add(1);
                   if (run == 0) {
                     ctx.run_again_after(0ms);
                     return Status::PreconditionFailed("conflict");
                   }
                   if (run == 1) return Status::Unavailable("503");
                   return Status::OK();
                 }).get();
  EXPECT_TRUE(s.ok()) << s.to_string();
  std::lock_guard<std::mutex> g(mu);
  EXPECT_EQ(reasons, (std::vector<std::string>{"run_again", ""}));
  EXPECT_EQ(codes, (std::vector<Code>{Code::kPreconditionFailed, Code::kUnavailable}));
}

TEST(PoolRunAgain, NotOfferedToABypassOpOrAStandaloneContext) {
  OperationPool pool(pool_options(1, std::make_shared<ManualClock>()));
  OpOptions bypass;
  bypass.bypass = true;
  bool offered = true;
  EXPECT_TRUE(pool.run(
                      [&](OpContext& ctx) {
                        offered = ctx.run_again_after(1ms);
                        return Status::OK();
                      },
                      bypass)
                  .ok());
  EXPECT_FALSE(offered);
  OpContext standalone;
  EXPECT_FALSE(standalone.run_again_after(1ms));
  EXPECT_EQ(standalone.op_id(), 0u);
}

}  // namespace
}  // namespace s3db
