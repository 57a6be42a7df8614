// The writers of one object in one process take turns once they collided (db/write_turns.h):
// arrival order, cancellation leaves the queue, a forked child inherits no queue, and many
// threads updating one record on a slow store all succeed.
#include "db/write_turns.h"

#include "s3db/database.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

namespace s3db::testing {
namespace {

using db::Turn;
using db::WriteTurns;
using nlohmann::json;
using namespace std::chrono_literals;

const int kStore = 0;  // any address names a store

// Polls `done` for at most 10 s (a broken queue fails the test instead of hanging it).
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 1000 && !done(); ++i) std::this_thread::sleep_for(10ms);
  return done();
}

TEST(WriteTurnsTest, WritersGetTheTurnInArrivalOrderAndTheQueueCloses) {
  OpContext ctx;
  Turn first;
  bool waited = true;
  ASSERT_TRUE(WriteTurns::join(&kStore, "k", ctx, first, waited).ok());
  EXPECT_FALSE(waited);
  EXPECT_TRUE(first.held());
  EXPECT_TRUE(WriteTurns::any_open());

  // Another object's queue is independent.
  Turn other;
  ASSERT_TRUE(WriteTurns::join(&kStore, "other", ctx, other, waited).ok());
  EXPECT_FALSE(waited);

  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> queued{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < 4; ++i) {
    // Each joins only once the one before it is queued: arrival order is 0, 1, 2, 3.
    ASSERT_TRUE(eventually([&] { return queued.load() == i; }));
    writers.emplace_back([&, i] {
      OpContext c;
      Turn t;
      ++queued;
      ASSERT_TRUE(WriteTurns::join_if_open(&kStore, "k", c, t).ok());
      EXPECT_TRUE(t.held());
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
    std::this_thread::sleep_for(20ms);  // let it reach the queue before the next one arrives
  }
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_TRUE(order.empty()) << "nobody passes the holder of the turn";
  }
  first.release();
  for (auto& t : writers) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  other.release();
  EXPECT_FALSE(WriteTurns::any_open());

  // No queue open: join_if_open() does not open one.
  Turn none;
  ASSERT_TRUE(WriteTurns::join_if_open(&kStore, "k", ctx, none).ok());
  EXPECT_FALSE(none.held());
}

TEST(WriteTurnsTest, ACancelledWaiterLeavesTheQueueWithItsReason) {
  OpContext ctx;
  Turn head;
  bool waited = false;
  ASSERT_TRUE(WriteTurns::join(&kStore, "c", ctx, head, waited).ok());

  OpContext cancelled_ctx, next_ctx;
  Status cancelled_status;
  std::atomic<bool> next_got_turn{false};
  std::thread cancelled([&] {
    Turn t;
    cancelled_status = WriteTurns::join_if_open(&kStore, "c", cancelled_ctx, t);
    EXPECT_FALSE(t.held());
  });
  std::this_thread::sleep_for(50ms);
  std::thread next([&] {
    Turn t;
    bool w = false;
    ASSERT_TRUE(WriteTurns::join(&kStore, "c", next_ctx, t, w).ok());
    EXPECT_TRUE(w);
    next_got_turn = true;
  });
  std::this_thread::sleep_for(50ms);
  cancelled_ctx.cancel(Status::Timeout("op", "deadline passed"));
  cancelled.join();  // woken by the cancellation, not by the turn
  EXPECT_TRUE((cancelled_status.code() == Code::kTimeout)) << cancelled_status.to_string();
  EXPECT_FALSE(next_got_turn.load());
  head.release();
  next.join();
  EXPECT_TRUE(next_got_turn.load());
  EXPECT_FALSE(WriteTurns::any_open());

  // Already cancelled: no wait at all.
  ASSERT_TRUE(WriteTurns::join(&kStore, "c", ctx, head, waited).ok());
  Turn t;
  EXPECT_EQ(WriteTurns::join_if_open(&kStore, "c", cancelled_ctx, t).code(), Code::kTimeout);
  head.release();
  EXPECT_FALSE(WriteTurns::any_open());
}

TEST(WriteTurnsTest, AForkedChildInheritsNoQueue) {
  OpContext ctx;
  Turn held;
  bool waited = false;
  ASSERT_TRUE(WriteTurns::join(&kStore, "f", ctx, held, waited).ok());
  // A parent thread waits in the queue at the time of the fork.
  std::thread waiter([] {
    OpContext c;
    Turn t;
    bool w = false;
    EXPECT_TRUE(WriteTurns::join(&kStore, "f", c, t, w).ok());
  });
  std::this_thread::sleep_for(50ms);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // The parent's holder and waiter are not in this process: the turn is free at once.
    OpContext c;
    Turn t;
    bool w = true;
    const bool ok = !WriteTurns::any_open() && WriteTurns::join(&kStore, "f", c, t, w).ok() && !w && t.held();
    t.release();
    ::_exit(ok && !WriteTurns::any_open() ? 0 : 1);
  }
  int status = 0;
  for (int i = 0; i < 1000 && ::waitpid(pid, &status, WNOHANG) == 0; ++i) std::this_thread::sleep_for(10ms);
  if (::waitpid(pid, &status, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    ADD_FAILURE() << "the child hung on a queue it inherited";
  } else {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  held.release();
  waiter.join();
  EXPECT_FALSE(WriteTurns::any_open());
}

// A memory store whose reads take a while (a remote store's round trip): writers of one record
// read, build and write over a wide window, as on S3.
class SlowReads final : public ForwardingClient {
 public:
  SlowReads() : ForwardingClient(make_memory_client()) {}
  std::atomic<int> conflicts{0};
  Result<Object> get(std::string_view k, OpContext& c) override {
    auto res = ForwardingClient::get(k, c);
    std::this_thread::sleep_for(1ms);  // the answer on its way back: the object may change meanwhile
    return res;
  }
  Result<PutResult> put(const PutRequest& r, OpContext& c) override {
    auto res = ForwardingClient::put(r, c);
    if (!res.ok() && res.status().is_precondition_failed()) ++conflicts;
    return res;
  }
};

// Without turns, 16 writers of one record on this store collide about 155 times for 320 updates,
// and a writer loses 16 times in a row (PreconditionFailed) in about 1 run of 3: the jittered
// backoff is not fair. With turns they collide about once each, until they are queued.
TEST(WriteTurnsTest, SixteenThreadsUpdatingOneRecordOnASlowStoreAllSucceed) {
  auto store = std::make_shared<SlowReads>();
  ClientOptions o;
  o.pool.concurrency = 16;
  auto client = Client::wrap(store, o);
  auto database = Database::open(client).value();
  ResourceConfig c;
  c.name = "counters";
  c.attributes = {{"n", "integer|required"}};
  auto r = database.create_resource(c).value();
  ASSERT_TRUE(r.insert({{"id", "c"}, {"n", 0}}).ok());
  constexpr int kThreads = 16, kUpdates = 20;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kUpdates; ++i) {
        auto res = r.update("c", [](json cur) {
          cur["n"] = cur["n"].get<int>() + 1;
          return cur;
        });
        if (!res.ok() && failures++ == 0) ADD_FAILURE() << res.status().to_string();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(r.get("c").value()["n"], kThreads * kUpdates);
  // Each writer collides about once, before it is queued.
  EXPECT_LE(store->conflicts.load(), 2 * kThreads) << "conflicts";
  EXPECT_FALSE(WriteTurns::any_open());
}

}  // namespace
}  // namespace s3db::testing
