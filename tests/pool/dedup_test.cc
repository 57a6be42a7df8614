// Operation deduplication (OpOptions::dedup_key, dedup_ttl): one execution per key in flight,
// joiners' own deadlines, stop(), TTL reuse on the ManualClock, type and key separation.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "pool_test_util.h"

namespace s3db {
namespace {

using std::chrono::milliseconds;

// An op body that counts its calls and blocks until open() (bounded: ~10 s of real time), so that
// later submissions find it in flight.
class Gate {
 public:
  void open() {
    std::lock_guard<std::mutex> g(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void pass() {
    calls_.fetch_add(1);
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait_for(lk, std::chrono::seconds(10), [&] { return open_; });
  }
  int calls() const { return calls_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  std::atomic<int> calls_{0};
};

OpOptions keyed(std::string key, milliseconds ttl = milliseconds(0)) {
  OpOptions o;
  o.dedup_key = std::move(key);
  o.dedup_ttl = ttl;
  return o;
}

TEST(PoolDedup, HundredConcurrentIdenticalReadsRunOnce) {
  OperationPool pool(testing::pool_options(8));
  Gate gate;
  auto read = [&gate](OpContext&) -> Result<std::string> {
    gate.pass();
    return std::string("the record");
  };
  std::vector<Future<std::string>> futures;
  futures.push_back(pool.submit(read, keyed("users:1")));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 1; }));
  std::mutex mu;
  std::vector<std::thread> threads;
  std::vector<Result<std::string>> ran;  // run()'s joiners: the synchronous form
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto f = pool.submit(read, keyed("users:1"));
        std::lock_guard<std::mutex> g(mu);
        futures.push_back(std::move(f));
      }
    });
  }
  for (int t = 0; t < 19; ++t) {
    threads.emplace_back([&] {
      auto r = pool.run(read, keyed("users:1"));
      std::lock_guard<std::mutex> g(mu);
      ran.push_back(std::move(r));
    });
  }
  EXPECT_TRUE(testing::eventually([&] { return pool.stats().deduplicated == 99; }));
  {
    std::lock_guard<std::mutex> g(mu);
    for (auto& f : futures) EXPECT_FALSE(f.ready());
  }
  gate.open();
  for (auto& th : threads) th.join();
  ASSERT_EQ(futures.size(), 81u);
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    EXPECT_EQ(*r, "the record");
  }
  ASSERT_EQ(ran.size(), 19u);
  for (auto& r : ran) EXPECT_EQ(r.value(), "the record");
  EXPECT_EQ(gate.calls(), 1);
  pool.drain();
  const PoolStats s = pool.stats();
  EXPECT_EQ(s.deduplicated, 99u);
  EXPECT_EQ(s.processed, 100u);  // every joiner still completes once
}

// dedup_idle() says when invalidate_dedup() has nothing to do (writers then skip building their
// prefix): false while a keyed op is in flight or its result is kept, true once neither is.
TEST(PoolDedup, IdleWhileNoKeyIsInFlightOrKept) {
  OperationPool pool(testing::pool_options(2));
  EXPECT_TRUE(pool.dedup_idle());
  Gate gate;
  auto read = [&gate](OpContext&) -> Result<int> {
    gate.pass();
    return 7;
  };
  auto leader = pool.submit(read, keyed("users:1"));
  EXPECT_FALSE(pool.dedup_idle());
  (void)pool.run([](OpContext&) { return Status::OK(); });  // an op without a key changes nothing
  EXPECT_FALSE(pool.dedup_idle());
  gate.open();
  EXPECT_EQ(leader.get().value(), 7);
  EXPECT_TRUE(testing::eventually([&] { return pool.dedup_idle(); }));
  auto kept = pool.run(read, keyed("users:2", milliseconds(60000)));  // a result kept for its TTL
  EXPECT_EQ(kept.value(), 7);
  EXPECT_FALSE(pool.dedup_idle());
  pool.invalidate_dedup("users:");
  EXPECT_TRUE(pool.dedup_idle());
}

TEST(PoolDedup, JoinersGetTheLeadersError) {
  OperationPool pool(testing::pool_options(4));
  Gate gate;
  auto failing = [&gate](OpContext&) -> Result<int> {
    gate.pass();
    return Status::InvalidArgument("bad request", "detail 7");
  };
  auto leader = pool.submit(failing, keyed("k"));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 1; }));
  std::vector<Future<int>> joiners;
  for (int i = 0; i < 5; ++i) joiners.push_back(pool.submit(failing, keyed("k")));
  gate.open();
  EXPECT_EQ(leader.get().status().code(), Code::kInvalidArgument);
  for (auto& f : joiners) {
    auto r = f.get();
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.status().to_string(), Status::InvalidArgument("bad request", "detail 7").to_string());
  }
  EXPECT_EQ(gate.calls(), 1);
  pool.drain();
  EXPECT_EQ(pool.stats().errors, 6u);
}

TEST(PoolDedup, VoidOpsShareToo) {
  OperationPool pool(testing::pool_options(4));
  Gate gate;
  auto op = [&gate](OpContext&) -> Status {
    gate.pass();
    return Status();
  };
  auto leader = pool.submit(op, keyed("v"));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 1; }));
  auto joiner = pool.submit(op, keyed("v"));
  gate.open();
  EXPECT_TRUE(leader.get().ok());
  EXPECT_TRUE(joiner.get().ok());
  EXPECT_EQ(gate.calls(), 1);
}

TEST(PoolDedup, JoinersEmitNoTaskStarted) {
  OperationPool pool(testing::pool_options(4));
  std::atomic<int> started{0}, completed{0};
  auto s1 = pool.on(PoolEvent::kTaskStarted, [&](const EventInfo&) { started.fetch_add(1); });
  auto s2 = pool.on(PoolEvent::kTaskCompleted, [&](const EventInfo&) { completed.fetch_add(1); });
  Gate gate;
  auto op = [&gate](OpContext&) -> Result<int> {
    gate.pass();
    return 1;
  };
  auto leader = pool.submit(op, keyed("e"));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 1; }));
  auto j1 = pool.submit(op, keyed("e"));
  auto j2 = pool.submit(op, keyed("e"));
  gate.open();
  EXPECT_EQ(j1.get().value(), 1);
  EXPECT_EQ(j2.get().value(), 1);
  pool.drain();
  EXPECT_EQ(started.load(), 1);
  EXPECT_EQ(completed.load(), 3);
}

TEST(PoolDedup, DifferentKeysDoNotShare) {
  OperationPool pool(testing::pool_options(4));
  Gate gate;
  auto a = pool.submit([&](OpContext&) -> Result<int> { gate.pass(); return 1; }, keyed("a"));
  auto b = pool.submit([&](OpContext&) -> Result<int> { gate.pass(); return 2; }, keyed("b"));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 2; }));
  gate.open();
  EXPECT_EQ(a.get().value(), 1);
  EXPECT_EQ(b.get().value(), 2);
  EXPECT_EQ(pool.stats().deduplicated, 0u);
}

TEST(PoolDedup, SameKeyOtherResultTypeRunsAlone) {
  OperationPool pool(testing::pool_options(4));
  Gate gate;
  auto n = pool.submit([&](OpContext&) -> Result<int> { gate.pass(); return 7; }, keyed("t"));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 1; }));
  auto s = pool.submit([&](OpContext&) -> Result<std::string> { gate.pass(); return std::string("seven"); },
                       keyed("t"));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 2; }));
  gate.open();
  EXPECT_EQ(n.get().value(), 7);
  EXPECT_EQ(s.get().value(), "seven");
  EXPECT_EQ(pool.stats().deduplicated, 0u);
}

TEST(PoolDedup, MoveOnlyResultsAreNeverShared) {
  OperationPool pool(testing::pool_options(4));
  std::atomic<int> calls{0};
  auto op = [&](OpContext&) -> Result<std::unique_ptr<int>> {
    calls.fetch_add(1);
    return std::make_unique<int>(3);
  };
  auto a = pool.submit(op, keyed("m"));
  auto b = pool.run(op, keyed("m"));
  EXPECT_EQ(*a.get().value(), 3);
  EXPECT_EQ(*b.value(), 3);
  EXPECT_EQ(calls.load(), 2);
}

TEST(PoolDedup, TtlReusesAResultUntilItExpires) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(4, clock));
  std::atomic<int> calls{0};
  auto op = [&](OpContext&) -> Result<int> { return calls.fetch_add(1) + 1; };
  EXPECT_EQ(pool.run(op, keyed("r", milliseconds(1000))).value(), 1);
  clock->advance(milliseconds(999));
  EXPECT_EQ(pool.submit(op, keyed("r", milliseconds(1000))).get().value(), 1);  // reused
  EXPECT_EQ(pool.run(op, keyed("r", milliseconds(5000))).value(), 1);           // the shorter TTL holds
  EXPECT_EQ(pool.run(op, keyed("r")).value(), 2);  // no TTL of its own: never reuses; runs, keeps nothing
  EXPECT_EQ(pool.run(op, keyed("r", milliseconds(1000))).value(), 3);
  clock->advance(milliseconds(999));
  EXPECT_EQ(pool.run(op, keyed("r", milliseconds(1000))).value(), 3);  // reused
  clock->advance(milliseconds(1));
  EXPECT_EQ(pool.run(op, keyed("r", milliseconds(1000))).value(), 4);  // expired: runs again
  EXPECT_EQ(calls.load(), 4);
  EXPECT_EQ(pool.stats().deduplicated, 3u);
}

TEST(PoolDedup, TtlReusesNotFoundButNeverAFailureOfThePath) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(4, clock));
  std::atomic<int> calls{0};
  auto missing = [&](OpContext&) -> Result<int> {
    calls.fetch_add(1);
    return Status::NotFound("record", "none");
  };
  EXPECT_EQ(pool.run(missing, keyed("nf", milliseconds(100))).status().code(), Code::kNotFound);
  EXPECT_EQ(pool.run(missing, keyed("nf", milliseconds(100))).status().code(), Code::kNotFound);
  EXPECT_EQ(calls.load(), 1);
  for (Code code : {Code::kUnavailable, Code::kTimeout, Code::kCancelled, Code::kUnknownOutcome}) {
    calls = 0;
    auto failing = [&](OpContext&) -> Result<int> {
      calls.fetch_add(1);
      return Status(code, "path failure");
    };
    OpOptions o = keyed(std::string(code_name(code)), milliseconds(100));
    o.retries = 0;
    EXPECT_EQ(pool.run(failing, o).status().code(), code);
    EXPECT_EQ(pool.run(failing, o).status().code(), code);
    EXPECT_EQ(calls.load(), 2) << code_name(code);
  }
}

TEST(PoolDedup, AJoinerTimesOutAtItsOwnDeadlineWhileTheLeaderRunsOn) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(4, clock));
  Gate gate;
  auto op = [&gate](OpContext&) -> Result<int> {
    gate.pass();
    return 5;
  };
  auto leader = pool.submit(op, keyed("d"));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 1; }));
  OpOptions o = keyed("d");
  o.deadline = clock->now() + milliseconds(100);
  auto joiner = pool.submit(op, o);
  auto patient = pool.submit(op, keyed("d"));
  clock->advance(milliseconds(99));
  EXPECT_FALSE(joiner.wait_for(milliseconds(20)));
  clock->advance(milliseconds(1));
  ASSERT_TRUE(joiner.wait_for(std::chrono::seconds(10)));
  EXPECT_EQ(joiner.get().status().code(), Code::kTimeout);
  EXPECT_FALSE(leader.ready());
  gate.open();
  EXPECT_EQ(leader.get().value(), 5);
  EXPECT_EQ(patient.get().value(), 5);
  EXPECT_EQ(gate.calls(), 1);
}

TEST(PoolDedup, NoJoiningALeaderThatMayGiveUpFirst) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(4, clock));
  Gate gate;
  auto op = [&gate](OpContext&) -> Result<int> {
    gate.pass();
    return 5;
  };
  OpOptions hurried = keyed("h");
  hurried.deadline = clock->now() + milliseconds(100);
  auto leader = pool.submit(op, hurried);
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 1; }));
  auto later = pool.submit(op, keyed("h"));  // no deadline: the leader's could fail it
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 2; }));
  gate.open();
  EXPECT_EQ(leader.get().value(), 5);
  EXPECT_EQ(later.get().value(), 5);
  EXPECT_EQ(pool.stats().deduplicated, 0u);
}

TEST(PoolDedup, StopCancelsJoinersAtOnce) {
  OperationPool pool(testing::pool_options(4));
  Gate gate;  // ignores the cancel: the leader's op returns only when the gate opens
  auto op = [&gate](OpContext&) -> Result<int> {
    gate.pass();
    return 5;
  };
  auto leader = pool.submit(op, keyed("s"));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 1; }));
  auto joiner = pool.submit(op, keyed("s"));
  std::thread runner([&] { EXPECT_EQ(pool.run(op, keyed("s")).status().code(), Code::kCancelled); });
  EXPECT_TRUE(testing::eventually([&] { return pool.stats().deduplicated == 2; }));
  pool.stop();
  EXPECT_TRUE(joiner.ready());  // ended by stop() itself, not by the leader
  EXPECT_EQ(joiner.get().status().code(), Code::kCancelled);
  runner.join();
  EXPECT_EQ(pool.submit(op, keyed("s")).get().status().code(), Code::kCancelled);
  gate.open();
  (void)leader.get();
  EXPECT_EQ(gate.calls(), 1);
}

TEST(PoolDedup, InvalidateSeparatesLaterOpsFromEarlierOnes) {
  auto clock = std::make_shared<ManualClock>();
  OperationPool pool(testing::pool_options(4, clock));
  Gate gate;
  std::atomic<int> version{1};
  auto op = [&](OpContext&) -> Result<int> {
    const int v = version.load();
    gate.pass();
    return v;
  };
  auto before = pool.submit(op, keyed("users:1/get", milliseconds(1000)));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 1; }));
  auto joined = pool.submit(op, keyed("users:1/get", milliseconds(1000)));
  version = 2;  // a write lands...
  pool.invalidate_dedup("users:1/");  // ...and is acknowledged after this
  auto after = pool.submit(op, keyed("users:1/get", milliseconds(1000)));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 2; }));
  gate.open();
  EXPECT_EQ(before.get().value(), 1);
  EXPECT_EQ(joined.get().value(), 1);  // joined before the invalidation: the old result is its
  EXPECT_EQ(after.get().value(), 2);
  pool.drain();
  // The invalidated leader kept no TTL result; the one after did.
  EXPECT_EQ(pool.run(op, keyed("users:1/get", milliseconds(1000))).value(), 2);
  EXPECT_EQ(gate.calls(), 2);
  // Other keys are untouched by a prefix they do not start with.
  pool.invalidate_dedup("users:10");
  EXPECT_EQ(pool.run(op, keyed("users:1/get", milliseconds(1000))).value(), 2);
  EXPECT_EQ(gate.calls(), 2);
}

TEST(PoolDedup, JoinersWaitWithoutASlot) {
  OperationPool pool(testing::pool_options(1));
  Gate gate;
  auto op = [&gate](OpContext&) -> Result<int> {
    gate.pass();
    return 9;
  };
  auto leader = pool.submit(op, keyed("one"));
  ASSERT_TRUE(testing::eventually([&] { return gate.calls() == 1; }));
  std::vector<Future<int>> joiners;
  for (int i = 0; i < 10; ++i) joiners.push_back(pool.submit(op, keyed("one")));
  EXPECT_EQ(pool.stats().queue_size, 0u);
  gate.open();
  for (auto& f : joiners) EXPECT_EQ(f.get().value(), 9);
  EXPECT_EQ(leader.get().value(), 9);
}

}  // namespace
}  // namespace s3db
