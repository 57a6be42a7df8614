// Resource::get/exists deduplication: concurrent reads of one record read the store once, reads
// of different kinds or database handles never share, and a read submitted after a write's
// acknowledgement never joins a read that started before it (read-your-writes).
#include "s3db/resource.h"

#include "s3db/database.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace s3db {
namespace {

using nlohmann::json;

// A memory store whose data reads (GET/HEAD of "/data/" keys) are counted, and whose next held
// read — after it has read the store — blocks until release(): it returns what the store held
// when it read, however late it returns (bounded: ~10 s of real time).
class SlowReads : public ForwardingClient {
 public:
  SlowReads() : ForwardingClient(make_memory_client()) {}

  void hold_next_read() {
    std::lock_guard<std::mutex> g(mu_);
    hold_ = true;
  }
  void release() {
    std::lock_guard<std::mutex> g(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool wait_held() {
    std::unique_lock<std::mutex> lk(mu_);
    return cv_.wait_for(lk, std::chrono::seconds(10), [&] { return holding_; });
  }
  int gets() const { return gets_.load(); }
  int heads() const { return heads_.load(); }

  Result<Object> get(std::string_view k, OpContext& c) override {
    if (is_data(k)) gets_.fetch_add(1);
    auto r = target().get(k, c);
    if (is_data(k)) maybe_hold();
    return r;
  }
  Result<ObjectMeta> head(std::string_view k, OpContext& c) override {
    if (is_data(k)) heads_.fetch_add(1);
    auto r = target().head(k, c);
    if (is_data(k)) maybe_hold();
    return r;
  }

 private:
  static bool is_data(std::string_view k) { return k.find("/data/") != std::string_view::npos; }
  void maybe_hold() {
    std::unique_lock<std::mutex> lk(mu_);
    if (!hold_) return;
    hold_ = false;
    holding_ = true;
    cv_.notify_all();
    cv_.wait_for(lk, std::chrono::seconds(10), [&] { return released_; });
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false, holding_ = false, released_ = false;
  std::atomic<int> gets_{0}, heads_{0};
};

class ReadDedupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::make_shared<SlowReads>();
    client_ = Client::wrap(store_);
    db_ = open_db({});
    ResourceConfig c;
    c.name = "users";
    c.attributes = {{"v", "integer"}};
    users_ = std::make_unique<Resource>(db_->create_resource(c).value());
    ASSERT_TRUE(users_->insert({{"id", "a"}, {"v", 1}}).ok());
  }

  std::unique_ptr<Database> open_db(DatabaseOptions o) {
    o.prefix = "app";
    auto db = Database::open(client_, std::move(o));
    EXPECT_TRUE(db.ok()) << db.status().to_string();
    return std::make_unique<Database>(std::move(db).value());
  }

  std::shared_ptr<SlowReads> store_;
  std::shared_ptr<Client> client_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Resource> users_;
};

TEST_F(ReadDedupTest, ConcurrentReadsOfOneRecordReadTheStoreOnce) {
  store_->hold_next_read();
  auto first = users_->get_async("a");
  ASSERT_TRUE(store_->wait_held());
  std::vector<Future<json>> gets;
  for (int i = 0; i < 49; ++i) gets.push_back(users_->get_async("a"));
  EXPECT_EQ(client_->pool().stats().deduplicated, 49u);
  store_->release();
  EXPECT_EQ(first.get().value()["v"], 1);
  for (auto& f : gets) EXPECT_EQ(f.get().value()["v"], 1);
  EXPECT_EQ(store_->gets(), 1);
}

TEST_F(ReadDedupTest, ExistsNeverJoinsAGet) {
  store_->hold_next_read();
  auto first = users_->get_async("a");
  ASSERT_TRUE(store_->wait_held());
  // exists() is synchronous: these run (and share) while the get is held.
  EXPECT_TRUE(users_->exists("a").value());
  EXPECT_EQ(store_->heads(), 1);
  store_->release();
  EXPECT_EQ(first.get().value()["v"], 1);
}

TEST_F(ReadDedupTest, AGetAfterAnAcknowledgedUpdateNeverJoinsAnEarlierGet) {
  store_->hold_next_read();
  auto before = users_->get_async("a");  // reads v = 1, then is held
  ASSERT_TRUE(store_->wait_held());
  ASSERT_TRUE(users_->update("a", json{{"v", 2}}).ok());  // acknowledged
  auto after = users_->get_async("a");
  ASSERT_TRUE(after.wait_for(std::chrono::seconds(10))) << "joined the read that started before the write";
  EXPECT_EQ(after.get().value()["v"], 2);
  store_->release();
  EXPECT_EQ(before.get().value()["v"], 1);
}

TEST_F(ReadDedupTest, AReadAfterAnAcknowledgedRemoveNeverJoinsAnEarlierRead) {
  store_->hold_next_read();
  auto before = users_->get_async("a");
  ASSERT_TRUE(store_->wait_held());
  ASSERT_TRUE(users_->remove("a").ok());
  auto after = users_->get_async("a");
  ASSERT_TRUE(after.wait_for(std::chrono::seconds(10))) << "joined the read that started before the remove";
  EXPECT_EQ(after.get().status().code(), Code::kNotFound);
  store_->release();
  EXPECT_TRUE(before.get().ok());
}

TEST_F(ReadDedupTest, OtherDatabaseHandlesAndTheSwitchOffDoNotShare) {
  auto other = open_db({});  // another handle (it could hold another passphrase): its own reads
  auto other_users = other->resource("users").value();
  DatabaseOptions off;
  off.dedup_reads = false;
  auto plain = open_db(off);
  auto plain_users = plain->resource("users").value();
  store_->hold_next_read();
  auto first = users_->get_async("a");
  ASSERT_TRUE(store_->wait_held());
  auto second = other_users.get_async("a");
  auto third = plain_users.get_async("a");
  auto fourth = plain_users.get_async("a");
  EXPECT_EQ(second.get().value()["v"], 1);
  EXPECT_EQ(third.get().value()["v"], 1);
  EXPECT_EQ(fourth.get().value()["v"], 1);
  store_->release();
  EXPECT_EQ(first.get().value()["v"], 1);
  EXPECT_EQ(store_->gets(), 4);
  EXPECT_EQ(client_->pool().stats().deduplicated, 0u);
}

}  // namespace
}  // namespace s3db
