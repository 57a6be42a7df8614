// The op's last word (operation_pool.h): an op object with final_status(Status) decides what its
// final failure says, whichever reason the pool had to stop — and nothing else changes.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <atomic>

#include "pool_test_util.h"

namespace s3db {
namespace {

// Fails every attempt with `failure`; its last word wraps what the pool ends it with.
struct Speaks {
  Status failure;
  std::atomic<int>* last_words;
  Result<int> operator()(OpContext&) { return failure; }
  Status final_status(Status s) {
    ++*last_words;
    return Status::UnknownOutcome("op", "last word on: " + s.to_string());
  }
};

// A last word that is OK cannot turn the failure into a success.
struct SaysOk {
  Result<int> operator()(OpContext&) { return Status::InvalidArgument("bad"); }
  Status final_status(Status) { return Status::OK(); }
};

TEST(PoolLastWord, TheOpsFinalStatusIsWhatEveryoneSees) {
  PoolOptions o;
  o.concurrency = 2;
  o.backoff.max_retries = 1;
  o.backoff.base = std::chrono::milliseconds(1);
  OperationPool pool(o);
  std::atomic<int> words{0};
  std::atomic<int> errors_seen{0};
  auto sub = pool.on(PoolEvent::kTaskError, [&](const EventInfo& e) {
    if (e.status != nullptr && e.status->code() == Code::kUnknownOutcome) ++errors_seen;
  });
  // Retries exhausted, through run() and submit().
  auto r = pool.run(Speaks{Status::Unavailable("store", "down"), &words});
  EXPECT_EQ(r.status().code(), Code::kUnknownOutcome) << r.status().to_string();
  EXPECT_NE(r.status().message().find("Unavailable"), std::string::npos) << r.status().to_string();
  auto f = pool.submit(Speaks{Status::Unavailable("store", "down"), &words});
  EXPECT_EQ(f.get().status().code(), Code::kUnknownOutcome);
  // A failure that is not retried at all.
  EXPECT_EQ(pool.run(Speaks{Status::InvalidArgument("bad"), &words}).status().code(), Code::kUnknownOutcome);
  EXPECT_EQ(words.load(), 3) << "once per op";
  EXPECT_EQ(errors_seen.load(), 3) << "the task_error event carries the last word";
  EXPECT_EQ(pool.metrics().errors_by_code[static_cast<int>(Code::kUnknownOutcome)], 3u);
  // An OK last word changes nothing.
  EXPECT_EQ(pool.run(SaysOk{}).status().code(), Code::kInvalidArgument);
  // A success never asks.
  std::atomic<int> none{0};
  struct Succeeds {
    std::atomic<int>* n;
    Result<int> operator()(OpContext&) { return 1; }
    Status final_status(Status s) {
      ++*n;
      return s;
    }
  };
  EXPECT_TRUE(pool.run(Succeeds{&none}).ok());
  EXPECT_EQ(none.load(), 0);
}

TEST(PoolLastWord, StopAndTheRetryBudgetEndingAnOpGetItsLastWordToo) {
  auto clock = std::make_shared<ManualClock>();
  PoolOptions o = testing::pool_options(1, clock);
  o.retry_budget.enabled = true;
  o.retry_budget.capacity = 5;
  o.retry_budget.retry_cost = 5;
  o.backoff.base = std::chrono::milliseconds(10);
  OperationPool pool(o);
  std::atomic<int> words{0};
  // A retry is scheduled (task_retry) before its backoff, which waits for the ManualClock.
  std::atomic<int> scheduled{0};
  auto counting = pool.on(PoolEvent::kTaskRetry, [&](const EventInfo&) { ++scheduled; });
  // The first retry is paid for, the second is not: the budget ends the op.
  auto f = pool.submit(Speaks{Status::Unavailable("store", "down"), &words});
  ASSERT_TRUE(testing::eventually([&] { return scheduled.load() == 1; }));
  clock->advance(std::chrono::milliseconds(10));
  auto r = f.get();
  EXPECT_EQ(r.status().code(), Code::kUnknownOutcome);
  EXPECT_NE(r.status().message().find("retry budget spent"), std::string::npos) << r.status().to_string();
  // stop() during the backoff.
  OperationPool other(testing::pool_options(1, clock));
  std::atomic<int> other_scheduled{0};
  auto other_counting = other.on(PoolEvent::kTaskRetry, [&](const EventInfo&) { ++other_scheduled; });
  auto g = other.submit(Speaks{Status::Unavailable("store", "down"), &words});
  ASSERT_TRUE(testing::eventually([&] { return other_scheduled.load() == 1; }));
  other.stop();
  EXPECT_EQ(g.get().status().code(), Code::kUnknownOutcome);
  EXPECT_EQ(words.load(), 2);
}

}  // namespace
}  // namespace s3db
