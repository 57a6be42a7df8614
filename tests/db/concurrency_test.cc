// Concurrency semantics: no lost updates, conditional creates across processes, backpressure.
#include "s3db/resource.h"

#include "db_fixture.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <thread>

extern char** environ;

namespace s3db::testing {
namespace {

using nlohmann::json;

class ConcurrencyTest : public DbTest {};

TEST_P(ConcurrencyTest, EightThreadsTimesFiftyIncrementsLoseNothing) {
  ResourceConfig c;
  c.name = "counters";
  c.attributes = {{"n", "integer|required"}};
  auto r = make(c);
  ASSERT_TRUE(r.insert({{"id", "c"}, {"n", 0}}).ok());
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto res = r.update("c", [](json cur) {
          cur["n"] = cur["n"].get<int>() + 1;
          return cur;
        });
        if (!res.ok()) {
          ADD_FAILURE() << res.status().to_string();
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(r.get("c").value()["n"], 400);
}

// Issue 8, item 6: writers moving one record between partitions at once. Whatever interleaving
// happened, each partition read shows the record exactly under its stored value, and the stored
// value's reference exists (a writer that removes references re-reads and restores them).
TEST_P(ConcurrencyTest, ConcurrentPartitionMovesLeavePartitionReadsExact) {
  ResourceConfig c;
  c.name = "movers";
  c.attributes = {{"country", "string|required"}, {"n", "integer"}};
  c.partitions = {{"byCountry", {"country"}}};
  auto r = make(c);
  ASSERT_TRUE(r.insert({{"id", "m"}, {"country", "PT"}, {"n", 0}}).ok());
  const std::vector<std::string> values = {"PT", "ES", "FR", "DE"};
  const int threads = GetParam() == "rgw" ? 4 : 8, moves = GetParam() == "rgw" ? 8 : 25;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < moves; ++i) {
        auto res = r.update("m", json{{"country", values[static_cast<std::size_t>(t + i) % values.size()]}});
        EXPECT_TRUE(res.ok()) << res.status().to_string();
      }
    });
  }
  for (auto& t : pool) t.join();
  const std::string final_value = r.get("m").value()["country"];
  for (const auto& v : values) {
    ListOptions o;
    o.partition = "byCountry";
    o.values = {{"country", v}};
    const auto ids = r.list_ids(o).value();
    const auto expected = v == final_value ? std::vector<std::string>{"m"} : std::vector<std::string>{};
    EXPECT_EQ(ids, expected) << "partition " << v << ", stored value " << final_value;
    EXPECT_EQ(r.count(o).value(), expected.size()) << v;
    EXPECT_EQ(r.query({{"country", v}}).value().size(), expected.size()) << v;
  }
  bool reference = false;
  for (const auto& obj : raw_list("resource=movers/partition=byCountry/country=" + final_value + "/")) {
    reference = reference || obj.key.ends_with("/id=m");
  }
  EXPECT_TRUE(reference) << "the stored value's reference is missing";
}

TEST_P(ConcurrencyTest, AStaleReferenceNeverShowsARecordUnderValuesItNoLongerHas) {
  ResourceConfig c;
  c.name = "stale";
  c.attributes = {{"country", "string|required"}};
  c.partitions = {{"byCountry", {"country"}}};
  auto r = make(c);
  ASSERT_TRUE(r.insert({{"id", "s"}, {"country", "PT"}}).ok());
  // A reference left behind (a crash between the record write and the reference removal).
  ASSERT_TRUE(client_->put(PutRequest{prefix_ + "/resource=stale/partition=byCountry/country=ES/id=s", "", "", {},
                                      false, ""}).ok());
  ListOptions es;
  es.partition = "byCountry";
  es.values = {{"country", "ES"}};
  EXPECT_TRUE(r.list(es).value().empty());
  EXPECT_TRUE(r.list_ids(es).value().empty());
  EXPECT_EQ(r.count(es).value(), 0u);
  EXPECT_TRUE(r.query({{"country", "ES"}}).value().empty());
  PageRequest page;
  page.partition = "byCountry";
  page.values = {{"country", "ES"}};
  EXPECT_TRUE(r.page(page).value().items.empty());
}

// Runs this test binary again as a child inserting one id; exit 0 = inserted, 3 = AlreadyExists.
pid_t spawn_inserter(const std::string& uri, const std::string& prefix, const std::string& id) {
  std::vector<std::string> env_strings = {"S3DB_CHILD_URI=" + uri, "S3DB_CHILD_PREFIX=" + prefix,
                                          "S3DB_CHILD_ID=" + id};
  std::vector<char*> envp;
  for (char** e = environ; *e != nullptr; ++e) envp.push_back(*e);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe";
  std::string filter = "--gtest_filter=ChildProcess.InsertOnce";
  char* argv[] = {self.data(), filter.data(), nullptr};
  pid_t pid = -1;
  if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, envp.data()) != 0) return -1;
  return pid;
}

TEST_P(ConcurrencyTest, TwoProcessesInsertingOneIdGetOneAlreadyExists) {
  if (GetParam() == "memory") GTEST_SKIP() << "a memory store is not shared between processes";
  ResourceConfig c;
  c.name = "race";
  c.attributes = {{"who", "integer"}};
  make(c);
  for (int round = 0; round < 3; ++round) {
    const std::string id = std::string("same-").append(std::to_string(round));
    pid_t a = spawn_inserter(uri_, prefix_, id);
    pid_t b = spawn_inserter(uri_, prefix_, id);
    ASSERT_GT(a, 0);
    ASSERT_GT(b, 0);
    int sa = 0, sb = 0;
    ASSERT_EQ(waitpid(a, &sa, 0), a);
    ASSERT_EQ(waitpid(b, &sb, 0), b);
    ASSERT_TRUE(WIFEXITED(sa) && WIFEXITED(sb));
    std::multiset<int> codes = {WEXITSTATUS(sa), WEXITSTATUS(sb)};
    EXPECT_EQ(codes, (std::multiset<int>{0, 3})) << "round " << round;
  }
}

// The child side of the test above: does nothing unless started by it.
TEST(ChildProcess, InsertOnce) {
  const char* uri = std::getenv("S3DB_CHILD_URI");
  if (uri == nullptr) GTEST_SKIP() << "only runs as a child of TwoProcessesInsertingOneIdGetOneAlreadyExists";
  DatabaseOptions o;
  o.prefix = std::getenv("S3DB_CHILD_PREFIX");
  auto db = Database::open(uri, o);
  if (!db.ok()) std::_Exit(10);
  auto r = db->resource("race");
  if (!r.ok()) std::_Exit(11);
  auto res = r->insert({{"id", std::getenv("S3DB_CHILD_ID")}, {"who", static_cast<int>(getpid())}});
  std::_Exit(res.ok() ? 0 : res.status().is_already_exists() ? 3 : 12);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConcurrencyTest, ::testing::Values("memory", "file", "rgw"), backend_name);

// Counts puts in flight plus ops queued in the pool while insert_many runs.
class WatchingClient : public ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  Result<PutResult> put(const PutRequest& r, OpContext& c) override {
    if (pool != nullptr) {
      auto st = pool->stats();
      const auto outstanding = st.queue_size + st.active;
      std::size_t prev = max_outstanding.load();
      while (outstanding > prev && !max_outstanding.compare_exchange_weak(prev, outstanding)) {
      }
    }
    return ForwardingClient::put(r, c);
  }
  OperationPool* pool = nullptr;
  std::atomic<std::size_t> max_outstanding{0};
};

TEST(BulkBackpressure, InsertManyKeepsAtMostTheWindowOutstanding) {
  auto watching = std::make_shared<WatchingClient>(std::shared_ptr<StorageClient>(make_memory_client()));
  ClientOptions co;
  co.pool.concurrency = 2;
  auto client = Client::wrap(watching, co);
  watching->pool = &client->pool();
  auto db = Database::open(client);
  ASSERT_TRUE(db.ok());
  ResourceConfig c;
  c.name = "bulk";
  c.attributes = {{"i", "integer"}};
  auto r = db->create_resource(c);
  ASSERT_TRUE(r.ok());
  std::vector<json> docs;
  for (int i = 0; i < 2000; ++i) docs.push_back({{"i", i}});
  BulkOptions o;
  o.max_in_flight = 4;
  std::size_t seen = 0;
  o.on_item = [&](std::size_t index, ItemResult& item) {
    EXPECT_EQ(index, seen++);
    EXPECT_TRUE(item.status.ok());
  };
  auto res = r->insert_many(std::move(docs), o);
  EXPECT_EQ(res.succeeded, 2000u);
  EXPECT_TRUE(res.items.empty());  // handed to on_item, not kept
  EXPECT_EQ(seen, 2000u);
  EXPECT_GE(watching->max_outstanding.load(), 1u);
  // Never the whole batch queued at once: the window (4) plus, at most, the pool's slots (2)
  // whose completed ops are still counted active for an instant when the next one is submitted.
  EXPECT_LE(watching->max_outstanding.load(), 6u);
  EXPECT_EQ(r->count().value(), 2000u);
}

}  // namespace
}  // namespace s3db::testing
