// ClientOptions::shared: Client::open joins a limit shared through Redis (coord::SharedLimit) —
// the pool runs at most its permits, the state is visible, errors at open are one clear status
// without the password.
#include <s3db/client.h>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace s3db::coord
