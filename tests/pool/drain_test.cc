// drain()/drain_for() called from inside the pool — an op (inline run() or on a worker), a then()
// continuation (on a worker or on the timer thread), an event listener: each waits for every
// other op and returns. Each of these deadlocked before (the caller's own op counted as in
// flight); every scenario runs under a watchdog so that a regression fails instead of hanging.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "pool_test_util.h"
#include "support/gate.h"

namespace s3db {
namespace {

using namespace std::chrono_literals;

using testing::Gate;  // opened by the test; an op waits at it (bounded)

// What a scenario shares with the pool's threads.
struct Scene {
  explicit Scene(PoolOptions o) : pool(std::move(o)) {}
  OperationPool pool;
  Gate gate;                              // holds the "other" op
  std::atomic<bool> draining{false};      // the inside drain has started
  std::atomic<bool> returned{false};      // ... and returned
  std::atomic<bool> other_done{false};    // the other op completed
  std::atomic<bool> other_done_at_return{false};
  std::atomic<int> drain_for_result{-1};

  // The op the inside drain must wait for.
  Status other(OpContext&) {
    gate.wait();
    other_done = true;
    return Status::OK();
  }
  // The body of every inside drain.
  void drain_inside() {
    draining = true;
    pool.drain();
    other_done_at_return = other_done.load();
    returned = true;
  }
  // Submits other() and an op that drains inside; returns once that drain has begun.
  std::pair<Future<void>, Future<void>> start_other_and_inside_drain() {
    auto o = pool.submit([this](OpContext& c) { return other(c); });
    auto d = pool.submit([this](OpContext&) {
      drain_inside();
      return Status::OK();
    });
    testing::eventually([&] { return draining.load(); });
    return {std::move(o), std::move(d)};
  }
};

// Runs `body` on a thread of its own and waits for it up to a generous bound of real time. A
// deadlocked thread cannot be stopped (and would hang the process's exit on the condition
// variables it waits on), so a deadlock reports the failure and ends the process at once.
void within_bound(const char* what, std::function<void()> body) {
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  std::thread runner([body = std::move(body), done] {
    body();
    done->set_value();
  });
  if (finished.wait_for(60s) != std::future_status::ready) {
    ADD_FAILURE() << what << " deadlocked (no progress in 60 s); ending the test process";
    std::fflush(stdout);
    std::_Exit(1);
  }
  runner.join();
}

TEST(PoolDrainInside, FromAWorkerOpWaitsForTheOtherOpsThenReturns) {
  Scene s(testing::pool_options(2));
  within_bound("drain() inside an op", [&] {
    auto [other, drainer] = s.start_other_and_inside_drain();
    ASSERT_TRUE(s.draining.load());
    EXPECT_FALSE(s.returned.load());  // the other op still runs
    s.gate.open();
    EXPECT_TRUE(drainer.get().ok());
    EXPECT_TRUE(other.get().ok());
  });
  EXPECT_TRUE(s.returned.load());
  EXPECT_TRUE(s.other_done_at_return.load());
}

TEST(PoolDrainInside, FromAnInlineRunWithConcurrencyOneLendsTheSlotToQueuedWork) {
  Scene s(testing::pool_options(1));
  within_bound("drain() inside an inline run()", [&] {
    // run() on an idle pool takes the fast path: the op runs here, holding the only slot.
    Status st = s.pool.run([&](OpContext&) {
      auto queued = s.pool.submit([&](OpContext& c) { return s.other(c); });
      s.gate.open();  // the queued op may complete as soon as it gets a slot
      s.drain_inside();
      EXPECT_TRUE(queued.ready());
      return Status::OK();
    });
    EXPECT_TRUE(st.ok()) << st.to_string();
  });
  EXPECT_TRUE(s.other_done_at_return.load());
  EXPECT_EQ(s.pool.stats().active, 0u);  // the lent slot came back and was released once
  EXPECT_EQ(s.pool.stats().processed, 2u);
}

TEST(PoolDrainInside, FromAWorkerOpWithConcurrencyOneLendsTheSlotToQueuedWork) {
  Scene s(testing::pool_options(1));
  within_bound("drain() inside a worker op", [&] {
    auto drainer = s.pool.submit([&](OpContext&) {
      auto queued = s.pool.submit([&](OpContext& c) { return s.other(c); });
      s.gate.open();
      s.drain_inside();
      return queued.ready() ? Status::OK() : Status::Internal("drain returned before the queued op");
    });
    Status st = drainer.get();
    EXPECT_TRUE(st.ok()) << st.to_string();
    s.pool.drain();
  });
  EXPECT_TRUE(s.other_done_at_return.load());
  EXPECT_EQ(s.pool.stats().active, 0u);
}

TEST(PoolDrainInside, FromAThenContinuation) {
  Scene s(testing::pool_options(2));
  within_bound("drain() inside a then() continuation", [&] {
    auto other = s.pool.submit([&](OpContext& c) { return s.other(c); });
    Gate first;
    auto f = s.pool.submit([&](OpContext&) {
      first.wait();
      return Status::OK();
    });
    f.then([&](Status) { s.drain_inside(); });  // installed before the op completes
    first.open();
    ASSERT_TRUE(testing::eventually([&] { return s.draining.load(); }));
    EXPECT_FALSE(s.returned.load());
    s.gate.open();
    ASSERT_TRUE(testing::eventually([&] { return s.returned.load(); }));
    s.pool.drain();  // from outside: waits for the continuation's op too
  });
  EXPECT_TRUE(s.other_done_at_return.load());
}

// A continuation run by the timer thread (an op whose deadline passed while queued) drains while
// another op waits out a retry backoff: only the timer thread can end that backoff.
TEST(PoolDrainInside, FromAContinuationOnTheTimerThreadWhichKeepsServingTimers) {
  auto clock = std::make_shared<ManualClock>();
  Scene s(testing::pool_options(2, clock));
  std::atomic<int> attempts{0};
  within_bound("drain() inside a timer-thread continuation", [&] {
    auto retried = s.pool.submit([&](OpContext&) {
      return ++attempts == 1 ? Status::Unavailable("first attempt fails") : Status::OK();
    });
    ASSERT_TRUE(testing::eventually([&] { return s.pool.stats().retries == 1; }));  // in backoff
    auto h1 = s.pool.submit([&](OpContext& c) { return s.other(c); });
    auto h2 = s.pool.submit([&](OpContext& c) { return s.other(c); });
    ASSERT_TRUE(testing::eventually([&] { return s.pool.stats().active == 2; }));
    OpOptions o;
    o.deadline = clock->now() + 10ms;
    auto expiring = s.pool.submit([](OpContext&) { return Status::OK(); }, o);
    std::atomic<int> code{-1};
    expiring.then([&](Status st) {
      code = static_cast<int>(st.code());
      s.drain_inside();
    });
    clock->advance(10ms);  // the queued op expires: its continuation runs on the timer thread
    ASSERT_TRUE(testing::eventually([&] { return s.draining.load(); }));
    EXPECT_EQ(code.load(), static_cast<int>(Code::kTimeout));
    s.gate.open();
    ASSERT_TRUE(testing::eventually([&] { return s.pool.stats().active == 0; }));
    clock->advance(60s);  // past any backoff: the draining timer thread must fire it
    ASSERT_TRUE(testing::eventually([&] { return s.returned.load(); }));
    EXPECT_TRUE(retried.get().ok());
  });
  EXPECT_EQ(attempts.load(), 2);
  EXPECT_TRUE(s.other_done_at_return.load());
}

TEST(PoolDrainInside, DrainForFromAnOpOnTheInjectedClock) {
  auto clock = std::make_shared<ManualClock>();
  Scene s(testing::pool_options(2, clock));
  within_bound("drain_for() inside an op", [&] {
    auto other = s.pool.submit([&](OpContext& c) { return s.other(c); });
    // Times out while the other op runs...
    auto first = s.pool.submit([&](OpContext&) {
      s.draining = true;
      s.drain_for_result = s.pool.drain_for(100ms) ? 1 : 0;
      return Status::OK();
    });
    ASSERT_TRUE(testing::eventually([&] { return s.draining.load(); }));
    clock->advance(100ms);
    EXPECT_TRUE(first.get().ok());
    EXPECT_EQ(s.drain_for_result.load(), 0);
    // ... and returns true, well before its timeout, once only the caller is left.
    s.drain_for_result = -1;
    auto second = s.pool.submit([&](OpContext&) {
      s.gate.open();
      s.drain_for_result = s.pool.drain_for(1h) ? 1 : 0;
      return Status::OK();
    });
    EXPECT_TRUE(second.get().ok());
    EXPECT_EQ(s.drain_for_result.load(), 1);
    EXPECT_TRUE(other.ready());
  });
}

TEST(PoolDrainInside, TwoOpsDrainingAtOnceBothReturn) {
  Scene s(testing::pool_options(2));
  std::atomic<int> draining{0}, returned{0};
  within_bound("two ops draining from inside", [&] {
    auto body = [&](OpContext&) {
      ++draining;
      // Each waits for the other, which waits in drain() too: neither can finish first.
      s.pool.drain();
      ++returned;
      return Status::OK();
    };
    auto a = s.pool.submit(body);
    auto b = s.pool.submit(body);
    EXPECT_TRUE(a.get().ok());
    EXPECT_TRUE(b.get().ok());
  });
  EXPECT_EQ(returned.load(), 2);
}

TEST(PoolDrainInside, FromAnEventListener) {
  Scene s(testing::pool_options(2));
  within_bound("drain() inside an event listener", [&] {
    auto other = s.pool.submit([&](OpContext& c) { return s.other(c); });
    std::atomic<bool> once{false};
    Subscription sub = s.pool.on(PoolEvent::kTaskCompleted, [&](const EventInfo&) {
      if (!once.exchange(true)) s.drain_inside();
    });
    auto f = s.pool.submit([](OpContext&) { return Status::OK(); });
    ASSERT_TRUE(testing::eventually([&] { return s.draining.load(); }));
    s.gate.open();
    EXPECT_TRUE(f.get().ok());
    EXPECT_TRUE(other.get().ok());
    s.pool.drain();
    sub.reset();
  });
  EXPECT_TRUE(s.other_done_at_return.load());
}

TEST(PoolDrainInside, DrainFromOutsideStillWaitsForOpsDrainingInside) {
  Scene s(testing::pool_options(2));
  within_bound("drain() from outside while an op drains inside", [&] {
    auto [other, drainer] = s.start_other_and_inside_drain();
    ASSERT_TRUE(s.draining.load());
    std::atomic<bool> outside_returned{false};
    std::thread outside([&] {
      s.pool.drain();
      outside_returned = true;
    });
    EXPECT_FALSE(outside_returned.load());
    s.gate.open();
    outside.join();
    EXPECT_TRUE(drainer.ready());  // the outside drain returned only after the draining op ended
    EXPECT_TRUE(other.ready());
  });
}

}  // namespace
}  // namespace s3db
