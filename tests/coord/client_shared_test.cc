// ClientOptions::shared: Client::open joins a limit shared through Redis (coord::SharedLimit) —
// the pool runs at most its permits, the state is visible, errors at open are one clear status
// without the password.
#include <s3db/client.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "private_redis.h"

namespace s3db::coord {
namespace {

using namespace std::chrono_literals;
using testing::PrivateRedis;
using testing::within;

TEST(ClientSharedLimit, OpenJoinsItAndThePoolRunsAtMostItsPermits) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  ClientOptions o;
  o.shared.redis_url = redis.url();
  o.shared.key = "client";
  o.shared.global_concurrency = 3;
  auto client = Client::open("memory://", o);
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  OperationPool& pool = (*client)->pool();
  EXPECT_TRUE((*client)->shared_limit().joined);
  std::atomic<bool> open{false};
  std::vector<Future<void>> fs;
  for (int i = 0; i < 10; ++i) {
    fs.push_back(pool.submit([&](OpContext&) {
      while (!open.load()) std::this_thread::sleep_for(1ms);
      return Status::OK();
    }));
  }
  EXPECT_TRUE(within(10s, [&] { return pool.stats().active == 3; }));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(pool.stats().active, 3u) << "the global 3, not the local 50";
  EXPECT_EQ((*client)->shared_limit().held, 3);
  open = true;
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ((*client)->join_shared_limit(o.shared).code(), Code::kInvalidArgument) << "once per client";
  // A second client (another process, as far as Redis knows) shares the same 3.
  auto other = Client::open("memory://", o);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(Client::wrap((*other)->storage_ptr())->shared_limit().joined) << "wrap joins nothing";
}

TEST(ClientSharedLimit, AnUnreachableRedisFailsOpenWithoutItsPassword) {
  ClientOptions o;
  o.shared.redis_url = "redis://user:S3cr%3Ft%40x@127.0.0.1:1/0";  // nobody listens on port 1
  o.shared.global_concurrency = 4;
  auto c = Client::open("memory://", o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kUnavailable);
  const std::string m = c.status().to_string();
  EXPECT_NE(m.find("redis://user:***@127.0.0.1:1/0"), std::string::npos) << m;
  EXPECT_EQ(m.find("S3cr"), std::string::npos) << m;
  o.shared.global_concurrency = 0;
  EXPECT_EQ(Client::open("memory://", o).status().code(), Code::kInvalidArgument) << "a limit of 0";
}

// The connection string carries the same settings (redis=, global_concurrency=, rate_get=, …);
// ClientOptions::shared wins field by field where it is set.
TEST(ClientSharedLimit, TheConnectionStringJoinsAndTheCallersFieldsWin) {
  const std::string secret = "p?a@s/s%w:0rd";
  PrivateRedis redis(secret, /*tcp=*/true);
  REQUIRE_REDIS(redis);
  // The whole Redis URL as one query value.
  const std::string uri = "memory://?redis=" + testing::percent_encoded(redis.tcp_url()) +
                          "&redis_key=url&global_concurrency=2&rate_get=500";
  auto client = Client::open(uri);
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  OperationPool& pool = (*client)->pool();
  std::atomic<bool> open{false};
  std::vector<Future<void>> fs;
  for (int i = 0; i < 6; ++i) {
    fs.push_back(pool.submit([&](OpContext&) {
      while (!open.load()) std::this_thread::sleep_for(1ms);
      return Status::OK();
    }));
  }
  EXPECT_TRUE(within(10s, [&] { return pool.stats().active == 2; }));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(pool.stats().active, 2u) << "global_concurrency=2 from the URL";
  open = true;
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_TRUE((*client)->shared_limit().shared);
  ASSERT_TRUE((*client)->get("nothing").status().code() == Code::kNotFound);
  EXPECT_EQ((*client)->shared_limit().rate_requests, 1u) << "rate_get=500 from the URL";

  ClientOptions o;
  o.shared.global_concurrency = 1;  // wins over the URL's 2
  auto other = Client::open(uri, o);
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  open = false;
  fs.clear();
  for (int i = 0; i < 4; ++i) {
    fs.push_back((*other)->pool().submit([&](OpContext&) {
      while (!open.load()) std::this_thread::sleep_for(1ms);
      return Status::OK();
    }));
  }
  EXPECT_TRUE(within(10s, [&] { return (*other)->pool().stats().active == 1; }));
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ((*other)->pool().stats().active, 1u) << "the caller's 1";
  open = true;
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
}

// A process forked from one that holds permits inherits none of them: its own Client is another
// holder, and the two together never run more than the limit.
TEST(ClientSharedLimit, AProcessForkedFromAHolderGetsNoneOfItsPermits) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer cannot run a child that starts threads after a multi-threaded fork; "
                  "the release and ASan runs cover this test";
#endif
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  struct Board {
    std::atomic<int> running{0}, max_running{0}, child_started{0};
    std::atomic<bool> open{false};
  };
  testing::SharedWithChildren<Board> shared;
  Board* board = shared.get();
  auto op = [board](OpContext&) {
    const int now = board->running.fetch_add(1) + 1;
    for (int seen = board->max_running.load(); now > seen && !board->max_running.compare_exchange_weak(seen, now);) {
    }
    while (!board->open.load()) std::this_thread::sleep_for(1ms);
    board->running.fetch_sub(1);
    return Status::OK();
  };
  ClientOptions o;
  o.shared.redis_url = redis.url();
  o.shared.key = "forked";
  o.shared.global_concurrency = 4;
  auto parent = Client::open("memory://", o);
  ASSERT_TRUE(parent.ok()) << parent.status().to_string();
  std::vector<Future<void>> fs;
  for (int i = 0; i < 4; ++i) fs.push_back((*parent)->pool().submit(op));
  ASSERT_TRUE(within(10s, [&] { return board->running.load() == 4; })) << "the parent holds all 4";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto child = Client::open("memory://", o);
    if (!child.ok()) ::_exit(2);
    std::vector<Future<void>> mine;
    for (int i = 0; i < 2; ++i) {
      mine.push_back((*child)->pool().submit([&](OpContext& ctx) {
        board->child_started.fetch_add(1);
        return op(ctx);
      }));
    }
    int rc = 0;
    for (auto& f : mine) rc |= f.get().ok() ? 0 : 3;
    ::_exit(rc);
  }
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(board->child_started.load(), 0) << "the child waits: the parent's permits are not its own";
  board->open = true;
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_EQ(testing::reap(pid, 60s), 0);
  EXPECT_EQ(board->child_started.load(), 2);
  EXPECT_LE(board->max_running.load(), 4);
}

// Without a key, the store's location names the limits: clients of one prefix share them, clients
// of another prefix have their own (S3 counts per prefix).
TEST(ClientSharedLimit, WithoutAKeyEachStoreLocationHasItsOwnLimits) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  ClientOptions o;
  o.shared.redis_url = redis.url();
  o.shared.global_concurrency = 1;
  auto a = Client::open("memory://bucket/one", o), same = Client::open("memory://bucket/one", o),
       other = Client::open("memory://bucket/two", o);
  ASSERT_TRUE(a.ok() && same.ok() && other.ok());
  std::atomic<bool> open{false};
  std::atomic<int> started{0};
  auto blocking = [&](OpContext&) {
    ++started;
    while (!open.load()) std::this_thread::sleep_for(1ms);
    return Status::OK();
  };
  auto fa = (*a)->pool().submit(blocking);
  ASSERT_TRUE(within(10s, [&] { return started.load() == 1; }));
  auto fo = (*other)->pool().submit(blocking);
  EXPECT_TRUE(within(10s, [&] { return started.load() == 2; })) << "another prefix: its own permit";
  auto fs = (*same)->pool().submit(blocking);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(started.load(), 2) << "the same prefix: the one permit is taken";
  open = true;
  for (auto* f : {&fa, &fo, &fs}) EXPECT_TRUE(f->get().ok());
  EXPECT_EQ(started.load(), 3);
}

}  // namespace
}  // namespace s3db::coord
