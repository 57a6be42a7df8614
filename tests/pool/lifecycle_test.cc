// Timeouts as cancellations, deadlines, pause/resume/drain/stop edge cases, completion rules.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

// An op body that blocks until its context is cancelled (like an aborted transfer), recording
// that its on_cancel callback ran. Bounded: gives up after ~10 s of real time.
struct Abortable {
  std::atomic<int> started{0};
  std::atomic<int> cancel_callbacks{0};
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};

  Status operator()(OpContext& ctx) {
    std::mutex mu;
    std::condition_variable cv;
    bool aborted = false;
    ctx.on_cancel([&] {
      cancel_callbacks.fetch_add(1);
      std::lock_guard<std::mutex> g(mu);
      aborted = true;
      cv.notify_all();
    });
    const int now_running = running.fetch_add(1) + 1;
    int m = max_running.load();
    while (now_running > m && !max_running.compare_exchange_weak(m, now_running)) {
    }
    started.fetch_add(1);
    {
      std::unique_lock<std::mutex> lk(mu);
      cv.wait_for(lk, std::chrono::seconds(10), [&] { return aborted; });
    }
    ctx.clear_on_cancel();
    running.fetch_sub(1);
    return aborted ? Status::Unavailable("transfer aborted") : Status::Internal("never cancelled");
  }
};

TEST(PoolLifecycle, TimeoutCancelsThroughOnCancelAndReportsTimeout) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(1, clock));
  Abortable body;
  OpOptions o;
  o.timeout = std::chrono::milliseconds(500);
  o.retries = 0;
  auto f = pool.submit([&](OpContext& ctx) { return body(ctx); }, o);
  ASSERT_TRUE(testing::eventually([&] { return body.started.load() == 1; }));
  clock->advance(std::chrono::milliseconds(499));
  EXPECT_FALSE(f.wait_for(std::chrono::milliseconds(20)));
  clock->advance(std::chrono::milliseconds(1));
  auto st = f.get();
  EXPECT_EQ(st.code(), Code::kTimeout) << st.to_string();
  EXPECT_EQ(body.cancel_callbacks.load(), 1);
  EXPECT_EQ(pool.metrics().errors_by_code[static_cast<int>(Code::kTimeout)], 1u);
}

TEST(PoolLifecycle, DefaultTimeoutAppliesToInlineRun) {
  auto clock = std::make_shared<ManualClock>();
  PoolOptions po = testing::pool_options(1, clock);
  po.default_timeout = std::chrono::milliseconds(100);
  OperationPool pool(po);
  Abortable body;
  std::thread advancer([&] {
    ASSERT_TRUE(testing::eventually([&] { return body.started.load() == 1; }));
    clock->advance(std::chrono::milliseconds(100));
  });
  OpOptions o;
  o.retries = 0;
  Status st = pool.run([&](OpContext& ctx) { return body(ctx); }, o);
  advancer.join();
  EXPECT_EQ(st.code(), Code::kTimeout);
  EXPECT_EQ(body.cancel_callbacks.load(), 1);
}

TEST(PoolLifecycle, TimedOutAttemptReturnsBeforeItsRetryStarts) {
  auto clock = std::make_shared<ManualClock>();
  PoolOptions po = testing::pool_options(4, clock);
  po.backoff.base = std::chrono::milliseconds(0);  // retry immediately after the timeout
  OperationPool pool(po);
  Abortable body;
  OpOptions o;
  o.timeout = std::chrono::milliseconds(50);
  o.retries = 2;
  auto f = pool.submit([&](OpContext& ctx) { return body(ctx); }, o);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_TRUE(testing::eventually([&] { return body.started.load() == attempt; })) << attempt;
    clock->advance(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(f.get().code(), Code::kTimeout);
  EXPECT_EQ(body.max_running.load(), 1);  // never an attempt beside its own retry
  EXPECT_EQ(body.cancel_callbacks.load(), 3);
  EXPECT_EQ(pool.stats().retries, 2u);
}

TEST(PoolLifecycle, DeadlineCoversQueueWait) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(1, clock));
  pool.pause();
  OpOptions o;
  o.deadline = clock->now() + std::chrono::seconds(1);
  std::atomic<int> ran{0};
  auto f = pool.submit(
      [&](OpContext&) {
        ran.fetch_add(1);
        return Status::OK();
      },
      o);
  clock->advance(std::chrono::seconds(1));
  EXPECT_EQ(f.get().code(), Code::kTimeout);  // expired in the queue, while paused
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(pool.stats().queue_size, 0u);
}

// Fixed 100 ms backoff, for deadline arithmetic.
class Fixed100 final : public RetryPolicy {
 public:
  int max_retries() const noexcept override { return 10; }
  std::chrono::milliseconds delay(const Status&, int, std::uint64_t) const noexcept override {
    return std::chrono::milliseconds(100);
  }
};

TEST(PoolLifecycle, DeadlineCoversAttemptsAndBackoff) {
  auto clock = std::make_shared<ManualClock>();
  PoolOptions po = testing::pool_options(1, clock);
  po.retry_policy = std::make_shared<Fixed100>();
  OperationPool pool(po);
  const TimePoint t0 = clock->now();
  OpOptions o;
  o.deadline = t0 + std::chrono::milliseconds(250);
  std::atomic<int> calls{0};
  std::atomic<std::int64_t> last_ctx_deadline_ms{-1};
  auto f = pool.submit(
      [&](OpContext& ctx) {
        last_ctx_deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ctx.deadline() - t0).count();
        calls.fetch_add(1);
        return Status::Unavailable("503");
      },
      o);
  // Attempts at t=0 and t=100; the backoff after the attempt at t=200 would end at 300 > 250,
  // so the op ends right then with Timeout instead of sleeping past its deadline.
  for (int k = 1; k <= 2; ++k) {
    ASSERT_TRUE(testing::eventually([&] { return pool.stats().retries == static_cast<std::uint64_t>(k); }));
    clock->advance(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(f.get().code(), Code::kTimeout);
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(last_ctx_deadline_ms.load(), 250);  // the attempt saw the op's deadline
  EXPECT_EQ(clock->now(), t0 + std::chrono::milliseconds(200));
}

TEST(PoolLifecycle, RunningAttemptCancelledAtDeadline) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(1, clock));
  Abortable body;
  OpOptions o;
  o.deadline = clock->now() + std::chrono::milliseconds(200);
  o.timeout = std::chrono::milliseconds(5000);  // the deadline comes first
  auto f = pool.submit([&](OpContext& ctx) { return body(ctx); }, o);
  ASSERT_TRUE(testing::eventually([&] { return body.started.load() == 1; }));
  clock->advance(std::chrono::milliseconds(200));
  EXPECT_EQ(f.get().code(), Code::kTimeout);
  EXPECT_EQ(body.started.load(), 1);  // no retry past the deadline
}

TEST(PoolLifecycle, SubmitAfterStopIsCancelledButNotInsideSubmit) {
  OperationPool pool(testing::pool_options(1));
  pool.stop();
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> completed_on_caller{false};
  std::atomic<int> completions{0};
  auto sub = pool.on(PoolEvent::kTaskError, [&](const EventInfo& e) {
    EXPECT_EQ(e.status->code(), Code::kCancelled);
    if (std::this_thread::get_id() == caller) completed_on_caller = true;
    completions.fetch_add(1);
  });
  std::atomic<int> ran{0};
  auto f = pool.submit([&](OpContext&) {
    ran.fetch_add(1);
    return Status::OK();
  });
  EXPECT_EQ(f.get().code(), Code::kCancelled);
  EXPECT_FALSE(completed_on_caller.load());
  EXPECT_EQ(completions.load(), 1);
  EXPECT_EQ(ran.load(), 0);
  EXPECT_TRUE(pool.stats().stopped);
  EXPECT_EQ(pool.run([](OpContext&) { return Status::OK(); }).code(), Code::kCancelled);
}

TEST(PoolLifecycle, CompletionNeverInsideSubmit) {
  OperationPool pool(testing::pool_options(2));
  const auto caller = std::this_thread::get_id();
  std::atomic<int> on_caller{0};
  auto sub = pool.on(PoolEvent::kTaskCompleted, [&](const EventInfo&) {
    if (std::this_thread::get_id() == caller) on_caller.fetch_add(1);
  });
  OpOptions bypass;
  bypass.bypass = true;
  std::vector<Future<void>> fs;
  for (int i = 0; i < 200; ++i) fs.push_back(pool.submit([](OpContext&) { return Status::OK(); }, i % 2 ? bypass : OpOptions{}));
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(on_caller.load(), 0);
}

TEST(PoolLifecycle, SlotReleasedBeforeCompletionSoCompletionCanSubmit) {
  OperationPool pool(testing::pool_options(1));
  std::promise<int> inner_result;
  auto inner_future = inner_result.get_future();
  auto f = pool.submit([](OpContext&) -> Result<int> { return 1; });
  f.then([&](Result<int> r) {
    // Runs on the pool's only worker; with the slot still held this would deadlock.
    auto g = pool.submit([v = *r](OpContext&) -> Result<int> { return v + 1; });
    auto r2 = g.get();
    inner_result.set_value(r2.ok() ? *r2 : -1);
  });
  ASSERT_EQ(inner_future.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_EQ(inner_future.get(), 2);
}

TEST(PoolLifecycle, StopCancelsRunningAndRejectsQueued) {
  OperationPool pool(testing::pool_options(2));
  Abortable body;
  std::vector<Future<void>> running, queued;
  for (int i = 0; i < 2; ++i) running.push_back(pool.submit([&](OpContext& ctx) { return body(ctx); }));
  ASSERT_TRUE(testing::eventually([&] { return body.started.load() == 2; }));
  std::atomic<int> queued_ran{0};
  for (int i = 0; i < 5; ++i) {
    queued.push_back(pool.submit([&](OpContext&) {
      queued_ran.fetch_add(1);
      return Status::OK();
    }));
  }
  std::atomic<int> stopped_events{0};
  auto sub = pool.on(PoolEvent::kStopped, [&](const EventInfo&) { stopped_events.fetch_add(1); });
  pool.stop();
  for (auto& f : running) EXPECT_EQ(f.get().code(), Code::kCancelled);
  for (auto& f : queued) EXPECT_EQ(f.get().code(), Code::kCancelled);
  EXPECT_EQ(body.cancel_callbacks.load(), 2);
  EXPECT_EQ(queued_ran.load(), 0);
  EXPECT_EQ(stopped_events.load(), 1);
  pool.stop();  // idempotent
  EXPECT_EQ(stopped_events.load(), 1);
}

TEST(PoolLifecycle, StopRejectsOpsWaitingInBackoff) {
  auto clock = std::make_shared<ManualClock>();
  PoolOptions po = testing::pool_options(1, clock);
  po.retry_policy = std::make_shared<Fixed100>();  // a jittered delay could be 0
  OperationPool pool(po);
  auto f = pool.submit([](OpContext&) { return Status::Unavailable("503"); });
  ASSERT_TRUE(testing::eventually([&] { return pool.stats().retries == 1; }));
  EXPECT_FALSE(f.ready());
  pool.stop();
  EXPECT_EQ(f.get().code(), Code::kCancelled);
}

TEST(PoolLifecycle, DrainWhilePausedWithEmptyQueueReturns) {
  OperationPool pool(testing::pool_options(1));
  pool.pause();
  pool.drain();  // must not hang
  EXPECT_TRUE(pool.drain_for(std::chrono::milliseconds(0)));
  EXPECT_TRUE(pool.stats().paused);
}

TEST(PoolLifecycle, DrainWhilePausedWithQueuedWorkWaitsForResume) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(1, clock));
  pool.pause();
  auto f = pool.submit([](OpContext&) { return Status::OK(); });
  std::atomic<bool> drained{false};
  std::thread t([&] {
    pool.drain();
    drained = true;
  });
  // drain() blocks on a condition variable, not a loop: the op stays queued, nothing runs.
  EXPECT_FALSE(f.wait_for(std::chrono::milliseconds(20)));
  EXPECT_FALSE(drained.load());
  pool.resume();
  t.join();
  EXPECT_TRUE(drained.load());
  EXPECT_TRUE(f.ready());
}

TEST(PoolLifecycle, DrainForTimesOutOnTheInjectedClock) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(1, clock));
  pool.pause();
  auto f = pool.submit([](OpContext&) { return Status::OK(); });
  std::atomic<int> result{-1};
  std::thread t([&] { result = pool.drain_for(std::chrono::seconds(5)) ? 1 : 0; });
  EXPECT_FALSE(f.wait_for(std::chrono::milliseconds(20)));
  EXPECT_EQ(result.load(), -1);
  clock->advance(std::chrono::seconds(5));
  t.join();
  EXPECT_EQ(result.load(), 0);
  pool.resume();
  EXPECT_TRUE(pool.drain_for(std::chrono::seconds(5)) || f.wait_for(std::chrono::seconds(30)));
}

TEST(PoolLifecycle, PauseResumeEvents) {
  OperationPool pool(testing::pool_options(1));
  std::vector<std::string> seen;
  std::mutex mu;
  auto record = [&](const EventInfo& e) {
    std::lock_guard<std::mutex> g(mu);
    seen.emplace_back(event_name(e.event));
  };
  auto s1 = pool.on(PoolEvent::kPaused, record);
  auto s2 = pool.on(PoolEvent::kResumed, record);
  pool.pause();
  pool.pause();  // no second event
  pool.resume();
  pool.resume();
  EXPECT_EQ(seen, (std::vector<std::string>{"paused", "resumed"}));
}

}  // namespace
}  // namespace s3db
