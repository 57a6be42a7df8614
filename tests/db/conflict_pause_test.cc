// Conflict pauses of the write loop (db/write_loop.h) on the pool's run-again machinery: a writer
// that lost a conflict, or waits for its turn (db/write_turns.h), holds no pool slot meanwhile;
// the pause runs on the pool's Clock and the op's deadline cuts it short. Record writes and the
// catalog alike. ManualClock: nothing depends on time.
#include "db/write_turns.h"
#include "pool/pool_test_util.h"  // eventually()

#include "s3db/database.h"
#include "s3db/resource.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace s3db::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A memory store that answers PreconditionFailed (another writer won) to PUTs of keys containing
// `marker`: the next `conflicts` of them, or every one while `always`.
class Conflicting final : public ForwardingClient {
 public:
  Conflicting() : ForwardingClient(make_memory_client()) {}
  std::string marker = "\x01";
  std::atomic<int> conflicts{0};
  std::atomic<bool> always{false};
  std::atomic<int> refused{0};
  Result<PutResult> put(const PutRequest& r, OpContext& c) override {
    if (r.key.find(marker) != std::string::npos && (always || conflicts.fetch_sub(1) > 0)) {
      ++refused;
      return Status::PreconditionFailed("PUT " + r.key, "412 Precondition Failed");
    }
    return ForwardingClient::put(r, c);
  }
};

class ConflictPauseTest : public ::testing::Test {
 protected:
  void open(int concurrency, bool manual = true) {
    ClientOptions o;
    o.pool.concurrency = concurrency;
    if (manual) o.pool.clock = clock_;
    client_ = Client::wrap(store_, o);
    db_ = std::make_unique<Database>(Database::open(client_).value());
    ResourceConfig c;
    c.name = "counters";
    c.attributes = {{"n", "integer|required"}};
    res_ = std::make_unique<Resource>(db_->create_resource(c).value());
    for (const char* id : {"hot", "cold"}) ASSERT_TRUE(res_->insert({{"id", id}, {"n", 0}}).ok());
  }
  Future<json> increment_async(const std::string& id, OpOptions o = {}) {
    return res_->update_async(id, json{{"n", 1}}, std::move(o));
  }
  int n(const std::string& id) { return res_->get(id).value()["n"].get<int>(); }

  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  std::shared_ptr<Conflicting> store_ = std::make_shared<Conflicting>();
  std::shared_ptr<Client> client_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Resource> res_;
};

TEST_F(ConflictPauseTest, AConflictPauseReleasesTheSlot) {
  open(1);
  store_->marker = "hot";
  store_->always = true;  // (a pause may be 0: the writer then conflicts and pauses again)
  Future<json> paused = increment_async("hot");
  ASSERT_TRUE(eventually([&] { return client_->pool().stats().ran_again >= 1; }));
  // Concurrency 1, the clock stands still: the other write gets the slot the paused one left.
  auto other = res_->update("cold", json{{"n", 7}});
  ASSERT_TRUE(other.ok()) << other.status().to_string();
  EXPECT_FALSE(paused.ready());
  store_->always = false;
  clock_->advance(2s);  // past any pause (at most 2 s)
  auto done = paused.get();
  ASSERT_TRUE(done.ok()) << done.status().to_string();
  EXPECT_EQ(n("hot"), 1);
  EXPECT_EQ(n("cold"), 7);
  EXPECT_EQ(client_->pool().stats().retries, 0u);  // a pause, not a retry
  EXPECT_FALSE(db::WriteTurns::any_open());
}

TEST_F(ConflictPauseTest, ConflictingWritersOfOneRecordCompleteAtConcurrencyOne) {
  // The first writer pauses holding the turn; the others wait for it without a slot. Were a
  // waiter to hold the only slot, the turn holder could never run again.
  open(1, /*manual=*/false);
  store_->marker = "hot";
  store_->conflicts = 3;
  std::vector<std::thread> writers;
  for (int i = 0; i < 8; ++i) {
    writers.emplace_back([&] {
      auto r = res_->update("hot", [](json cur) {
        cur["n"] = cur["n"].get<int>() + 1;
        return cur;
      });
      EXPECT_TRUE(r.ok()) << r.status().to_string();
    });
  }
  for (auto& w : writers) w.join();
  EXPECT_EQ(n("hot"), 8);
  EXPECT_EQ(store_->refused.load(), 3);
  EXPECT_FALSE(db::WriteTurns::any_open());
}

TEST_F(ConflictPauseTest, APausePastTheDeadlineEndsWithTimeoutWithoutTheClockMoving) {
  open(1);
  store_->marker = "hot";
  store_->always = true;
  OpOptions o;
  o.deadline = clock_->now() + 1us;  // any pause of at least 1 µs passes it
  auto r = res_->update("hot", json{{"n", 5}}, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kTimeout) << r.status().to_string();
  EXPECT_LT(store_->refused.load(), 16);  // not the 16-conflict limit
  EXPECT_EQ(n("hot"), 0);
  EXPECT_FALSE(db::WriteTurns::any_open());
}

TEST_F(ConflictPauseTest, AWriterWaitingForItsTurnEndsWithTimeoutAtItsDeadline) {
  open(2);
  store_->marker = "hot";
  store_->always = true;
  Future<json> first = increment_async("hot");  // conflicts: holds the turn, pauses
  ASSERT_TRUE(eventually([&] { return client_->pool().stats().ran_again >= 1; }));
  OpOptions o;
  o.deadline = clock_->now() + 1s;
  Future<json> waiter = increment_async("hot", o);  // queued behind it: waits, without a slot
  // Nothing queued, nothing running: both wait out of the pool's slots.
  ASSERT_TRUE(eventually([&] {
    const PoolStats st = client_->pool().stats();
    return st.ran_again >= 2 && st.active == 0 && st.queue_size == 0;
  }));
  EXPECT_FALSE(waiter.ready());
  store_->always = false;
  clock_->advance(1s);  // the first writer's pause ends too: it writes and leaves
  auto w = waiter.get();
  EXPECT_EQ(w.status().code(), Code::kTimeout) << w.status().to_string();
  EXPECT_TRUE(first.get().ok());
  EXPECT_EQ(n("hot"), 1);
  EXPECT_FALSE(db::WriteTurns::any_open());
}

TEST_F(ConflictPauseTest, StopCancelsAPausedWriter) {
  open(1);
  store_->marker = "hot";
  store_->always = true;
  Future<json> paused = increment_async("hot");
  ASSERT_TRUE(eventually([&] { return client_->pool().stats().ran_again >= 1; }));
  client_->pool().stop();
  EXPECT_EQ(paused.get().status().code(), Code::kCancelled);
  EXPECT_FALSE(db::WriteTurns::any_open());
}

TEST_F(ConflictPauseTest, ACatalogConflictPausesWithoutTheSlotAndEndsAtTheDeadline) {
  open(1);
  store_->marker = "s3db.json";
  store_->always = true;
  std::atomic<bool> created{false};
  std::thread creator([&] {
    ResourceConfig c;
    c.name = "more";
    c.attributes = {{"x", "string"}};
    auto r = db_->create_resource(c);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    created = true;
  });
  ASSERT_TRUE(eventually([&] { return client_->pool().stats().ran_again >= 1; }));
  ASSERT_TRUE(res_->update("cold", json{{"n", 3}}).ok());  // the slot is free meanwhile
  EXPECT_FALSE(created.load());
  store_->always = false;
  clock_->advance(2s);
  creator.join();
  EXPECT_TRUE(created.load());

  // Every catalog write conflicts; its pause passes the deadline at once.
  store_->always = true;
  DatabaseOptions o;
  o.op.deadline = clock_->now() + 1us;
  Database late = Database::open(client_, o).value();
  ResourceConfig c;
  c.name = "late";
  c.attributes = {{"x", "string"}};
  auto r = late.create_resource(c);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kTimeout) << r.status().to_string();
  EXPECT_FALSE(db::WriteTurns::any_open());
}

}  // namespace
}  // namespace s3db::testing
