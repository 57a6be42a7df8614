// Resource::scan, the streaming reader, on every backend: key order, early stop, the read-ahead
// window, limits that read `limit` documents (list, query and scan alike), skipped vanished
// records, and errors.
#include "s3db/resource.h"

#include "db_fixture.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace s3db::testing {
namespace {

using nlohmann::json;

// Counts the store's requests and how many GETs run at once; can make one key look deleted or
// make GETs fail.
class Watching final : public ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  std::atomic<int> gets{0}, lists{0}, in_get{0}, peak_gets{0};
  std::atomic<int> partition_lists{0};
  std::string vanished;  // GETs of a key ending so answer NotFound
  bool fail_gets = false;

  Result<Object> get(std::string_view k, OpContext& c) override {
    gets.fetch_add(1);
    const int now = in_get.fetch_add(1) + 1;
    int seen = peak_gets.load();
    while (now > seen && !peak_gets.compare_exchange_weak(seen, now)) {
    }
    // Long enough that the pool would run many GETs at once if the scan let it.
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    in_get.fetch_sub(1);
    if (fail_gets) return Status::Unauthorized("get", "denied by the test");
    if (!vanished.empty() && k.ends_with(vanished)) return Status::NotFound("get", "vanished");
    return ForwardingClient::get(k, c);
  }
  Result<ListPage> list(const ListRequest& r, OpContext& c) override {
    lists.fetch_add(1);
    if (r.prefix.find("/partition=") != std::string::npos) partition_lists.fetch_add(1);
    return ForwardingClient::list(r, c);
  }
};

class ScanTest : public DbTest {
 protected:
  // `n` records "r000".."r<n-1>" with a partition by country, written through the fixture's
  // client; then reads go through a Watching client over the same store.
  Resource seeded(int n) {
    ResourceConfig c;
    c.name = "items";
    c.attributes = {{"n", "integer"}, {"country", "string"}};
    c.partitions = {{"byCountry", {"country"}}};
    Resource w = make(c);
    BulkOptions bo;
    bo.keep_documents = false;
    std::vector<json> docs;
    for (int i = 0; i < n; ++i) {
      char id[16];
      std::snprintf(id, sizeof id, "r%03d", i);
      docs.push_back({{"id", id}, {"n", i}, {"country", i % 3 == 0 ? "PT" : "ES"}});
    }
    EXPECT_EQ(w.insert_many(std::move(docs), bo).failed, 0u);
    watch_ = std::make_shared<Watching>(client_->storage_ptr());
    PoolOptions po;
    po.concurrency = 32;
    ClientOptions co;
    co.pool = po;
    watched_ = Client::wrap(watch_, co);
    auto db = Database::open(watched_, options());
    EXPECT_TRUE(db.ok()) << db.status().to_string();
    auto r = db->resource("items");
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    watch_->gets = 0;
    watch_->lists = 0;
    return std::move(r).value();
  }

  static std::vector<std::string> ids_of(const std::vector<json>& docs) {
    std::vector<std::string> out;
    for (const auto& d : docs) out.push_back(d["id"].get<std::string>());
    return out;
  }

  std::shared_ptr<Watching> watch_;
  std::shared_ptr<Client> watched_;
};

TEST_P(ScanTest, DeliversEveryRecordOnceInKeyOrder) {
  Resource r = seeded(40);
  std::vector<std::string> seen;
  ASSERT_TRUE(r.scan({}, [&](json& d) {
                 seen.push_back(d["id"].get<std::string>());
                 return true;
               }).ok());
  ASSERT_EQ(seen.size(), 40u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(watch_->gets.load(), 40);
}

TEST_P(ScanTest, StopsWhenTheCallbackSaysSoAndSendsNothingMore) {
  Resource r = seeded(60);
  ScanOptions o;
  o.window = 4;
  int delivered = 0;
  ASSERT_TRUE(r.scan(o, [&](json&) { return ++delivered < 3; }).ok());
  EXPECT_EQ(delivered, 3);
  // The three delivered, plus at most the window already in flight.
  EXPECT_LE(watch_->gets.load(), 3 + 4);
  EXPECT_EQ(watch_->lists.load(), 1);
}

TEST_P(ScanTest, NeverRunsMoreGetsThanItsWindow) {
  Resource r = seeded(60);
  ScanOptions o;
  o.window = 3;  // the pool would run 32 at once
  int delivered = 0;
  ASSERT_TRUE(r.scan(o, [&](json&) { return ++delivered, true; }).ok());
  EXPECT_EQ(delivered, 60);
  EXPECT_LE(watch_->peak_gets.load(), 3);
}

TEST_P(ScanTest, ALimitReadsThatManyDocumentsInListQueryAndScan) {
  Resource r = seeded(60);
  ListOptions lo;
  lo.limit = 10;
  auto listed = r.list(lo);
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  EXPECT_EQ(ids_of(*listed).front(), "r000");
  EXPECT_EQ(listed->size(), 10u);
  EXPECT_EQ(watch_->gets.load(), 10);

  watch_->gets = 0;
  auto matched = r.query({{"n", {{"$gte", 0}}}}, lo);  // every record matches
  ASSERT_TRUE(matched.ok()) << matched.status().to_string();
  EXPECT_EQ(matched->size(), 10u);
  EXPECT_EQ(watch_->gets.load(), 10);

  watch_->gets = 0;
  ScanOptions so;
  so.limit = 7;
  int delivered = 0;
  ASSERT_TRUE(r.scan(so, [&](json&) { return ++delivered, true; }).ok());
  EXPECT_EQ(delivered, 7);
  EXPECT_EQ(watch_->gets.load(), 7);
}

TEST_P(ScanTest, AFilterThatFixesAPartitionReadsOnlyThePartition) {
  Resource r = seeded(30);
  ScanOptions o;
  o.filter = {{"country", "PT"}, {"n", {{"$lt", 10}}}};
  std::vector<std::string> seen;
  ASSERT_TRUE(r.scan(o, [&](json& d) {
                 seen.push_back(d["id"].get<std::string>());
                 return true;
               }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"r000", "r003", "r006", "r009"}));
  EXPECT_EQ(watch_->gets.load(), 10);  // the partition's 10 records, not the resource's 30
  EXPECT_GE(watch_->partition_lists.load(), 1);
}

TEST_P(ScanTest, ARecordGoneBetweenListAndGetIsSkipped) {
  Resource r = seeded(20);
  watch_->vanished = "/id=r007";
  std::vector<std::string> seen;
  ASSERT_TRUE(r.scan({}, [&](json& d) {
                 seen.push_back(d["id"].get<std::string>());
                 return true;
               }).ok());
  EXPECT_EQ(seen.size(), 19u);
  EXPECT_EQ(std::find(seen.begin(), seen.end(), "r007"), seen.end());
}

TEST_P(ScanTest, AFailedReadStopsTheScanWithItsError) {
  Resource r = seeded(20);
  watch_->fail_gets = true;
  int delivered = 0;
  Status s = r.scan({}, [&](json&) { return ++delivered, true; });
  EXPECT_EQ(s.code(), Code::kUnauthorized) << s.to_string();
  EXPECT_EQ(delivered, 0);
  EXPECT_EQ(r.list().status().code(), Code::kUnauthorized);
}

TEST_P(ScanTest, AMalformedFilterIsInvalidArgumentBeforeAnyRequest) {
  Resource r = seeded(5);
  ScanOptions o;
  o.filter = {{"n", {{"$near", 3}}}};
  Status s = r.scan(o, [](json&) { return true; });
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.to_string();
  EXPECT_NE(s.to_string().find("$near"), std::string::npos) << s.to_string();
  EXPECT_EQ(watch_->lists.load(), 0);
  EXPECT_EQ(watch_->gets.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, ScanTest, ::testing::Values("memory", "file", "rgw"), backend_name);

}  // namespace
}  // namespace s3db::testing
