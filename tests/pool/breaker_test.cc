// The circuit breaker wired into the pool (PoolOptions::breaker): every attempt asks it first, every
// outcome is reported to it; refused ops fail fast, or wait (wait_when_open) until it half-opens.
// ManualClock and a scripted store: nothing depends on how fast the machine is.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cctype>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

using namespace std::chrono_literals;
using Move = std::pair<BreakerState, BreakerState>;
constexpr auto kClosed = BreakerState::kClosed;
constexpr auto kOpen = BreakerState::kOpen;
constexpr auto kHalfOpen = BreakerState::kHalfOpen;

// The store: answers with `answer`, counts the requests it saw; `hold` makes requests wait.
struct Store {
  std::atomic<Code> answer{Code::kOk};
  std::atomic<int> calls{0};
  std::atomic<int> held{0};
  std::shared_future<void> hold;  // when valid, each request waits for it

  auto op() {
    return [this](OpContext&) -> Status {
      calls.fetch_add(1);
      if (hold.valid()) {
        held.fetch_add(1);
        hold.wait();
      }
      const Code c = answer.load();
      return c == Code::kOk ? Status::OK() : Status(c, "scripted store");
    };
  }
};

struct Moves {
  std::mutex mu;
  std::vector<Move> seen;
  std::vector<TimePoint> open_until;
  EventListener listener() {
    return [this](const EventInfo& e) {
      std::lock_guard<std::mutex> g(mu);
      seen.emplace_back(e.breaker_from, e.breaker_to);
      open_until.push_back(e.open_until);
    };
  }
  std::vector<Move> get() {
    std::lock_guard<std::mutex> g(mu);
    return seen;
  }
  bool reached(std::size_t n) {
    return testing::eventually([&] { return get().size() >= n; });
  }
};

PoolOptions breaker_pool(int concurrency, std::shared_ptr<ManualClock> clock, bool wait_when_open = false) {
  PoolOptions o = testing::pool_options(concurrency, std::move(clock));
  o.backoff.max_retries = 0;  // one attempt per op: the counts below are requests
  o.breaker.enabled = true;
  o.breaker.threshold = 0.5;
  o.breaker.min_volume = 4;
  o.breaker.window = 10s;
  o.breaker.open_timeout = 30s;
  o.breaker.half_open_probes = 2;
  o.breaker.wait_when_open = wait_when_open;
  return o;
}

// A breaker pool in front of the scripted store, its transitions recorded. The store outlives the
// pool (ops still running at the pool's end use it).
struct Scene {
  explicit Scene(int concurrency, bool wait_when_open = false, int probes = 2)
      : pool([&] {
          PoolOptions o = breaker_pool(concurrency, clock, wait_when_open);
          o.breaker.half_open_probes = probes;
          return o;
        }()),
        sub(pool.on(PoolEvent::kBreakerChanged, moves.listener())) {}
  std::shared_ptr<ManualClock> clock = std::make_shared<ManualClock>();
  Store store;
  Moves moves;
  OperationPool pool;
  Subscription sub;
};

// "circuit open until 2026-01-02T03:04:05.678Z" followed by `then` (std::regex would do, but GCC 12
// warns inside it under ASan).
bool says_open_until(const std::string& message, const std::string& then) {
  const std::string lead = "circuit open until ";
  const std::string shape = "dddd-dd-ddTdd:dd:dd.dddZ";
  const std::size_t at = message.find(lead);
  if (at == std::string::npos || message.size() < at + lead.size() + shape.size()) return false;
  const std::string stamp = message.substr(at + lead.size(), shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const bool ok = shape[i] == 'd' ? std::isdigit(static_cast<unsigned char>(stamp[i])) != 0 : stamp[i] == shape[i];
    if (!ok) return false;
  }
  return message.compare(at + lead.size() + shape.size(), then.size(), then) == 0;
}

// Opens the circuit: 4 unhealthy answers of 4.
void trip(Scene& sc) {
  sc.store.answer = Code::kUnavailable;
  for (int i = 0; i < 4; ++i) ASSERT_EQ(sc.pool.submit(sc.store.op()).get().code(), Code::kUnavailable);
  sc.store.answer = Code::kOk;
}

TEST(PoolBreaker, ClosedOpenHalfOpenClosedThroughThePool) {
  Scene sc(2);
  // Answers that are not about health never open it.
  sc.store.answer = Code::kNotFound;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(sc.pool.submit(sc.store.op()).get().code(), Code::kNotFound);
  EXPECT_EQ(sc.pool.stats().breaker_state, kClosed);
  sc.clock->advance(11s);  // those healthy answers leave the 10 s window

  trip(sc);
  ASSERT_TRUE(sc.moves.reached(1));
  PoolStats s = sc.pool.stats();
  EXPECT_TRUE(s.breaker_enabled);
  EXPECT_EQ(s.breaker_state, kOpen);
  EXPECT_EQ(s.breaker_opened, 1u);
  EXPECT_EQ(s.breaker_refused, 0u);
  {
    std::lock_guard<std::mutex> g(sc.moves.mu);
    EXPECT_EQ(sc.moves.open_until.at(0), sc.clock->now() + 30s);
  }

  // Open: the store is spared; the answer comes at once and says until when.
  const int before = sc.store.calls.load();
  Status refused = sc.pool.submit(sc.store.op()).get();
  EXPECT_EQ(refused.code(), Code::kUnavailable);
  EXPECT_NE(refused.message().find("circuit open until"), std::string::npos) << refused.message();
  ASSERT_TRUE(refused.retry_after());
  EXPECT_EQ(*refused.retry_after(), 30s);
  sc.clock->advance(29s);
  EXPECT_EQ(sc.pool.submit(sc.store.op()).get().code(), Code::kUnavailable);
  EXPECT_EQ(sc.store.calls.load(), before);
  s = sc.pool.stats();
  EXPECT_EQ(s.breaker_refused, 2u);
  EXPECT_EQ(s.retries, 0u);  // a refusal is final: never retried into the open circuit

  // The timeout passes: half-open is reported on time, with no request needed.
  sc.clock->advance(1s);
  ASSERT_TRUE(sc.moves.reached(2));
  EXPECT_EQ(sc.pool.stats().breaker_state, kHalfOpen);
  // Two healthy probes close it.
  EXPECT_TRUE(sc.pool.submit(sc.store.op()).get().ok());
  EXPECT_TRUE(sc.pool.submit(sc.store.op()).get().ok());
  ASSERT_TRUE(sc.moves.reached(3));
  EXPECT_EQ(sc.store.calls.load(), before + 2);
  EXPECT_EQ(sc.moves.get(), (std::vector<Move>{{kClosed, kOpen}, {kOpen, kHalfOpen}, {kHalfOpen, kClosed}}));
  s = sc.pool.stats();
  EXPECT_EQ(s.breaker_state, kClosed);
  EXPECT_EQ(s.breaker_opened, 1u);
  EXPECT_EQ(s.processed, 10u + 4u + 2u + 2u);
}

TEST(PoolBreaker, UnhealthyProbeReopensItOnTheInlinePath) {
  Scene sc(2);
  sc.store.answer = Code::kTimeout;
  for (int i = 0; i < 4; ++i) ASSERT_EQ(sc.pool.run(sc.store.op()).code(), Code::kTimeout);  // run(): inline
  ASSERT_TRUE(sc.moves.reached(1));
  const Status fast = sc.pool.run(sc.store.op());
  EXPECT_EQ(fast.code(), Code::kUnavailable);
  // "circuit open until <ISO-8601 UTC> (in 30.0 s)": a reader sees when, on the wall clock.
  EXPECT_TRUE(says_open_until(fast.message(), " (in 30.0 s)")) << fast.message();
  EXPECT_EQ(sc.store.calls.load(), 4);

  sc.clock->advance(30s);
  ASSERT_TRUE(sc.moves.reached(2));
  sc.store.answer = Code::kThrottled;
  EXPECT_EQ(sc.pool.run(sc.store.op()).code(), Code::kThrottled);  // the probe reaches the store, fails
  ASSERT_TRUE(sc.moves.reached(3));
  EXPECT_EQ(sc.store.calls.load(), 5);
  EXPECT_EQ(sc.moves.get(), (std::vector<Move>{{kClosed, kOpen}, {kOpen, kHalfOpen}, {kHalfOpen, kOpen}}));
  const PoolStats s = sc.pool.stats();
  EXPECT_EQ(s.breaker_state, kOpen);
  EXPECT_EQ(s.breaker_opened, 2u);
  // A full timeout again, counted from the failed probe.
  sc.store.answer = Code::kOk;
  sc.clock->advance(29s);
  EXPECT_EQ(sc.pool.run(sc.store.op()).code(), Code::kUnavailable);
  EXPECT_EQ(sc.store.calls.load(), 5);
  sc.clock->advance(1s);
  EXPECT_TRUE(sc.pool.run(sc.store.op()).ok());
  EXPECT_TRUE(sc.pool.run(sc.store.op()).ok());
  ASSERT_TRUE(sc.moves.reached(5));
  EXPECT_EQ(sc.moves.get().back(), Move(kHalfOpen, kClosed));
}

TEST(PoolBreaker, WaitingOpsRunOnceHalfOpenWithoutHoldingASlot) {
  Scene sc(4, /*wait_when_open=*/true);
  trip(sc);
  ASSERT_TRUE(sc.moves.reached(1));
  // Three submitted ops and one run() (inline path) wait; two probes are allowed, then it closes.
  std::vector<Future<void>> waiting;
  for (int i = 0; i < 3; ++i) waiting.push_back(sc.pool.submit(sc.store.op()));
  Status inline_result = Status::Internal("not run");
  std::thread runner([&] { inline_result = sc.pool.run(sc.store.op()); });
  // All four refused, and then none holds a slot or sits in the queue: they are parked.
  ASSERT_TRUE(testing::eventually([&] {
    const PoolStats s = sc.pool.stats();
    return s.breaker_refused >= 4 && s.active == 0 && s.queue_size == 0;
  }));
  for (auto& f : waiting) EXPECT_FALSE(f.ready());
  EXPECT_EQ(sc.store.calls.load(), 4);

  sc.clock->advance(30s);
  for (auto& f : waiting) EXPECT_TRUE(f.get().ok());
  runner.join();
  EXPECT_TRUE(inline_result.ok()) << inline_result.to_string();
  EXPECT_EQ(sc.store.calls.load(), 8);
  ASSERT_TRUE(sc.moves.reached(3));
  EXPECT_EQ(sc.moves.get(), (std::vector<Move>{{kClosed, kOpen}, {kOpen, kHalfOpen}, {kHalfOpen, kClosed}}));
  EXPECT_EQ(sc.pool.stats().breaker_state, kClosed);
}

TEST(PoolBreaker, WaitingOpsEndAtTheirDeadline) {
  Scene sc(4, /*wait_when_open=*/true, /*probes=*/1);
  trip(sc);
  // A deadline before the circuit can half-open: no point waiting, it ends now.
  OpOptions soon;
  soon.deadline = sc.clock->now() + 10s;
  Status early = sc.pool.submit(sc.store.op(), soon).get();
  EXPECT_EQ(early.code(), Code::kTimeout);
  EXPECT_NE(early.message().find("before the circuit half-opens"), std::string::npos) << early.message();

  // Half-open with its one probe held by the store: an op waits for the probe's verdict — until its
  // deadline.
  sc.clock->advance(30s);
  std::promise<void> release;
  sc.store.hold = release.get_future().share();
  auto probe = sc.pool.submit(sc.store.op());
  ASSERT_TRUE(testing::eventually([&] { return sc.store.held.load() == 1; }));
  OpOptions later;
  later.deadline = sc.clock->now() + 10s;
  auto waiter = sc.pool.submit(sc.store.op(), later);
  ASSERT_TRUE(testing::eventually([&] { return sc.pool.stats().breaker_refused >= 2; }));
  sc.clock->advance(9s);
  EXPECT_FALSE(waiter.wait_for(20ms));
  sc.clock->advance(1s);
  Status late = waiter.get();
  EXPECT_EQ(late.code(), Code::kTimeout);
  EXPECT_NE(late.message().find("waiting for the circuit breaker"), std::string::npos) << late.message();
  release.set_value();
  EXPECT_TRUE(probe.get().ok());
  EXPECT_EQ(sc.store.calls.load(), 5);  // 4 that tripped it + the probe
  EXPECT_EQ(sc.pool.stats().breaker_state, kClosed);
}

TEST(PoolBreaker, StopCancelsWaitingOps) {
  Scene sc(2, /*wait_when_open=*/true);
  trip(sc);
  auto waiting = sc.pool.submit(sc.store.op());
  Status inline_result;
  std::thread runner([&] { inline_result = sc.pool.run(sc.store.op()); });
  ASSERT_TRUE(testing::eventually([&] { return sc.pool.stats().breaker_refused >= 2; }));
  sc.pool.stop();
  EXPECT_EQ(waiting.get().code(), Code::kCancelled);
  runner.join();
  EXPECT_EQ(inline_result.code(), Code::kCancelled);
  EXPECT_EQ(sc.store.calls.load(), 4);
  sc.pool.drain();  // nothing left in flight
}

TEST(PoolBreaker, StateInMetricsAndPrometheusOnlyWhenOn) {
  Scene sc(1);
  trip(sc);
  (void)sc.pool.submit(sc.store.op()).get();  // refused
  const std::string text = sc.pool.prometheus();
  EXPECT_NE(text.find("s3db_pool_breaker_state{pool=\"s3db\",state=\"open\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("s3db_pool_breaker_state{pool=\"s3db\",state=\"closed\"} 0"), std::string::npos);
  EXPECT_NE(text.find("s3db_pool_breaker_opened_total{pool=\"s3db\"} 1"), std::string::npos);
  EXPECT_NE(text.find("s3db_pool_breaker_refused_total{pool=\"s3db\"} 1"), std::string::npos);
  EXPECT_EQ(text.find("s3db_pool_retry_budget"), std::string::npos);
  const PoolMetrics m = sc.pool.metrics();
  EXPECT_TRUE(m.breaker.enabled);
  EXPECT_EQ(m.breaker.state, BreakerState::kOpen);
  EXPECT_EQ(m.breaker.opened, 1u);
  EXPECT_EQ(m.breaker.refused, 1u);
  EXPECT_FALSE(m.retry_budget.enabled);

  OperationPool plain(testing::pool_options(1, sc.clock));
  EXPECT_EQ(plain.prometheus().find("breaker"), std::string::npos);
  EXPECT_FALSE(plain.stats().breaker_enabled);
  EXPECT_FALSE(plain.metrics().breaker.enabled);
  EXPECT_EQ(event_name(PoolEvent::kBreakerChanged), "breaker_changed");
}

}  // namespace
}  // namespace s3db
