// coord::SharedLimit against a private redis-server: one global limit across forked processes
// (the ops themselves count how many run at once), permits following demand, a killed holder's
// permits coming back, a bad URL refused at start.
#include "coord/shared_limit.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <thread>
#include <vector>

#include "private_redis.h"

namespace s3db::coord {
namespace {

using namespace std::chrono_literals;
using testing::PrivateRedis;
using testing::within;

// The user's settings and the coordinator's, shortened for tests.
struct Options {
  SharedLimitConfig config;
  SharedLimitTuning tuning;
};

Options shared(const PrivateRedis& r, const std::string& key, int global) {
  Options o;
  o.config.redis_url = r.url();
  o.config.key = key;
  o.config.global_concurrency = global;
  o.config.lease_ttl = 2000ms;
  o.tuning.tick = 2ms;
  return o;
}

Result<std::unique_ptr<SharedLimit>> start(OperationPool& pool, const Options& o) {
  return SharedLimit::start(pool, o.config, RateGates{}, o.tuning);
}

// Counters shared by forked processes (an anonymous shared mapping).
struct Board {
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::atomic<int> done[8];
};

Board* shared_board() {
  void* m = ::mmap(nullptr, sizeof(Board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  EXPECT_NE(m, MAP_FAILED);
  return new (m) Board();
}

void note_running(Board& b) {
  const int now = b.running.fetch_add(1) + 1;
  int seen = b.max_running.load();
  while (now > seen && !b.max_running.compare_exchange_weak(seen, now)) {
  }
}

// Waits for `pid` at most `limit`; kills it if it is still running. Its exit code, or -1.
int reap(pid_t pid, std::chrono::seconds limit) {
  int status = 0;
  const bool ended = within(limit, [&] { return ::waitpid(pid, &status, WNOHANG) == pid; });
  if (!ended) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(SharedLimitTest, EightProcessesNeverRunMoreThanTheGlobalLimitAtOnce) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  constexpr int kProcs = 8, kOps = 500, kGlobal = 16;
  Board* board = shared_board();
  std::vector<pid_t> kids;
  for (int k = 0; k < kProcs; ++k) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int rc = 0;
      {
        PoolOptions po;
        po.concurrency = kGlobal;  // alone, each would run 16 at once: 128 together
        OperationPool pool(po);
        auto limit = start(pool, shared(redis, "eight", kGlobal));
        if (!limit.ok()) ::_exit(2);
        std::vector<Future<void>> fs;
        for (int i = 0; i < kOps; ++i) {
          fs.push_back(pool.submit([board, k](OpContext&) {
            note_running(*board);
            std::this_thread::sleep_for(200us);
            board->running.fetch_sub(1);
            board->done[k].fetch_add(1);
            return Status::OK();
          }));
        }
        for (auto& f : fs) {
          if (!f.get().ok()) rc = 3;
        }
      }
      ::_exit(rc);
    }
    kids.push_back(pid);
  }
  for (pid_t pid : kids) EXPECT_EQ(reap(pid, 120s), 0);
  std::printf("8 processes x %d ops under a global %d: at most %d ran at once\n", kOps, kGlobal,
              board->max_running.load());
  EXPECT_LE(board->max_running.load(), kGlobal);
  EXPECT_GE(board->max_running.load(), 2) << "the processes did run side by side";
  for (int k = 0; k < kProcs; ++k) EXPECT_EQ(board->done[k].load(), kOps) << "process " << k;
  ::munmap(board, sizeof(Board));
}

TEST(SharedLimitTest, PermitsFollowDemandAndGoBackAtTheEnd) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  PoolOptions po;
  po.concurrency = 50;
  OperationPool pool(po);
  auto limit = start(pool, shared(redis, "demand", 6));
  ASSERT_TRUE(limit.ok()) << limit.status().to_string();
  EXPECT_EQ(pool.stats().cap, 0) << "nothing starts without a permit";
  std::atomic<bool> open{false};
  std::vector<Future<void>> fs;
  for (int i = 0; i < 20; ++i) {
    fs.push_back(pool.submit([&](OpContext&) {
      while (!open.load()) std::this_thread::sleep_for(1ms);
      return Status::OK();
    }));
  }
  EXPECT_TRUE(within(10s, [&] { return pool.stats().active == 6; })) << "the global limit, not the local 50";
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(pool.stats().active, 6u);
  EXPECT_EQ((*limit)->stats().held, 6);
  PermitLeases probe(redis.connect(), "demand", 6, 2000ms, "probe");
  EXPECT_EQ(probe.held_by_all().value(), 6);
  open = true;
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_TRUE(within(10s, [&] { return (*limit)->stats().held == 0; })) << "no demand: permits returned";
  EXPECT_EQ(probe.held_by_all().value(), 0);
  limit->reset();
  EXPECT_EQ(pool.stats().cap, -1) << "the cap goes with the SharedLimit";
}

TEST(SharedLimitTest, AKilledHoldersPermitsComeBackWithinALease) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    OperationPool pool(PoolOptions{});
    auto limit = start(pool, shared(redis, "killed", 4));
    if (!limit.ok()) ::_exit(2);
    for (int i = 0; i < 10; ++i) {
      (void)pool.submit([](OpContext&) {
        std::this_thread::sleep_for(60s);  // holds its permit until killed
        return Status::OK();
      });
    }
    std::this_thread::sleep_for(120s);
    ::_exit(0);
  }
  PermitLeases probe(redis.connect(), "killed", 4, 2000ms, "probe");
  ASSERT_TRUE(within(20s, [&] { return probe.held_by_all().value_or(0) == 4; })) << "the child holds all 4";
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  const auto killed = std::chrono::steady_clock::now();
  // Another process's pool gets them once the leases expire (2 s ttl; bounded at 10 s).
  OperationPool pool(PoolOptions{});
  auto limit = start(pool, shared(redis, "killed", 4));
  ASSERT_TRUE(limit.ok());
  std::vector<Future<void>> fs;
  for (int i = 0; i < 4; ++i) fs.push_back(pool.submit([](OpContext&) { return Status::OK(); }));
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 10s);
}

TEST(SharedLimitTest, RedisKilledMidRunFallsBackToTheLocalShareThenResumes) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  PoolOptions po;
  po.concurrency = 50;
  OperationPool pool(po);
  Options o = shared(redis, "restart", 8);
  o.config.fallback = 3;
  o.tuning.retry = 50ms;
  o.tuning.redis_timeout = 500ms;
  auto limit = start(pool, o);
  ASSERT_TRUE(limit.ok());
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  // A steady load through the whole test: no op may be lost or fail.
  std::thread load([&] {
    while (!stop.load()) {
      std::vector<Future<void>> fs;
      for (int i = 0; i < 20; ++i) {
        fs.push_back(pool.submit([](OpContext&) {
          std::this_thread::sleep_for(std::chrono::microseconds(500));
          return Status::OK();
        }));
      }
      for (auto& f : fs) (f.get().ok() ? ok : failed)++;
    }
  });
  ASSERT_TRUE(within(10s, [&] { return (*limit)->stats().held > 0; }));
  redis.kill_server();
  ASSERT_TRUE(within(10s, [&] { return (*limit)->stats().fallback; })) << "Redis away: the local share";
  const int before = ok.load();
  EXPECT_TRUE(within(10s, [&] { return ok.load() > before + 40; })) << "and the pool keeps working";
  EXPECT_LE(pool.stats().active, 3u);
  EXPECT_EQ(pool.stats().cap, 3);
  redis.restart();
  ASSERT_TRUE(redis.up());
  EXPECT_TRUE(within(10s, [&] { return !(*limit)->stats().fallback && (*limit)->stats().held > 0; }))
      << "shared mode resumed";
  stop = true;
  load.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GE((*limit)->stats().fallbacks, 1u);
}

TEST(SharedLimitTest, ABadUrlOrNobodyListeningIsOneClearErrorAtStart) {
  OperationPool pool(PoolOptions{});
  Options o;
  o.config.redis_url = "redis://user:S3cr%3Ft@127.0.0.1:1/0";  // nobody listens on port 1
  o.config.global_concurrency = 4;
  o.tuning.redis_timeout = 500ms;
  auto r = start(pool, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().to_string();
  EXPECT_EQ(r.status().to_string().find("S3cr"), std::string::npos) << r.status().to_string();
  EXPECT_EQ(pool.stats().cap, -1) << "a failed start leaves the pool alone";
  o.config.redis_url = "http://127.0.0.1:6379";
  EXPECT_EQ(start(pool, o).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace s3db::coord
