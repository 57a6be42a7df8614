// Worker wake-up: the dispatch path wakes as few workers as it can (one "searching" worker at a
// time, which wakes the next only when more work is queued). These tests check that this never
// loses a wake-up — every bound is a drain_for() or a bounded poll, so a lost op FAILS, not hangs —
// and that blocking ops still fan out to the full limit.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include "pool_test_util.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace s3db {
namespace {

constexpr auto kGenerous = std::chrono::seconds(60);

// Submitters in many threads, in small bursts separated by pauses so that workers keep going idle
// and being woken again while other threads submit.
void submit_in_bursts(int concurrency, int threads, int bursts, int burst_size) {
  OperationPool pool(testing::pool_options(concurrency));
  std::atomic<int> ran{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t) {
    ts.emplace_back([&, t] {
      for (int b = 0; b < bursts; ++b) {
        for (int i = 0; i < burst_size; ++i) {
          (void)pool.submit([&](OpContext&) {
            ran.fetch_add(1, std::memory_order_relaxed);
            return Status::OK();
          });
        }
        if ((b + t) % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
        else std::this_thread::yield();
      }
    });
  }
  for (auto& th : ts) th.join();
  ASSERT_TRUE(pool.drain_for(kGenerous)) << "ops left: " << threads * bursts * burst_size - ran.load();
  EXPECT_EQ(ran.load(), threads * bursts * burst_size);
  EXPECT_EQ(pool.stats().queue_size, 0u);
}

TEST(PoolWakeup, BurstsFromManyThreadsWhileWorkersIdleOneSlot) { submit_in_bursts(1, 6, 200, 3); }
TEST(PoolWakeup, BurstsFromManyThreadsWhileWorkersIdleFewSlots) { submit_in_bursts(3, 6, 200, 3); }
TEST(PoolWakeup, BurstsFromManyThreadsWhileWorkersIdleManySlots) { submit_in_bursts(50, 6, 200, 5); }

// Each round lets the pool go completely idle, then submits single ops and inline runs from
// several threads at once: the first submit of a round must wake a sleeping worker.
TEST(PoolWakeup, RoundsFromIdleWithInlineRunsMixedIn) {
  OperationPool pool(testing::pool_options(2));
  std::atomic<int> ran{0};
  int expected = 0;
  for (int round = 0; round < 100; ++round) {
    std::vector<std::thread> ts;
    for (int t = 0; t < 4; ++t) {
      ts.emplace_back([&, t] {
        if (t % 2 == 0) {
          Status st = pool.run([&](OpContext&) {
            ran.fetch_add(1);
            return Status::OK();
          });
          EXPECT_TRUE(st.ok());
        } else {
          (void)pool.submit([&](OpContext&) {
            ran.fetch_add(1);
            return Status::OK();
          });
        }
      });
    }
    for (auto& th : ts) th.join();
    expected += 4;
    ASSERT_TRUE(pool.drain_for(kGenerous)) << "round " << round;
    ASSERT_EQ(ran.load(), expected) << "round " << round;
  }
}

// Ops that block their thread until `limit` of them run at once: passes only if a burst of submits
// (which wakes one worker) still fans out to every slot through the chain of wake-ups.
TEST(PoolWakeup, BlockingOpsFanOutToTheFullLimit) {
  constexpr int kLimit = 8;
  OperationPool pool(testing::pool_options(kLimit));
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<bool> all_met{false};
  std::vector<Future<void>> fs;
  for (int i = 0; i < kLimit; ++i) {
    fs.push_back(pool.submit([&](OpContext&) {
      const int now = running.fetch_add(1) + 1;
      int p = peak.load();
      while (now > p && !peak.compare_exchange_weak(p, now)) {
      }
      // Bounded: gives up after ~10 s so that a missing wake-up fails the test instead of hanging.
      if (testing::eventually([&] { return running.load() == kLimit || all_met.load(); })) all_met = true;
      running.fetch_sub(1);
      return Status::OK();
    }));
  }
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(peak.load(), kLimit);
  EXPECT_TRUE(pool.drain_for(kGenerous));
}

// Raising the limit while ops are queued behind blocked slots starts them at once (several
// searchers, not one).
TEST(PoolWakeup, RaisingTheLimitStartsQueuedOps) {
  OperationPool pool(testing::pool_options(1));
  std::atomic<bool> release{false};
  std::atomic<int> started{0};
  std::vector<Future<void>> fs;
  for (int i = 0; i < 4; ++i) {
    fs.push_back(pool.submit([&](OpContext&) {
      started.fetch_add(1);
      testing::eventually([&] { return release.load(); });
      return Status::OK();
    }));
  }
  ASSERT_TRUE(testing::eventually([&] { return started.load() == 1; }));
  pool.set_concurrency(4);
  EXPECT_TRUE(testing::eventually([&] { return started.load() == 4; }));
  release = true;
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
}

}  // namespace
}  // namespace s3db
