// coord::SharedLimit against a private redis-server: one global limit across forked processes
// (the ops themselves count how many run at once), fair shares among them, permits following
// demand, a killed holder's permits coming back, a bad URL refused at start.
#include "coord/shared_limit.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <chrono>
#include <thread>
#include <vector>

#include "private_redis.h"

namespace s3db::coord {
namespace {

using namespace std::chrono_literals;
using testing::PrivateRedis;
using testing::reap;
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
  o.tuning.batch = 4;  // small: the fairness bounds below are share + batch
  return o;
}

Result<std::unique_ptr<SharedLimit>> start(OperationPool& pool, const Options& o) {
  return SharedLimit::start(pool, o.config, RateGates{}, o.tuning);
}

// Counters shared by forked processes (an anonymous shared mapping); [k] is process k's.
struct Board {
  std::atomic<int> running{0};
  std::atomic<int> max_running{0};
  std::atomic<int> done[8];
  std::atomic<int> begun[8];     // ops begun
  std::atomic<int> mine[8];      // ops running now
  std::atomic<int> max_fair[8];  // the most run at once while every process still had a backlog
  std::atomic<int> held[8];      // permits held, as the process's SharedLimit reports them
  std::atomic<std::int64_t> arrived_ns[8], share_ns[8];  // steady clock (one per machine)
  std::atomic<std::uint64_t> excess_returned[8];
  std::atomic<bool> stop{false};
};

void raise_to(std::atomic<int>& max, int now) {
  int seen = max.load();
  while (now > seen && !max.compare_exchange_weak(seen, now)) {
  }
}

void note_running(Board& b) { raise_to(b.max_running, b.running.fetch_add(1) + 1); }

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// 8 processes x 500 ops under a global 16: never more than 16 at once (counted by the ops), and
// each process gets its fair share, ⌈16 / 8⌉ = 2. The fairness check is by rule, not by timing: a
// gate (the test holding all 16 permits) opens only once every process has registered its want,
// so all 8 start with a backlog together; from then on the acquire rule gives nobody more than
// its share while another waits below its own, and while every process still has at least 16 ops
// not begun (its demand stays at 16, so nobody returns permits for lack of work) none is free to
// take more. So the most any process ran at once in that window is its share; the bound allows
// a batch on top for a lease lost on a stalled machine. Without the gate, the first process could
// take the whole limit until its next renewal, a third of a ttl: longer than this whole test.
TEST(SharedLimitTest, EightProcessesNeverRunMoreThanTheGlobalLimitAtOnceAndEachGetsItsShare) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  constexpr int kProcs = 8, kOps = 500, kGlobal = 16, kShare = 2;
  const Options o = shared(redis, "eight", kGlobal);
  testing::SharedWithChildren<Board> shared_board;
  Board* board = shared_board.get();
  PermitLeases gate(redis.connect(), "eight", kGlobal, 120s, "gate");
  auto closed = gate.acquire(kGlobal, 0);
  ASSERT_TRUE(closed.ok() && closed->ids.size() == static_cast<std::size_t>(kGlobal));
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
        auto limit = start(pool, o);
        if (!limit.ok()) ::_exit(2);
        std::vector<Future<void>> fs;
        for (int i = 0; i < kOps; ++i) {
          fs.push_back(pool.submit([board, k](OpContext&) {
            board->begun[k].fetch_add(1);
            const int mine = board->mine[k].fetch_add(1) + 1;
            note_running(*board);
            bool backlog = true;
            for (int j = 0; j < kProcs; ++j) backlog = backlog && kOps - board->begun[j].load() >= kGlobal;
            if (backlog) raise_to(board->max_fair[k], mine);
            std::this_thread::sleep_for(200us);
            board->running.fetch_sub(1);
            board->mine[k].fetch_sub(1);
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
  RedisConnection admin = redis.connect();
  EXPECT_TRUE(within(60s, [&] {
    auto r = admin.command({"ZCARD", "eight:wants"});
    return r.ok() && r->integer == kProcs;
  })) << "every process registers its want";
  EXPECT_TRUE(gate.release(closed->ids).ok());  // the gate opens
  for (pid_t pid : kids) EXPECT_EQ(reap(pid, 120s), 0);
  std::printf("8 processes x %d ops under a global %d: at most %d ran at once; per process, while all had a backlog:",
              kOps, kGlobal, board->max_running.load());
  for (int k = 0; k < kProcs; ++k) std::printf(" %d", board->max_fair[k].load());
  std::printf("\n");
  EXPECT_LE(board->max_running.load(), kGlobal);
  EXPECT_GE(board->max_running.load(), 2) << "the processes did run side by side";
  for (int k = 0; k < kProcs; ++k) {
    EXPECT_EQ(board->done[k].load(), kOps) << "process " << k;
    EXPECT_LE(board->max_fair[k].load(), kShare + o.tuning.batch) << "process " << k << " beyond its share";
  }
}

// Fairness across processes: A alone takes the whole limit (8) with a backlog that outlasts the
// test; B arrives with one too. A hears of B's want at its next renewal (a third of a ttl, 1 s
// here), lowers its cap to its share and returns the rest as its running ops end; B gets its share
// (⌈8 / 2⌉ = 4), A keeps at most 4, and it stays so. The ops count how many run at once across
// both: never above 8. The time bound is one whole ttl (3 x the contract), for a loaded machine.
TEST(SharedLimitTest, ALateProcessGetsItsFairShareFromABusyOneWithinARenewal) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  constexpr int kGlobal = 8, kShare = 4;
  Options o = shared(redis, "fair", kGlobal);
  o.config.lease_ttl = 3000ms;
  testing::SharedWithChildren<Board> shared_board;
  Board* board = shared_board.get();
  const auto process = [&](int k) {
    const pid_t pid = ::fork();
    if (pid != 0) return pid;
    int rc = 0;
    {
      PoolOptions po;
      po.concurrency = 16;
      OperationPool pool(po);
      auto limit = start(pool, o);
      if (!limit.ok()) ::_exit(2);
      std::vector<Future<void>> fs;
      for (int i = 0; i < 20000; ++i) {  // 2 ms each: 5 s at the whole limit; cut short by `stop`
        fs.push_back(pool.submit([board, k](OpContext&) {
          if (board->stop.load()) return Status::OK();
          board->mine[k].fetch_add(1);
          note_running(*board);
          std::this_thread::sleep_for(2ms);
          board->running.fetch_sub(1);
          board->mine[k].fetch_sub(1);
          board->done[k].fetch_add(1);
          return Status::OK();
        }));
      }
      board->arrived_ns[k] = now_ns();
      for (int i = 0; i < 60000 && !board->stop.load(); ++i) {  // at most a minute
        const SharedLimitState st = (*limit)->stats();
        board->held[k] = st.held;
        board->excess_returned[k] = st.excess_returned;
        if (st.held >= kShare && board->share_ns[k].load() == 0) board->share_ns[k] = now_ns();
        std::this_thread::sleep_for(1ms);
      }
      board->stop = true;
      for (auto& f : fs) {
        if (!f.get().ok()) rc = 3;
      }
    }
    ::_exit(rc);
  };
  const pid_t a = process(0);
  ASSERT_GE(a, 0);
  EXPECT_TRUE(within(20s, [&] { return board->held[0].load() == kGlobal; }))
      << "A alone takes the whole limit";
  const pid_t b = process(1);
  EXPECT_GE(b, 0);
  EXPECT_TRUE(within(20s, [&] { return board->arrived_ns[1].load() != 0; })) << "B started";
  const bool fair = within(o.config.lease_ttl, [&] { return board->held[1].load() >= kShare && board->held[0].load() <= kShare; });
  EXPECT_TRUE(fair) << "B holds " << board->held[1].load() << ", A " << board->held[0].load();
  int a_most = 0, b_least = kGlobal;
  for (int i = 0; fair && i < 25; ++i) {  // and it stays so (the acquire rule: A takes nothing back)
    std::this_thread::sleep_for(20ms);
    a_most = std::max(a_most, board->held[0].load());
    b_least = std::min(b_least, board->held[1].load());
  }
  board->stop = true;
  const int rc_a = reap(a, 60s), rc_b = b > 0 ? reap(b, 60s) : -1;
  const double waited_ms = static_cast<double>(board->share_ns[1].load() - board->arrived_ns[1].load()) / 1e6;
  std::printf("A alone held %d; B waited %.0f ms for its share of %d (renewal every %lld ms); then A held at most %d, "
              "B at least %d; A returned %llu above its share; at most %d ran at once\n",
              kGlobal, waited_ms, kShare, static_cast<long long>((o.config.lease_ttl / 3).count()), a_most, b_least,
              static_cast<unsigned long long>(board->excess_returned[0].load()), board->max_running.load());
  EXPECT_EQ(rc_a, 0);
  EXPECT_EQ(rc_b, 0);
  if (fair) {
    EXPECT_LE(a_most, kShare);
    EXPECT_GE(b_least, kShare);
    EXPECT_GE(board->excess_returned[0].load(), static_cast<std::uint64_t>(kGlobal - kShare));
  }
  EXPECT_LE(board->max_running.load(), kGlobal);
  EXPECT_GT(board->done[1].load(), 0) << "B ran ops";
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

// The first op after idle does not wait for the coordinator's tick: the pool tells it at once
// (on_cap_wait). With ticks of a minute, only that wake-up can start it within the bound below.
TEST(SharedLimitTest, TheFirstOpAfterIdleWakesTheCoordinatorAtOnce) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  OperationPool pool(PoolOptions{});
  Options o = shared(redis, "wake", 4);
  o.tuning.tick = 60s;
  o.tuning.idle_tick = 60s;
  auto limit = start(pool, o);
  ASSERT_TRUE(limit.ok()) << limit.status().to_string();
  std::this_thread::sleep_for(50ms);  // the coordinator's first round is over: it sleeps a minute
  auto f = pool.submit([](OpContext&) { return Status::OK(); });
  ASSERT_TRUE(f.wait_for(20s)) << "the op never got a permit";
  EXPECT_TRUE(f.get().ok());
  EXPECT_EQ((*limit)->stats().held, 1);
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
