// Basic OperationPool behaviour: submit/get, run inline, Future API, completion rules.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include "pool_test_util.h"

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace s3db {
namespace {

TEST(PoolBasic, SubmitReturnsValue) {
  OperationPool pool(testing::pool_options(2));
  auto f = pool.submit([](OpContext&) -> Result<int> { return 42; });
  ASSERT_TRUE(f.valid());
  auto r = f.get();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, 42);
  EXPECT_FALSE(f.valid());
}

TEST(PoolBasic, SubmitVoidOpReturnsStatus) {
  OperationPool pool;
  auto ok = pool.submit([](OpContext&) { return Status::OK(); });
  auto bad = pool.submit([](OpContext&) { return Status::NotFound("k"); });
  EXPECT_TRUE(ok.get().ok());
  EXPECT_EQ(bad.get().code(), Code::kNotFound);
}

TEST(PoolBasic, MoveOnlyValuesAndClosures) {
  OperationPool pool;
  auto p = std::make_unique<int>(7);
  auto f = pool.submit([p = std::move(p)](OpContext&) -> Result<std::unique_ptr<int>> {
    return std::make_unique<int>(*p + 1);
  });
  auto r = f.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(**r, 8);
}

TEST(PoolBasic, RunInlineOnCallerThreadWhenIdle) {
  OperationPool pool(testing::pool_options(1));
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  auto r = pool.run([&](OpContext& ctx) -> Result<int> {
    ran_on = std::this_thread::get_id();
    EXPECT_EQ(ctx.attempt(), 1);
    return 5;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 5);
  EXPECT_EQ(ran_on, caller);
  EXPECT_EQ(pool.stats().processed, 1u);
}

TEST(PoolBasic, RunQueuesWhenPaused) {
  OperationPool pool(testing::pool_options(1));
  pool.pause();
  std::atomic<bool> done{false};
  std::thread t([&] {
    auto st = pool.run([](OpContext&) { return Status::OK(); });
    EXPECT_TRUE(st.ok());
    done = true;
  });
  ASSERT_TRUE(testing::eventually([&] { return pool.stats().queue_size == 1; }));
  EXPECT_EQ(pool.stats().queue_size, 1u);
  EXPECT_FALSE(done.load());
  pool.resume();
  t.join();
  EXPECT_TRUE(done.load());
}

TEST(PoolBasic, ExceptionBecomesInternal) {
  OperationPool pool;
  auto f = pool.submit([](OpContext&) -> Status { throw std::runtime_error("boom"); });
  auto st = f.get();
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_NE(st.message().find("boom"), std::string::npos);
  auto r = pool.run([](OpContext&) -> Result<int> { throw 3; });
  EXPECT_EQ(r.status().code(), Code::kInternal);
}

TEST(PoolBasic, ThenRunsExactlyOnceInlineWhenAlreadyDone) {
  OperationPool pool;
  auto f = pool.submit([](OpContext&) -> Result<int> { return 1; });
  f.wait();
  EXPECT_TRUE(f.ready());
  int calls = 0;
  f.then([&](Result<int> r) {
    ++calls;
    EXPECT_EQ(*r, 1);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(f.valid());
}

TEST(PoolBasic, ThenRunsOnCompletingThreadLater) {
  OperationPool pool(testing::pool_options(1));
  pool.pause();
  auto f = pool.submit([](OpContext&) -> Result<int> { return 2; });
  std::atomic<int> calls{0};
  std::atomic<int> value{0};
  f.then([&](Result<int> r) {
    value = *r;
    calls.fetch_add(1);
  });
  EXPECT_EQ(calls.load(), 0);
  pool.resume();
  pool.drain();
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(value.load(), 2);
}

TEST(PoolBasic, WaitForTimesOutThenSucceeds) {
  OperationPool pool;
  pool.pause();
  auto f = pool.submit([](OpContext&) { return Status::OK(); });
  EXPECT_FALSE(f.wait_for(std::chrono::milliseconds(1)));
  EXPECT_FALSE(f.ready());
  pool.resume();
  EXPECT_TRUE(f.wait_for(std::chrono::seconds(30)));
  EXPECT_TRUE(f.get().ok());
}

TEST(PoolBasic, FutureOutlivesPool) {
  Future<int> f;
  {
    OperationPool pool;
    f = pool.submit([](OpContext&) -> Result<int> { return 9; });
    pool.drain();
  }
  auto r = f.get();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 9);
}

TEST(PoolBasic, DroppedFutureStillRunsTheOp) {
  OperationPool pool;
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) {
    (void)pool.submit([&](OpContext&) {
      ran.fetch_add(1);
      return Status::OK();
    });
  }
  pool.drain();
  EXPECT_EQ(ran.load(), 100);
  EXPECT_EQ(pool.stats().processed, 100u);
}

TEST(PoolBasic, InvalidFutureGetReportsInternal) {
  Future<void> f;
  EXPECT_FALSE(f.valid());
  EXPECT_EQ(f.get().code(), Code::kInternal);
}

TEST(PoolBasic, ManyOpsFromManyThreads) {
  OperationPool pool(testing::pool_options(4));
  std::atomic<int> sum{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      std::vector<Future<int>> fs;
      for (int i = 0; i < 500; ++i) fs.push_back(pool.submit([i](OpContext&) -> Result<int> { return i; }));
      for (auto& f : fs) sum.fetch_add(*f.get());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(sum.load(), 4 * (499 * 500 / 2));
}

}  // namespace
}  // namespace s3db
