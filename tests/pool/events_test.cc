// Events: payloads, unsubscription, throwing listeners, drained and concurrency_changed.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

struct Recorder {
  std::mutex mu;
  std::vector<EventInfo> events;
  std::vector<Code> codes;
  std::vector<std::string> reasons;
  EventListener listener() {
    return [this](const EventInfo& e) {
      std::lock_guard<std::mutex> g(mu);
      events.push_back(e);
      codes.push_back(e.status ? e.status->code() : Code::kOk);
      reasons.emplace_back(e.reason);
    };
  }
  std::size_t count(PoolEvent ev) {
    std::lock_guard<std::mutex> g(mu);
    std::size_t n = 0;
    for (auto& e : events) n += e.event == ev;
    return n;
  }
};

class ZeroDelay final : public RetryPolicy {
 public:
  int max_retries() const noexcept override { return 3; }
  std::chrono::milliseconds delay(const Status&, int, std::uint64_t) const noexcept override {
    return std::chrono::milliseconds(0);
  }
};

TEST(PoolEvents, EventNames) {
  EXPECT_EQ(event_name(PoolEvent::kTaskStarted), "task_started");
  EXPECT_EQ(event_name(PoolEvent::kTaskCompleted), "task_completed");
  EXPECT_EQ(event_name(PoolEvent::kTaskError), "task_error");
  EXPECT_EQ(event_name(PoolEvent::kTaskRetry), "task_retry");
  EXPECT_EQ(event_name(PoolEvent::kDrained), "drained");
  EXPECT_EQ(event_name(PoolEvent::kPaused), "paused");
  EXPECT_EQ(event_name(PoolEvent::kResumed), "resumed");
  EXPECT_EQ(event_name(PoolEvent::kStopped), "stopped");
  EXPECT_EQ(event_name(PoolEvent::kConcurrencyChanged), "concurrency_changed");
}

TEST(PoolEvents, TaskLifecycleEventsCarryTheirFields) {
  PoolOptions po = testing::pool_options(1);
  po.retry_policy = std::make_shared<ZeroDelay>();
  OperationPool pool(po);
  Recorder rec;
  std::vector<Subscription> subs;
  for (auto ev : {PoolEvent::kTaskStarted, PoolEvent::kTaskCompleted, PoolEvent::kTaskError, PoolEvent::kTaskRetry}) {
    subs.push_back(pool.on(ev, rec.listener()));
  }
  OpOptions o;
  o.priority = 7;
  auto f = pool.submit([](OpContext& ctx) { return ctx.attempt() == 1 ? Status::Throttled("x") : Status::OK(); }, o);
  EXPECT_TRUE(f.get().ok());
  auto g = pool.submit([](OpContext&) { return Status::NotFound("y"); });
  EXPECT_EQ(g.get().code(), Code::kNotFound);
  pool.drain();
  std::lock_guard<std::mutex> lk(rec.mu);
  // f: started(1), retry, started(2), completed; g: started, error.
  ASSERT_EQ(rec.events.size(), 6u);
  EXPECT_EQ(rec.events[0].event, PoolEvent::kTaskStarted);
  EXPECT_EQ(rec.events[0].priority, 7);
  EXPECT_EQ(rec.events[0].attempt, 1);
  EXPECT_EQ(rec.events[1].event, PoolEvent::kTaskRetry);
  EXPECT_EQ(rec.codes[1], Code::kThrottled);
  EXPECT_EQ(rec.events[1].task_id, rec.events[0].task_id);
  EXPECT_EQ(rec.events[2].event, PoolEvent::kTaskStarted);
  EXPECT_EQ(rec.events[2].attempt, 2);
  EXPECT_EQ(rec.events[3].event, PoolEvent::kTaskCompleted);
  EXPECT_EQ(rec.events[3].attempt, 2);
  EXPECT_EQ(rec.events[4].event, PoolEvent::kTaskStarted);
  EXPECT_NE(rec.events[4].task_id, rec.events[0].task_id);
  EXPECT_EQ(rec.events[5].event, PoolEvent::kTaskError);
  EXPECT_EQ(rec.codes[5], Code::kNotFound);
}

TEST(PoolEvents, ThrowingListenerDoesNotBreakThePool) {
  OperationPool pool(testing::pool_options(2));
  std::atomic<int> after{0};
  auto bad = pool.on(PoolEvent::kTaskStarted, [](const EventInfo&) { throw std::runtime_error("listener bug"); });
  auto bad2 = pool.on(PoolEvent::kTaskCompleted, [](const EventInfo&) { throw 42; });
  auto good = pool.on(PoolEvent::kTaskCompleted, [&](const EventInfo&) { after.fetch_add(1); });
  std::vector<Future<int>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(pool.submit([i](OpContext&) -> Result<int> { return i; }));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(*fs[i].get(), i);
  EXPECT_EQ(pool.run([](OpContext&) -> Result<int> { return 3; }).value(), 3);
  pool.drain();
  EXPECT_EQ(after.load(), 21);  // a later listener still ran every time
}

TEST(PoolEvents, UnsubscribeStopsDelivery) {
  OperationPool pool(testing::pool_options(1));
  std::atomic<int> n{0};
  Subscription sub = pool.on(PoolEvent::kTaskCompleted, [&](const EventInfo&) { n.fetch_add(1); });
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(n.load(), 1);
  sub.reset();
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(n.load(), 1);
  {
    Subscription scoped = pool.on(PoolEvent::kTaskCompleted, [&](const EventInfo&) { n.fetch_add(10); });
    EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  }
  EXPECT_TRUE(pool.run([](OpContext&) { return Status::OK(); }).ok());
  EXPECT_EQ(n.load(), 11);
}

TEST(PoolEvents, DrainedFiresWhenTheLastOpCompletes) {
  OperationPool pool(testing::pool_options(2));
  Recorder rec;
  auto sub = pool.on(PoolEvent::kDrained, rec.listener());
  pool.pause();
  std::vector<Future<void>> fs;
  for (int i = 0; i < 5; ++i) fs.push_back(pool.submit([](OpContext&) { return Status::OK(); }));
  EXPECT_EQ(rec.count(PoolEvent::kDrained), 0u);
  pool.resume();
  pool.drain();
  EXPECT_TRUE(testing::eventually([&] { return rec.count(PoolEvent::kDrained) >= 1; }));
  for (auto& f : fs) EXPECT_TRUE(f.ready());
}

TEST(PoolEvents, ConcurrencyChangedCarriesOldNewAndReason) {
  OperationPool pool(testing::pool_options(4));
  Recorder rec;
  auto sub = pool.on(PoolEvent::kConcurrencyChanged, rec.listener());
  pool.set_concurrency(9);
  pool.set_concurrency(9);  // no change, no event
  pool.set_concurrency(2);
  std::lock_guard<std::mutex> g(rec.mu);
  ASSERT_EQ(rec.events.size(), 2u);
  EXPECT_EQ(rec.events[0].old_concurrency, 4);
  EXPECT_EQ(rec.events[0].new_concurrency, 9);
  EXPECT_EQ(rec.reasons[0], "set_concurrency");
  EXPECT_EQ(rec.events[1].old_concurrency, 9);
  EXPECT_EQ(rec.events[1].new_concurrency, 2);
}

TEST(PoolEvents, ListenerMaySubscribeAndCallThePool) {
  OperationPool pool(testing::pool_options(1));
  std::vector<Subscription> extra;
  std::atomic<std::uint64_t> seen_processed{0};
  auto sub = pool.on(PoolEvent::kTaskCompleted, [&](const EventInfo&) {
    seen_processed = pool.stats().processed;  // no pool lock is held while listeners run
  });
  EXPECT_TRUE(pool.submit([](OpContext&) { return Status::OK(); }).get().ok());
  pool.drain();
  EXPECT_EQ(seen_processed.load(), 1u);
}

}  // namespace
}  // namespace s3db
