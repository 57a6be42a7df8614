// The shared limit's Redis side (coord/permit_leases.h, coord/redis_connection.h), against a
// private redis-server on a unix socket (started and stopped by the fixture; loopback only).
#include "coord/permit_leases.h"
#include "private_redis.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

namespace s3db::coord {
namespace {

using namespace std::chrono_literals;
using testing::PrivateRedis;
using testing::within;

TEST(RedisUrlTest, FormsErrorsAndNoPasswordInDescriptions) {
  auto a = parse_redis_url("redis://127.0.0.1:6390/2");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6390);
  EXPECT_EQ(a->db, 2);
  auto d = parse_redis_url("redis://localhost");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port, 6379);
  EXPECT_EQ(d->db, 0);
  const std::string secret = "p?a@s/s%w:ord";
  auto s = parse_redis_url("redis://app:p%3Fa%40s%2Fs%25w%3Aord@10.0.0.1:7000/1");
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  EXPECT_EQ(s->user, "app");
  EXPECT_EQ(s->password, secret);
  EXPECT_EQ(s->host, "10.0.0.1");
  EXPECT_EQ(s->describe(), "redis://app:***@10.0.0.1:7000/1");
  auto u = parse_redis_url("unix:///run/redis.sock?db=3");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->unix_path, "/run/redis.sock");
  EXPECT_EQ(u->db, 3);
  for (const std::string bad : {"http://x", "redis://", "redis://h:0", "redis://h:70000", "redis://h:12x", "redis://h/x",
                                "unix://relative.sock", "unix:///s?database=1"}) {
    auto r = parse_redis_url(bad);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
  }
  for (const std::string& bad : {std::string("redis://app:p%3Fa%40s%2Fs%25w%3Aord@h:99999"), "redis://app:p%zz" + secret + "@h"}) {
    auto r = parse_redis_url(bad);
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().to_string().find("p%3Fa"), std::string::npos) << r.status().to_string();
    EXPECT_EQ(r.status().to_string().find(secret), std::string::npos) << r.status().to_string();
  }
}

TEST(PermitLeasesTest, TheLimitHoldsAcrossHoldersAndReleasedPermitsComeBack) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  PermitLeases a(redis.connect(), "s3db:test", 16, 30s, "a");
  PermitLeases b(redis.connect(), "s3db:test", 16, 30s, "b");
  auto got_a = a.acquire(10, 10);
  ASSERT_TRUE(got_a.ok()) << got_a.status().to_string();
  EXPECT_EQ(got_a->ids.size(), 10u);
  auto got_b = b.acquire(10, 10);
  ASSERT_TRUE(got_b.ok());
  EXPECT_EQ(got_b->ids.size(), 6u) << "only what the limit has left";
  EXPECT_EQ(b.acquire(1, 10)->ids.size(), 0u);
  EXPECT_EQ(*a.held_by_all(), 16);
  std::set<std::string> ids(got_a->ids.begin(), got_a->ids.end());
  ids.insert(got_b->ids.begin(), got_b->ids.end());
  EXPECT_EQ(ids.size(), 16u) << "every lease id is distinct";
  ASSERT_TRUE(a.release({got_a->ids[0], got_a->ids[1], "a:unknown"}).ok());
  EXPECT_EQ(*b.held_by_all(), 14);
  EXPECT_EQ(b.acquire(5, 10)->ids.size(), 2u);
}

TEST(PermitLeasesTest, ConcurrentHoldersNeverExceedTheLimit) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  constexpr int kHolders = 8, kLimit = 16, kRounds = 100;
  std::atomic<int> in_use{0}, peak{0}, failures{0}, over{0};
  std::vector<std::thread> threads;
  for (int h = 0; h < kHolders; ++h) {
    threads.emplace_back([&, h] {
      PermitLeases p(redis.connect(), "s3db:conc", kLimit, 30s, "h" + std::to_string(h));
      for (int i = 0; i < kRounds; ++i) {
        auto got = p.acquire(3, 3 + h % 3);  // wants of 3 to 5: some stay registered
        if (!got.ok()) {
          ++failures;
          return;
        }
        const int now = in_use += static_cast<int>(got->ids.size());
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        auto all = p.held_by_all();  // the script-level count: never above the limit
        if (!all.ok() || *all > kLimit) ++over;
        std::this_thread::sleep_for(1ms);  // hold them a moment, as an operation would
        in_use -= static_cast<int>(got->ids.size());
        if (!p.release(got->ids).ok()) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(over.load(), 0);
  EXPECT_LE(peak.load(), kLimit);
  EXPECT_GT(peak.load(), 3) << "holders did overlap";
}

// Three holders of 8 (named as SharedLimit names them: "host:pid:n", colons inside): the share is
// ⌈8 / holders that hold or want⌉, a holder at its share takes none of the last free permits while
// another waits below its own, and the leases never outnumber the limit.
TEST(PermitLeasesTest, FairSharesAmongHoldersThatHoldOrWant) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  PermitLeases a(redis.connect(), "s3db:fair", 8, 30s, "host:1:a");
  PermitLeases b(redis.connect(), "s3db:fair", 8, 30s, "host:2:b");
  PermitLeases c(redis.connect(), "s3db:fair", 8, 30s, "host:3:c");
  auto ga = a.acquire(8, 8);
  ASSERT_TRUE(ga.ok()) << ga.status().to_string();
  EXPECT_EQ(ga->ids.size(), 8u) << "alone: the whole limit";
  EXPECT_EQ(ga->fair.share, 8);
  EXPECT_EQ(ga->fair.waiting, 0);
  EXPECT_FALSE(a.wanting()) << "it has all it wants";
  auto gb = b.acquire(4, 8);
  ASSERT_TRUE(gb.ok());
  EXPECT_TRUE(gb->ids.empty()) << "nothing free";
  EXPECT_EQ(gb->fair.share, 4) << "a holds, b wants: 2 holders";
  EXPECT_EQ(gb->fair.waiting, 0) << "a wants nothing more";
  EXPECT_TRUE(b.wanting());
  auto ra = a.renew(ga->ids, 8);
  ASSERT_TRUE(ra.ok());
  EXPECT_TRUE(ra->lost.empty());
  EXPECT_EQ(ra->fair.share, 4);
  EXPECT_EQ(ra->fair.waiting, 1) << "b waits below its share";
  auto gc = c.acquire(4, 8);
  ASSERT_TRUE(gc.ok());
  EXPECT_TRUE(gc->ids.empty());
  EXPECT_EQ(gc->fair.share, 3) << "⌈8 / 3⌉";
  EXPECT_EQ(gc->fair.waiting, 1) << "b (c does not count itself)";
  ra = a.renew(ga->ids, 8);
  EXPECT_EQ(ra->fair.share, 3);
  EXPECT_EQ(ra->fair.waiting, 2);

  // a returns its excess: 5 permits free.
  const std::vector<std::string> excess(ga->ids.begin() + 3, ga->ids.end());
  const std::vector<std::string> kept(ga->ids.begin(), ga->ids.begin() + 3);
  ASSERT_TRUE(a.release(excess).ok());
  gb = b.acquire(4, 8);
  ASSERT_TRUE(gb.ok());
  EXPECT_EQ(gb->ids.size(), 3u) << "up to its share while c waits too, not 4 of the 5 free";
  auto again = a.acquire(4, 8);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->ids.empty()) << "a is at its share and c waits: the free permits are c's";
  EXPECT_EQ(again->fair.waiting, 1);
  EXPECT_TRUE(a.wanting());
  gc = c.acquire(4, 8);
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->ids.size(), 2u) << "what is left: 8 = 3 + 3 + 2";
  EXPECT_EQ(*a.held_by_all(), 8);
  EXPECT_TRUE(c.acquire(1, 8)->ids.empty()) << "never beyond the limit";
  EXPECT_TRUE(b.acquire(1, 8)->ids.empty());
  ra = a.renew(kept, 8);
  EXPECT_EQ(ra->fair.share, 3);
  EXPECT_EQ(ra->fair.waiting, 1) << "c, with 2 of its 3";
  EXPECT_EQ(*a.held_by_all(), 8);
  std::set<std::string> ids(ga->ids.begin(), ga->ids.end());
  ids.insert(gb->ids.begin(), gb->ids.end());
  ids.insert(gc->ids.begin(), gc->ids.end());
  EXPECT_EQ(ids.size(), 13u) << "every lease id is distinct, the returned ones included";
}

// A want lasts one ttl unless renewed; a holder with neither leases nor a want is not counted, and
// one that drops its want stops counting at once.
TEST(PermitLeasesTest, WantsExpireAndHoldersWithoutOneAreNotCounted) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  PermitLeases a(redis.connect(), "s3db:wants", 4, 30s, "a");
  PermitLeases w(redis.connect(), "s3db:wants", 4, 300ms, "w");  // its want expires after 300 ms
  PermitLeases idle(redis.connect(), "s3db:wants", 4, 30s, "idle");
  auto ga = a.acquire(4, 4);
  ASSERT_TRUE(ga.ok()) << ga.status().to_string();
  ASSERT_EQ(ga->ids.size(), 4u);
  EXPECT_TRUE(w.acquire(1, 4)->ids.empty());
  EXPECT_TRUE(w.wanting());
  auto ra = a.renew(ga->ids, 4);
  ASSERT_TRUE(ra.ok());
  EXPECT_EQ(ra->fair.share, 2);
  EXPECT_EQ(ra->fair.waiting, 1);
  // w stops asking: its want expires (Redis's clock), and a's share is the whole limit again.
  EXPECT_TRUE(within(10s, [&] {
    auto r = a.renew(ga->ids, 4);
    return r.ok() && r->fair.share == 4 && r->fair.waiting == 0;
  })) << "w's want never expired";
  auto ri = idle.renew({}, 0);
  ASSERT_TRUE(ri.ok());
  EXPECT_EQ(ri->fair.share, 4) << "only a counts";
  EXPECT_FALSE(idle.wanting());
  EXPECT_EQ(a.renew(ga->ids, 4)->fair.share, 4);
  ri = idle.renew({}, 2);
  EXPECT_EQ(ri->fair.share, 2) << "a and idle, which now wants 2";
  EXPECT_TRUE(idle.wanting());
  ra = a.renew(ga->ids, 4);
  EXPECT_EQ(ra->fair.share, 2);
  EXPECT_EQ(ra->fair.waiting, 1);
  ri = idle.renew({}, 0);
  EXPECT_FALSE(idle.wanting());
  ra = a.renew(ga->ids, 4);
  EXPECT_EQ(ra->fair.share, 4) << "idle dropped its want: not counted";
  EXPECT_EQ(ra->fair.waiting, 0);
  EXPECT_EQ(*a.held_by_all(), 4);
}

TEST(PermitLeasesTest, UnrenewedLeasesExpireAndRenewedOnesStay) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  // A ttl 10x the renewal period: a busy machine delaying one renewal does not lose a lease.
  PermitLeases a(redis.connect(), "s3db:ttl", 4, 1000ms, "a");
  PermitLeases b(redis.connect(), "s3db:ttl", 4, 1000ms, "b");
  auto kept = a.acquire(2, 4);
  auto dropped = a.acquire(2, 4);
  ASSERT_TRUE(kept.ok() && dropped.ok());
  ASSERT_EQ(b.acquire(1, 0)->ids.size(), 0u);
  // Renew only `kept`, several times, past the ttl of `dropped`.
  for (int i = 0; i < 15; ++i) {
    auto lost = a.renew(kept->ids, 2);
    ASSERT_TRUE(lost.ok());
    EXPECT_TRUE(lost->lost.empty());
    std::this_thread::sleep_for(100ms);
  }
  auto got = b.acquire(4, 4);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->ids.size(), 2u) << "the 2 unrenewed permits came back, the 2 renewed did not";
  // A lease that expired cannot be renewed: its permit may be someone else's.
  auto lost = a.renew(dropped->ids, 0);
  ASSERT_TRUE(lost.ok());
  EXPECT_EQ(lost->lost, dropped->ids);
}

TEST(PermitLeasesTest, AKilledHoldersPermitsComeBackWithinOneLease) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto u = parse_redis_url(redis.url());
    auto c = RedisConnection::open(*u, 10s);  // generous: a loaded CI machine must not fail a command
    if (!c.ok()) ::_exit(2);
    PermitLeases p(std::move(c).value(), "s3db:kill", 8, 500ms, "child");
    auto got = p.acquire(8, 8);
    if (!got.ok() || got->ids.size() != 8u) ::_exit(3);
    ::write(STDOUT_FILENO, "", 0);
    for (;;) ::pause();  // holds them until killed
  }
  PermitLeases parent(redis.connect(), "s3db:kill", 8, 500ms, "parent");
  ASSERT_TRUE(within(10s, [&] { return *parent.held_by_all() == 8; })) << "the child never took the permits";
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  const auto killed = std::chrono::steady_clock::now();
  std::vector<std::string> got;
  ASSERT_TRUE(within(10s, [&] {
    auto r = parent.acquire(8, 8);
    if (r.ok()) got.insert(got.end(), r->ids.begin(), r->ids.end());
    return got.size() == 8u;
  }));
  // Back within one lease (500 ms) plus the polling step; bounded loosely for a busy machine.
  EXPECT_LT(std::chrono::steady_clock::now() - killed, 5s);
}

TEST(PermitLeasesTest, AFlushedScriptCacheIsReloaded) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  PermitLeases p(redis.connect(), "s3db:flush", 4, 30s, "p");
  ASSERT_EQ(p.acquire(1, 1)->ids.size(), 1u);
  RedisConnection admin = redis.connect();
  ASSERT_TRUE(admin.command({"SCRIPT", "FLUSH"}).ok());
  auto again = p.acquire(1, 2);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->ids.size(), 1u);
}

TEST(RedisConnectionTest, WrongPasswordIsUnauthorizedAndNeverPrinted) {
  const std::string secret = "s3cr?t@/%:x";
  PrivateRedis redis(secret);
  REQUIRE_REDIS(redis);
  const std::string sock = redis.url().substr(7);
  // unix:// URLs carry no password: use AUTH through a redis:// URL only for TCP; here build the
  // RedisUrl directly.
  RedisUrl u;
  u.unix_path = sock;
  u.password = "wrong" + secret;
  auto bad = RedisConnection::open(u, 2s);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kUnauthorized) << bad.status().to_string();
  EXPECT_EQ(bad.status().to_string().find(secret), std::string::npos) << bad.status().to_string();
  u.password = secret;
  auto good = RedisConnection::open(u, 2s);
  ASSERT_TRUE(good.ok()) << good.status().to_string();
  EXPECT_EQ(good->command({"PING"})->str, "PONG");
  u.password.clear();
  auto none = RedisConnection::open(u, 2s);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->command({"PING"}).status().code(), Code::kUnauthorized);
}

TEST(RedisConnectionTest, NobodyListeningIsUnavailable) {
  RedisUrl u;
  u.unix_path = "/nonexistent/s3db-redis.sock";
  auto c = RedisConnection::open(u, 1s);
  EXPECT_EQ(c.status().code(), Code::kUnavailable) << c.status().to_string();
}

// A server killed under an open connection: the next commands are Unavailable, and the process
// lives (hiredis's write to the dead socket raised SIGPIPE, whose default action ended it: the
// shared limit's test died with status 141 when Redis was restarted).
TEST(RedisConnectionTest, AServerKilledUnderTheConnectionIsUnavailableNotSigpipe) {
  PrivateRedis redis;
  REQUIRE_REDIS(redis);
  RedisConnection c = redis.connect();
  ASSERT_TRUE(c.command({"PING"}).ok());
  redis.kill_server();
  for (int i = 0; i < 3; ++i) {
    auto r = c.command({"SET", "k", std::string(64 * 1024, 'x')});  // big enough to need a write
    EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().to_string();
  }
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0) << "no SIGPIPE left pending on this thread";
}

}  // namespace
}  // namespace s3db::coord
