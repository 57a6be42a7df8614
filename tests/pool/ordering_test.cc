// Priorities, FIFO tie-break and set_concurrency at run time.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

OpOptions prio(int p) {
  OpOptions o;
  o.priority = p;
  return o;
}

TEST(PoolOrdering, HigherPriorityFirstFifoAmongEquals) {
  OperationPool pool(testing::pool_options(1));
  pool.pause();
  std::mutex mu;
  std::vector<int> order;
  auto record = [&](int tag) {
    return [&, tag](OpContext&) {
      std::lock_guard<std::mutex> g(mu);
      order.push_back(tag);
      return Status::OK();
    };
  };
  // tag = priority * 10 + submission index within that priority
  (void)pool.submit(record(0), prio(0));
  (void)pool.submit(record(50), prio(5));
  (void)pool.submit(record(1), prio(0));
  (void)pool.submit(record(-10), prio(-1));
  (void)pool.submit(record(51), prio(5));
  (void)pool.submit(record(90), prio(9));
  (void)pool.submit(record(2), prio(0));
  (void)pool.submit(record(52), prio(5));
  pool.resume();
  pool.drain();
  EXPECT_EQ(order, (std::vector<int>{90, 50, 51, 52, 0, 1, 2, -10}));
}

TEST(PoolOrdering, ManyDistinctPrioritiesStayOrdered) {
  OperationPool pool(testing::pool_options(1));
  pool.pause();
  std::mutex mu;
  std::vector<int> order;
  for (int i = 0; i < 100; ++i) {
    const int p = (i * 37) % 41;  // 41 distinct values, shuffled
    (void)pool.submit(
        [&, p](OpContext&) {
          std::lock_guard<std::mutex> g(mu);
          order.push_back(p);
          return Status::OK();
        },
        prio(p));
  }
  pool.resume();
  pool.drain();
  ASSERT_EQ(order.size(), 100u);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end(), std::greater<int>()));
}

// Ops that block until released, counting how many run at once.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  int max_running = 0;
  int started = 0;
  bool open = false;

  Status op() {
    std::unique_lock<std::mutex> lk(mu);
    ++running;
    ++started;
    max_running = std::max(max_running, running);
    cv.notify_all();
    cv.wait(lk, [&] { return open; });
    --running;
    return Status::OK();
  }
  void release() {
    std::lock_guard<std::mutex> g(mu);
    open = true;
    cv.notify_all();
  }
  int started_count() {
    std::lock_guard<std::mutex> g(mu);
    return started;
  }
};

TEST(PoolOrdering, ConcurrencyLimitIsRespected) {
  OperationPool pool(testing::pool_options(3));
  Gate gate;
  std::vector<Future<void>> fs;
  for (int i = 0; i < 10; ++i) fs.push_back(pool.submit([&](OpContext&) { return gate.op(); }));
  ASSERT_TRUE(testing::eventually([&] { return gate.started_count() == 3; }));
  EXPECT_EQ(pool.stats().active, 3u);
  EXPECT_EQ(pool.stats().queue_size, 7u);
  gate.release();
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(gate.max_running, 3);
}

TEST(PoolOrdering, SetConcurrencyRaisesAndLowersWithoutLosingWork) {
  OperationPool pool(testing::pool_options(1));
  Gate gate;
  std::atomic<int> completed{0};
  std::vector<Future<void>> fs;
  for (int i = 0; i < 12; ++i) {
    fs.push_back(pool.submit([&](OpContext&) {
      auto st = gate.op();
      completed.fetch_add(1);
      return st;
    }));
  }
  ASSERT_TRUE(testing::eventually([&] { return gate.started_count() == 1; }));
  pool.set_concurrency(4);
  ASSERT_TRUE(testing::eventually([&] { return gate.started_count() == 4; }));
  EXPECT_EQ(pool.stats().concurrency, 4);
  pool.set_concurrency(2);
  gate.release();
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(completed.load(), 12);  // nothing lost
  EXPECT_EQ(pool.stats().processed, 12u);  // nothing duplicated
  EXPECT_EQ(gate.max_running, 4);
}

TEST(PoolOrdering, LoweredLimitHoldsBackNewStarts) {
  OperationPool pool(testing::pool_options(4));
  pool.set_concurrency(1);
  Gate gate;
  std::vector<Future<void>> fs;
  for (int i = 0; i < 5; ++i) fs.push_back(pool.submit([&](OpContext&) { return gate.op(); }));
  ASSERT_TRUE(testing::eventually([&] { return gate.started_count() == 1; }));
  EXPECT_EQ(pool.stats().queue_size, 4u);
  gate.release();
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(gate.max_running, 1);
}

TEST(PoolOrdering, FifoHoldsForAnyMixOfOpsWithAndWithoutOptions) {
  // A plain op waits in the lock-free inbox while every slot is busy; an op with options takes the
  // mutex path. The later one must not overtake the earlier one, whichever path each took.
  OperationPool pool(testing::pool_options(1));
  Gate gate;
  auto blocker = pool.submit([&](OpContext&) { return gate.op(); });
  ASSERT_TRUE(testing::eventually([&] { return gate.started_count() == 1; }));
  std::mutex mu;
  std::vector<int> order;
  std::vector<Future<void>> fs;
  for (int i = 0; i < 10; ++i) {
    OpOptions o;
    if (i % 3 == 1) o.retries = 2;                              // options: the mutex path
    if (i % 3 == 2) o.deadline = TimePoint::max() - std::chrono::hours(1);
    fs.push_back(pool.submit(
        [&, i](OpContext&) {
          std::lock_guard<std::mutex> g(mu);
          order.push_back(i);
          return Status::OK();
        },
        o));
  }
  gate.release();
  EXPECT_TRUE(blocker.get().ok());
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

}  // namespace
}  // namespace s3db
