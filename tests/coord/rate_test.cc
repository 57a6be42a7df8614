// Request-rate caps (s3db/shared_limit.h: rate_put, rate_get): the bucket in Redis, the gate
// every request passes, a Client capped alone, and 4 processes sharing one cap through Redis.
#include <s3db/client.h>

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "coord/rate_bucket.h"
#include "coord/rate_gate.h"
#include "private_redis.h"

namespace s3db::coord {
namespace {

using namespace std::chrono_literals;
using testing::PrivateRedis;
using testing::within;
using Seconds = std::chrono::duration<double>;

// "k<n>" (built by appending: g++ 12 warns falsely about "k" + std::to_string(n) inlined in a loop).
std::string key(int n) {
  std::string k = "k";
  k += std::to_string(n);
  return k;
}

PutRequest put_request(std::string key) {
  PutRequest r;
  r.key = std::move(key);
  r.body = "v";
  return r;
}

// ---- the bucket in Redis -------------------------------------------------------------------

// 4 takers against 50/s with a burst of 10 get, over about a second, the burst plus the rate —
// never more — and each taker gets some.
TEST(RateBucketTest, TakersTogetherGetTheBurstPlusTheRateAndNoMore) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  constexpr double kRate = 50, kBurst = 10;
  std::atomic<int> granted{0};
  std::vector<int> mine(4, 0);
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + 1s;
  std::vector<std::thread> takers;
  for (int i = 0; i < 4; ++i) {
    takers.emplace_back([&, i] {
      RateBucket b(redis.connect(), "s3db:rate:put", kRate, kBurst);
      while (std::chrono::steady_clock::now() < until) {
        auto grant = b.take(3);
        ASSERT_TRUE(grant.ok()) << grant.status().to_string();
        granted += grant->granted;
        mine[static_cast<std::size_t>(i)] += grant->granted;
        if (grant->granted == 0) std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(grant->wait, 50ms));
      }
    });
  }
  for (auto& t : takers) t.join();
  const double seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  EXPECT_LE(granted.load(), static_cast<int>(kBurst + kRate * seconds) + 1) << seconds << " s";
  EXPECT_GE(granted.load(), static_cast<int>(kBurst)) << "the burst at least";
  for (int m : mine) EXPECT_GT(m, 0);
}

TEST(RateBucketTest, ItGrantsWhatItHoldsUpToTheAskAndSaysWhenTheNextIsDue) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  RateBucket b(redis.connect(), "s3db:rate:get", 10, 2);  // 10/s: a token every 100 ms
  auto first = b.take(5);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->granted, 2) << "the burst, not the 5 asked";
  auto empty = b.take(1);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->granted, 0);
  EXPECT_GE(empty->wait.count(), 1);
  EXPECT_LE(empty->wait.count(), 100);
  EXPECT_EQ(b.take(0).status().code(), Code::kInvalidArgument);
}

// ---- the gate --------------------------------------------------------------------------------

TEST(RateGateTest, LocallyTheNthRequestComesNoSoonerThanTheRateAllows) {
  RateGate gate(200);  // a token every 5 ms, a burst of 2
  OpContext ctx;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) ASSERT_TRUE(gate.take(ctx).ok());
  const double seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(seconds, (40 - 2) / 200.0 - 0.001);
  EXPECT_EQ(gate.stats().requests, 40u);
  EXPECT_GE(gate.stats().waits, 30u);
}

// A token due after the attempt's deadline is refused at once and not reserved.
TEST(RateGateTest, ATokenDueAfterTheDeadlineIsTimeoutAtOnceAndNotTaken) {
  RateGate gate(1);  // one a second
  OperationPool pool(PoolOptions{});
  OpOptions o;
  o.retries = 0;
  o.timeout = 200ms;
  EXPECT_TRUE(pool.run([&](OpContext& ctx) { return gate.take(ctx); }, o).ok());
  const auto start = std::chrono::steady_clock::now();
  Status late = pool.run([&](OpContext& ctx) { return gate.take(ctx); }, o);
  EXPECT_EQ(late.code(), Code::kTimeout) << late.to_string();
  EXPECT_NE(late.to_string().find("rate cap"), std::string::npos) << late.to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 150ms) << "refused at once, not after waiting";
  EXPECT_EQ(gate.stats().requests, 1u) << "the refused request took nothing";
}

TEST(RateGateTest, FedItWaitsForTheCoordinatorsTokensOneEach) {
  RateGate gate(10);
  gate.set_fed();
  std::atomic<int> starved{0}, passed{0};
  gate.set_on_starved([&] { ++starved; });
  std::vector<std::thread> ts;
  std::vector<Status> results(3);
  for (int i = 0; i < 3; ++i) {
    ts.emplace_back([&, i] {
      OpContext ctx;
      results[static_cast<std::size_t>(i)] = gate.take(ctx);
      if (results[static_cast<std::size_t>(i)].ok()) ++passed;
    });
  }
  ASSERT_TRUE(within(5s, [&] { return gate.want() == 3; })) << "three wait";
  EXPECT_EQ(starved.load(), 1) << "the coordinator is called once, by the first to find it empty";
  gate.feed(2);
  ASSERT_TRUE(within(5s, [&] { return passed.load() == 2; }));
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(passed.load(), 2) << "one token, one request";
  gate.set_local(1000);  // Redis away: the last one goes on the local schedule
  for (auto& t : ts) t.join();
  EXPECT_EQ(passed.load(), 3);
  for (const Status& st : results) EXPECT_TRUE(st.ok()) << st.to_string();
}

TEST(RateGateTest, AWaitForAFedTokenEndsWithTheAttemptsCancellation) {
  RateGate gate(10);
  gate.set_fed();
  OpContext ctx;
  Status st;
  std::thread t([&] { st = gate.take(ctx); });
  ASSERT_TRUE(within(5s, [&] { return gate.stats().waits == 1; }));
  ctx.cancel(Status::Cancelled("test"));
  t.join();
  EXPECT_EQ(st.code(), Code::kCancelled);
  EXPECT_EQ(gate.stats().requests, 0u);
}

// ---- a Client capped alone (no Redis) --------------------------------------------------------

// Writes and reads have their own caps, and every request counts — not every pool op.
TEST(ClientRateCap, WithoutRedisItCapsThisProcessAndOnlyTheRequestsOfItsKind) {
  ClientOptions o;
  o.shared.rate_get = 100;
  auto client = Client::open("memory://", o);
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  EXPECT_TRUE((*client)->shared_limit().joined);
  EXPECT_FALSE((*client)->shared_limit().shared);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*client)->put(put_request(key(i))).ok());
  EXPECT_EQ((*client)->shared_limit().rate_requests, 0u) << "writes are not capped by rate_get";
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) EXPECT_TRUE((*client)->get(key(t * 10 + i)).ok());
    });
  }
  for (auto& t : ts) t.join();
  const double seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  EXPECT_GE(seconds, (40 - 1) / 100.0 - 0.001) << "40 gets at 100/s";
  EXPECT_EQ((*client)->shared_limit().rate_requests, 40u);
  EXPECT_GT((*client)->shared_limit().rate_waits, 0u);
}

// ---- 4 processes sharing one cap through Redis -----------------------------------------------

struct Tally {
  std::atomic<int> ready{0};
  std::atomic<long> start_ns{0};
  std::atomic<int> in_window[4];
};

// The proof: 4 processes, each able to go far faster, under one shared cap of R gets/s;
// over 10 s together they stay within R ± 10 %.
TEST(SharedRate, FourProcessesTogetherStayWithinTheSharedRate) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  constexpr int kProcs = 4;
  constexpr double kRate = 400;
  constexpr auto kWindow = 10s;
  testing::SharedWithChildren<Tally> shared;
  Tally* tally = shared.get();
  std::vector<pid_t> kids;
  for (int k = 0; k < kProcs; ++k) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      {
        ClientOptions o;
        o.shared.redis_url = redis.url();
        o.shared.key = "four";
        o.shared.rate_get = kRate;
        auto client = Client::open("memory://", o);
        if (!client.ok()) ::_exit(2);
        (void)(*client)->put(put_request("x"));
        tally->ready.fetch_add(1);
        while (tally->start_ns.load() == 0) std::this_thread::sleep_for(1ms);
        const auto start = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(tally->start_ns.load()));
        std::vector<std::thread> ts;
        for (int t = 0; t < 8; ++t) {
          ts.emplace_back([&] {
            while (std::chrono::steady_clock::now() < start + kWindow) {
              auto got = (*client)->get("x");
              if (!got.ok()) {
                rc = 3;
                return;
              }
              if (std::chrono::steady_clock::now() <= start + kWindow) tally->in_window[k].fetch_add(1);
            }
          });
        }
        for (auto& t : ts) t.join();
      }
      ::_exit(rc);
    }
    kids.push_back(pid);
  }
  ASSERT_TRUE(within(60s, [&] { return tally->ready.load() == kProcs; }));
  tally->start_ns = std::chrono::steady_clock::now().time_since_epoch().count();
  for (pid_t pid : kids) EXPECT_EQ(testing::reap(pid, 120s), 0);
  int total = 0;
  for (int k = 0; k < kProcs; ++k) total += tally->in_window[k].load();
  const double seconds = std::chrono::duration<double>(kWindow).count();
  std::printf("4 processes under a shared %.0f gets/s: %d in %.0f s = %.1f/s (%.1f %% of the cap); per process",
              kRate, total, seconds, total / seconds, 100.0 * total / (kRate * seconds));
  for (int k = 0; k < kProcs; ++k) std::printf(" %d", tally->in_window[k].load());
  std::printf("\n");
  EXPECT_LE(total, kRate * seconds * 1.1);
  EXPECT_GE(total, kRate * seconds * 0.9);
  for (int k = 0; k < kProcs; ++k) EXPECT_GT(tally->in_window[k].load(), 0) << "process " << k;
}

// Redis away: the local share of the rate, an event that says why without the password, and the
// shared bucket again once Redis is back.
TEST(SharedRate, RedisAwayRunsOnTheLocalShareWithAnEventAndResumes) {
  const std::string secret = "p?a@s/s%w:0rd";
  PrivateRedis redis(secret, /*tcp=*/true);
  REQUIRE_REDIS(redis);
  std::mutex mu;
  std::vector<SharedLimitEvent> events;
  ClientOptions o;
  o.shared.redis_url = redis.tcp_url();
  o.shared.key = "away";
  o.shared.rate_get = 1000;
  o.shared.on_event = [&](const SharedLimitEvent& e) {
    std::lock_guard<std::mutex> g(mu);
    events.push_back(e);
  };
  auto client = Client::open("memory://", o);
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  ASSERT_TRUE((*client)->put(put_request("x")).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::thread load([&] {
    while (!stop.load()) ((*client)->get("x").ok() ? ok : failed)++;
  });
  ASSERT_TRUE(within(10s, [&] { return ok.load() > 50; }));
  redis.kill_server();
  ASSERT_TRUE(within(10s, [&] { return (*client)->shared_limit().fallback; }));
  const int before = ok.load();
  EXPECT_TRUE(within(10s, [&] { return ok.load() > before + 50; })) << "the local share keeps it going";
  redis.restart();
  ASSERT_TRUE(redis.up());
  EXPECT_TRUE(within(10s, [&] { return !(*client)->shared_limit().fallback; })) << "shared mode resumed";
  const int resumed = ok.load();
  EXPECT_TRUE(within(10s, [&] { return ok.load() > resumed + 50; }));
  stop = true;
  load.join();
  EXPECT_EQ(failed.load(), 0);
  std::lock_guard<std::mutex> g(mu);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0].kind, SharedLimitEvent::Kind::kFallback);
  EXPECT_EQ(events[1].kind, SharedLimitEvent::Kind::kResumed);
  for (const auto& e : events) {
    for (std::size_t i = 0; i + 4 <= secret.size(); ++i) {
      EXPECT_EQ(e.message.find(secret.substr(i, 4)), std::string::npos) << e.message;
    }
    EXPECT_NE(e.message.find("127.0.0.1"), std::string::npos) << "it names where: " << e.message;
  }
}

}  // namespace
}  // namespace s3db::coord
