// Bounded queue with backpressure (kBlock / kReject) and the bypass option.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

PoolOptions bounded(std::size_t max_queue, QueueFullPolicy when_full) {
  PoolOptions o = testing::pool_options(1);
  o.max_queue = max_queue;
  o.when_full = when_full;
  return o;
}

TEST(PoolQueue, RejectFailsFastWithThrottled) {
  OperationPool pool(bounded(2, QueueFullPolicy::kReject));
  pool.pause();
  auto a = pool.submit([](OpContext&) { return Status::OK(); });
  auto b = pool.submit([](OpContext&) { return Status::OK(); });
  std::atomic<int> ran{0};
  auto c = pool.submit([&](OpContext&) {
    ran.fetch_add(1);
    return Status::OK();
  });
  EXPECT_EQ(c.get().code(), Code::kThrottled);
  EXPECT_EQ(pool.stats().queue_size, 2u);
  pool.resume();
  EXPECT_TRUE(a.get().ok());
  EXPECT_TRUE(b.get().ok());
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(pool.metrics().errors_by_code[static_cast<int>(Code::kThrottled)], 1u);
}

TEST(PoolQueue, BlockWaitsForRoom) {
  OperationPool pool(bounded(2, QueueFullPolicy::kBlock));
  pool.pause();
  std::vector<Future<void>> fs;
  fs.push_back(pool.submit([](OpContext&) { return Status::OK(); }));
  fs.push_back(pool.submit([](OpContext&) { return Status::OK(); }));
  std::atomic<bool> returned{false};
  Future<void> third;
  std::thread producer([&] {
    third = pool.submit([](OpContext&) { return Status::OK(); });
    returned = true;
  });
  // The producer is blocked inside submit(): the queue never grows beyond its bound.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(returned.load());
  EXPECT_EQ(pool.stats().queue_size, 2u);
  pool.resume();
  producer.join();
  EXPECT_TRUE(returned.load());
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_TRUE(third.get().ok());
}

TEST(PoolQueue, BlockedSubmitterIsReleasedByStop) {
  OperationPool pool(bounded(1, QueueFullPolicy::kBlock));
  pool.pause();
  auto a = pool.submit([](OpContext&) { return Status::OK(); });
  Future<void> b;
  std::thread producer([&] { b = pool.submit([](OpContext&) { return Status::OK(); }); });
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  pool.stop();
  producer.join();
  EXPECT_EQ(a.get().code(), Code::kCancelled);
  EXPECT_EQ(b.get().code(), Code::kCancelled);
}

TEST(PoolQueue, ManyProducersNeverExceedTheBound) {
  OperationPool pool(bounded(8, QueueFullPolicy::kBlock));
  std::atomic<bool> over{false};
  std::atomic<int> done{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        auto f = pool.submit([&](OpContext&) {
          done.fetch_add(1);
          return Status::OK();
        });
        if (pool.stats().queue_size > 8) over = true;
      }
    });
  }
  for (auto& t : producers) t.join();
  pool.drain();
  EXPECT_FALSE(over.load());
  EXPECT_EQ(done.load(), 900);
}

TEST(PoolQueue, BypassRunsOnCallerIgnoringLimitAndQueue) {
  OperationPool pool(testing::pool_options(1));
  pool.pause();
  auto queued = pool.submit([](OpContext&) { return Status::OK(); });
  OpOptions o;
  o.bypass = true;
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  int attempts = 0;
  auto r = pool.run(
      [&](OpContext&) -> Result<int> {
        ran_on = std::this_thread::get_id();
        ++attempts;
        return Status::Unavailable("no retries for bypass");
      },
      o);
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(ran_on, caller);
  EXPECT_FALSE(queued.ready());
  pool.resume();
  EXPECT_TRUE(queued.get().ok());
}

}  // namespace
}  // namespace s3db
