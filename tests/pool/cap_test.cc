// OperationPool::set_cap: a cap from outside on how many attempts run at once (what a shared
// limit's permits are), below the limit, without touching it or the tuner.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;

TEST(PoolCap, AtMostTheCapRunAndRaisingItStartsTheQueued) {
  OperationPool pool(testing::pool_options(8));
  EXPECT_EQ(pool.stats().cap, -1);
  pool.set_cap(0);
  EXPECT_EQ(pool.stats().cap, 0);
  std::atomic<bool> open{false};
  std::atomic<int> ran{0};
  std::vector<Future<void>> fs;
  for (int i = 0; i < 6; ++i) {
    fs.push_back(pool.submit([&](OpContext&) {
      ++ran;
      while (!open.load()) std::this_thread::sleep_for(milliseconds(1));
      return Status::OK();
    }));
  }
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(ran.load(), 0) << "cap 0: nothing starts";
  pool.set_cap(2);
  ASSERT_TRUE(testing::eventually([&] { return ran.load() == 2; }));
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(pool.stats().active, 2u);
  EXPECT_EQ(pool.stats().concurrency, 8) << "the limit is untouched";
  // run() on the inline path respects the cap too: it queues behind them.
  std::atomic<bool> inline_ran{false};
  std::thread t([&] { (void)pool.run([&](OpContext&) { inline_ran = true; return Status::OK(); }); });
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(inline_ran.load());
  pool.set_cap(-1);  // removed: the limit (8) holds again
  ASSERT_TRUE(testing::eventually([&] { return ran.load() == 6; }));
  open = true;
  t.join();
  EXPECT_TRUE(inline_ran.load());
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(pool.stats().cap, -1);
}

TEST(PoolCap, ACapAboveTheLimitChangesNothing) {
  OperationPool pool(testing::pool_options(2));
  pool.set_cap(100);
  std::atomic<int> ran{0};
  std::atomic<bool> open{false};
  std::vector<Future<void>> fs;
  for (int i = 0; i < 4; ++i) {
    fs.push_back(pool.submit([&](OpContext&) {
      ++ran;
      while (!open.load()) std::this_thread::sleep_for(milliseconds(1));
      return Status::OK();
    }));
  }
  ASSERT_TRUE(testing::eventually([&] { return ran.load() == 2; }));
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_EQ(ran.load(), 2);
  open = true;
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
}

// on_cap_wait: the one who set the cap hears when an op waits on it — once per set_cap(), never
// when it is the limit that binds.
TEST(PoolCap, AnOpWaitingOnTheCapCallsTheWaiterOncePerSetCap) {
  OperationPool pool(testing::pool_options(2));
  std::atomic<int> calls{0};
  pool.on_cap_wait([&] { ++calls; });
  pool.set_cap(0);
  std::vector<Future<void>> fs;
  for (int i = 0; i < 3; ++i) fs.push_back(pool.submit([](OpContext&) { return Status::OK(); }));
  EXPECT_EQ(calls.load(), 1) << "three ops on the cap: one call until the cap is set again";
  pool.set_cap(0);  // the same cap, re-armed
  fs.push_back(pool.submit([](OpContext&) { return Status::OK(); }));
  EXPECT_EQ(calls.load(), 2);
  pool.set_cap(-1);
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  fs.clear();
  // No cap: the limit (2) binds, which is nobody's news.
  std::atomic<bool> open{false};
  for (int i = 0; i < 4; ++i) {
    fs.push_back(pool.submit([&](OpContext&) {
      while (!open.load()) std::this_thread::sleep_for(milliseconds(1));
      return Status::OK();
    }));
  }
  open = true;
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(calls.load(), 2);
  pool.on_cap_wait(nullptr);
  pool.set_cap(0);
  auto last = pool.submit([](OpContext&) { return Status::OK(); });
  EXPECT_EQ(calls.load(), 2) << "removed: not called";
  pool.set_cap(-1);
  EXPECT_TRUE(last.get().ok());
}

}  // namespace
}  // namespace s3db
