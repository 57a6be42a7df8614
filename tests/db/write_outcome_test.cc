// "Did my write land": ambiguous failures (the store applied the write, then the request failed)
// never apply a write twice, never report someone else's record as ours, and end in the truth or
// in an explicit UnknownOutcome (db/write_loop.h; issue 8, items 5 and 11).
#include "db/write_loop.h"

#include "s3db/database.h"
#include "support/test_env.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace s3db::testing {
namespace {

using nlohmann::json;
using db::Outstanding;
using db::Verdict;
using db::WriteStamp;

// --- the judgement table, row by row ------------------------------------------------------------

TEST(JudgeTest, TheTableOfWriteLoopH) {
  const WriteStamp base{"BASEBASEBASEBA", 4, ""};
  const WriteStamp mine{"MINEMINEMINEMI", 5, ""};
  const Outstanding overwrite{mine, false, base};
  const Outstanding create{WriteStamp{"MINEMINEMINEMI", 1, ""}, true, {}};
  const WriteStamp other5{"OTHEROTHEROTHE", 5, ""};
  const WriteStamp other6{"OTHEROTHEROTHE", 6, ""};
  const WriteStamp other1{"OTHEROTHEROTHE", 1, ""};
  const WriteStamp mine1{"MINEMINEMINEMI", 1, ""};
  // Stamps remember the tokens of the states before them (8 characters each, newest first).
  const WriteStamp past_mine{"LATESTLATESTLA", 7, "XXXXXXXX,MINEMINE,BASEBASE"};
  const WriteStamp past_other{"LATESTLATESTLA", 7, "XXXXXXXX,OTHEROTH,BASEBASE"};
  const WriteStamp created_then_updated{"LATESTLATESTLA", 3, "XXXXXXXX,MINEMINE"};
  const WriteStamp other_created_then_updated{"LATESTLATESTLA", 3, "XXXXXXXX,OTHEROTH"};
  struct Row {
    const char* what;
    const Outstanding& w;
    const WriteStamp* stored;
    Verdict verdict;
  } rows[] = {
      {"overwrite: stored is mine", overwrite, &mine, Verdict::kLanded},
      {"overwrite: unchanged base", overwrite, &base, Verdict::kPending},
      {"overwrite: another write took seq+1", overwrite, &other5, Verdict::kNever},
      {"overwrite: the chain went past seq+1", overwrite, &other6, Verdict::kUnknown},
      {"overwrite: absent (landed, then deleted?)", overwrite, nullptr, Verdict::kUnknown},
      {"overwrite: recreated since", overwrite, &other1, Verdict::kUnknown},
      {"create: stored is mine", create, &mine1, Verdict::kLanded},
      {"create: absent", create, nullptr, Verdict::kPending},
      {"create: someone else's create", create, &other1, Verdict::kNever},
      {"create: someone else's, updated beyond what it remembers", create, &other6, Verdict::kUnknown},
      {"overwrite: two writes past ours, which it remembers", overwrite, &past_mine, Verdict::kLanded},
      {"overwrite: two writes past another's, which it remembers", overwrite, &past_other, Verdict::kNever},
      {"create: ours, updated since", create, &created_then_updated, Verdict::kLanded},
      {"create: someone else's, updated since", create, &other_created_then_updated, Verdict::kNever},
  };
  for (const Row& r : rows) EXPECT_EQ(db::judge(r.w, r.stored), r.verdict) << r.what;
}

// --- a store that applies writes and then fails them ---------------------------------------------

// Forwards to a memory store. `on_put` may act after the write was applied and return a failure
// (a 500 / a timeout after the server stored the object); `on_read` may fail reads (GET and HEAD).
class AmbiguousStore final : public ForwardingClient {
 public:
  AmbiguousStore() : ForwardingClient(make_memory_client()) {}
  std::function<Status(const PutRequest&, bool applied, OpContext&)> on_put;  // non-OK: returned after applying
  std::function<Status(const PutRequest&)> refuse_put;  // non-OK: returned, nothing applied
  std::function<Status(std::string_view key)> on_read;
  std::atomic<int> puts{0};

  // Straight to the store, past the hooks.
  Status remove_directly(std::string_view key) {
    OpContext ctx;
    return target().remove(key, ctx);
  }

  Result<PutResult> put(const PutRequest& r, OpContext& c) override {
    if (refuse_put) S3DB_RETURN_IF_ERROR(refuse_put(r));
    auto res = ForwardingClient::put(r, c);
    ++puts;
    if (on_put) {
      Status s = on_put(r, res.ok(), c);
      if (!s.ok()) return s;
    }
    return res;
  }
  Result<Object> get(std::string_view k, OpContext& c) override {
    if (on_read) S3DB_RETURN_IF_ERROR(on_read(k));
    return ForwardingClient::get(k, c);
  }
  Result<ObjectMeta> head(std::string_view k, OpContext& c) override {
    if (on_read) S3DB_RETURN_IF_ERROR(on_read(k));
    return ForwardingClient::head(k, c);
  }
};

class WriteOutcomeTest : public ::testing::Test {
 protected:
  void SetUp() override { open(3); }
  void open(int retries) {
    ClientOptions o;
    o.pool.backoff.max_retries = retries;
    o.pool.backoff.base = std::chrono::milliseconds(1);
    store_ = std::make_shared<AmbiguousStore>();
    client_ = Client::wrap(store_, o);
    db_ = std::make_unique<Database>(Database::open(client_).value());
    ResourceConfig c;
    c.name = "counters";
    c.attributes = {{"n", "integer|required"}};
    counters_ = std::make_unique<Resource>(db_->create_resource(c).value());
    ASSERT_TRUE(counters_->insert({{"id", "c"}, {"n", 0}}).ok());
  }
  static bool is_record(std::string_view key) { return key.find("/data/id=") != std::string_view::npos; }

  std::shared_ptr<AmbiguousStore> store_;
  std::shared_ptr<Client> client_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<Resource> counters_;
};

OpOptions inline_op() {
  OpOptions o;
  o.bypass = true;  // on this thread, inside the op that is failing
  return o;
}

json increment(json cur) {
  cur["n"] = cur["n"].get<int>() + 1;
  return cur;
}

TEST_F(WriteOutcomeTest, UpdateAppliedThenFailedIsReportedOnceAndAppliedOnce) {
  int failures = 2;
  store_->on_put = [&](const PutRequest& r, bool applied, OpContext&) {
    if (applied && is_record(r.key) && failures > 0) {
      --failures;
      return Status::Unavailable("put", "HTTP 500 after the write");
    }
    return Status::OK();
  };
  std::atomic<int> calls{0};
  auto r = counters_->update("c", [&](json cur) { ++calls; return increment(std::move(cur)); });
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)["n"], 1);
  EXPECT_EQ(calls.load(), 1) << "the mutation ran again although its write had landed";
  store_->on_put = nullptr;
  EXPECT_EQ(counters_->get("c").value()["n"], 1);
  // The next write carries on from there: 1 → 2 → 3 after two more ambiguous successes.
  failures = 2;
  store_->on_put = [&](const PutRequest& r, bool applied, OpContext&) {
    if (applied && is_record(r.key) && failures-- > 0) return Status::Timeout("put", "no answer in time");
    return Status::OK();
  };
  ASSERT_TRUE(counters_->update("c", increment).ok());
  ASSERT_TRUE(counters_->update("c", increment).ok());
  store_->on_put = nullptr;
  EXPECT_EQ(counters_->get("c").value()["n"], 3);
}

TEST_F(WriteOutcomeTest, UpdateWhoseAttemptTimedOutAfterTheWriteIsJudgedByTheNextAttempt) {
  // The first attempt's PUT lands but its answer never comes: the pool's attempt timeout cancels
  // the attempt mid-request. The next attempt reads the record, finds its own stamp and stops.
  bool once = true;
  store_->on_put = [&](const PutRequest& r, bool applied, OpContext& ctx) {
    if (applied && is_record(r.key) && once) {
      once = false;
      for (int i = 0; i < 10000 && !ctx.cancelled(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      EXPECT_TRUE(ctx.cancelled()) << "the attempt timeout did not fire";
      return ctx.cancel_status();
    }
    return Status::OK();
  };
  std::atomic<int> calls{0};
  OpOptions timed;
  timed.timeout = std::chrono::milliseconds(100);
  auto r = counters_->update("c", [&](json cur) { ++calls; return increment(std::move(cur)); }, timed);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(calls.load(), 1);
  store_->on_put = nullptr;
  EXPECT_EQ(counters_->get("c").value()["n"], 1);
}

// Our write lands, other updates follow on top of it, then our request fails: the record is past
// the write we read. Re-applying our mutation would count it twice; the stamp's history shows ours.
TEST_F(WriteOutcomeTest, WritersOnTopOfOurAmbiguousWriteDoNotHideIt) {
  for (const int on_top : {1, static_cast<int>(db::kHistory) - 1}) {
    bool once = true;
    store_->on_put = [&](const PutRequest& r, bool applied, OpContext&) {
      if (applied && is_record(r.key) && once) {
        once = false;
        auto other = db_->resource("counters").value();
        for (int i = 0; i < on_top; ++i) EXPECT_TRUE(other.update("c", increment, inline_op()).ok());
        return Status::Unavailable("put", "HTTP 503 after the write");
      }
      return Status::OK();
    };
    const auto before = counters_->get("c").value()["n"].get<int>();
    std::atomic<int> calls{0};
    auto r = counters_->update("c", [&](json cur) { ++calls; return increment(std::move(cur)); });
    ASSERT_TRUE(r.ok()) << on_top << ": " << r.status().to_string();
    EXPECT_EQ(calls.load(), 1) << on_top;
    store_->on_put = nullptr;
    EXPECT_EQ(counters_->get("c").value()["n"], before + 1 + on_top) << "nothing lost, nothing applied twice";
  }
}

TEST_F(WriteOutcomeTest, WhenTheRecordMovedBeyondWhatItRemembersTheOutcomeIsUnknown) {
  // More writes on top of ours than a stamp remembers, or the record deleted after ours: nobody
  // can tell whether ours was stored. Re-applying could count it twice; claiming success could
  // be false: the caller hears UnknownOutcome, never retried.
  for (const bool deleted : {false, true}) {
    bool once = true;
    store_->on_put = [&](const PutRequest& r, bool applied, OpContext&) {
      if (applied && is_record(r.key) && once) {
        once = false;
        if (deleted) {
          EXPECT_TRUE(store_->remove_directly(r.key).ok());
        } else {
          auto other = db_->resource("counters").value();
          for (std::size_t i = 0; i < db::kHistory + 1; ++i) EXPECT_TRUE(other.update("c", increment, inline_op()).ok());
        }
        return Status::Unavailable("put", "HTTP 503 after the write");
      }
      return Status::OK();
    };
    const auto before = counters_->get("c").value()["n"].get<int>();
    auto r = counters_->update("c", increment);
    EXPECT_EQ(r.status().code(), Code::kUnknownOutcome) << r.status().to_string();
    EXPECT_FALSE(r.status().retryable());
    store_->on_put = nullptr;
    if (deleted) {
      EXPECT_EQ(counters_->get("c").status().code(), Code::kNotFound);
    } else {
      EXPECT_EQ(counters_->get("c").value()["n"], before + 1 + static_cast<int>(db::kHistory) + 1);
    }
  }
}

TEST_F(WriteOutcomeTest, AReadFailingAfterTheAmbiguousWriteDoesNotLeadToASecondApply) {
  // The write lands, its answer is a 500, and the read that would tell fails once: the pool's
  // next attempt must find the write, not run the mutation again.
  bool fail_write = true, fail_read = false;
  store_->on_put = [&](const PutRequest& r, bool applied, OpContext&) {
    if (applied && is_record(r.key) && fail_write) {
      fail_write = false;
      fail_read = true;
      return Status::Unavailable("put", "HTTP 500 after the write");
    }
    return Status::OK();
  };
  store_->on_read = [&](std::string_view) {
    if (!fail_read) return Status::OK();
    fail_read = false;
    return Status::Unavailable("read", "HTTP 503");
  };
  std::atomic<int> calls{0};
  auto r = counters_->update("c", [&](json cur) { ++calls; return increment(std::move(cur)); });
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(calls.load(), 1);
  store_->on_put = nullptr;
  store_->on_read = nullptr;
  EXPECT_EQ(counters_->get("c").value()["n"], 1);
}

TEST_F(WriteOutcomeTest, WhenTheOutcomeCannotBeReadTheCallerHearsUnknownOutcome) {
  open(2);
  // The write lands and fails, and every read after it fails: once the pool has no attempt left,
  // the caller is told the outcome is unknown — not a retryable error it would blindly repeat.
  int reads = 0;
  store_->on_put = [&](const PutRequest& r, bool applied, OpContext&) {
    return applied && is_record(r.key) ? Status::Unavailable("put", "HTTP 500 after the write") : Status::OK();
  };
  store_->on_read = [&](std::string_view) {
    return ++reads > 1 ? Status::Unavailable("read", "HTTP 503") : Status::OK();
  };
  auto r = counters_->update("c", increment);
  EXPECT_EQ(r.status().code(), Code::kUnknownOutcome) << r.status().to_string();
  EXPECT_FALSE(r.status().retryable());
  store_->on_read = nullptr;
  store_->on_put = nullptr;
  EXPECT_EQ(counters_->get("c").value()["n"], 1);  // applied once
}

// The pool may stop retrying for reasons the write loop cannot foresee — here the retry budget
// is spent — while an ambiguous write is outstanding: the caller must hear UnknownOutcome, not the
// Throttled of the read that could not tell (found with radosgw killed mid-import: 6 records were
// reported "Throttled: retry budget spent" although they were stored).
TEST(WriteOutcomeLastWord, ARetryBudgetThatEndsAnAmbiguousWriteGivesUnknownOutcome) {
  auto store = std::make_shared<AmbiguousStore>();
  ClientOptions o;
  o.pool.backoff.base = std::chrono::milliseconds(1);
  o.pool.backoff.throttled_base = std::chrono::milliseconds(1);
  o.pool.retry_budget.enabled = true;
  o.pool.retry_budget.capacity = 5;  // one retry, then the budget is spent
  o.pool.retry_budget.retry_cost = 5;
  auto client = Client::wrap(store, o);
  auto db = Database::open(client);
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  ResourceConfig c;
  c.name = "counters";
  c.attributes = {{"n", "integer|required"}};
  auto counters = db->create_resource(c);
  ASSERT_TRUE(counters.ok()) << counters.status().to_string();
  ASSERT_TRUE(counters->insert({{"id", "c"}, {"n", 0}}).ok());
  bool after_write = false;
  store->on_put = [&](const PutRequest& r, bool applied, OpContext&) {
    if (!applied || r.key.find("/data/id=") == std::string::npos) return Status::OK();
    after_write = true;
    return Status::Unavailable("put", "HTTP 502 after the write");
  };
  store->on_read = [&](std::string_view) {
    return after_write ? Status::Throttled("get", "HTTP 503 SlowDown") : Status::OK();
  };
  auto r = counters->update("c", increment);
  EXPECT_EQ(r.status().code(), Code::kUnknownOutcome) << r.status().to_string();
  EXPECT_NE(r.status().message().find("retry budget spent"), std::string::npos) << "the reason is kept: "
                                                                                  << r.status().to_string();
  store->on_read = nullptr;
  store->on_put = nullptr;
  EXPECT_EQ(counters->get("c").value()["n"], 1);  // it had landed, once
}

TEST_F(WriteOutcomeTest, InsertRetriedAfterAFailureNeverClaimsSomeoneElsesRecord) {
  // Body-only records carry only the schema version in metadata: comparing metadata (what the
  // library did before) took another writer's record for ours.
  ResourceConfig c;
  c.name = "bodies";
  c.attributes = {{"who", "string"}};
  c.behavior = MetadataBudget::kBodyOnly;
  auto bodies = db_->create_resource(c).value();
  bool once = true;
  store_->on_put = [&](const PutRequest& r, bool applied, OpContext&) {
    if (is_record(r.key) && r.key.find("bodies") != std::string::npos && once) {
      once = false;
      EXPECT_TRUE(applied);
      // Ours is gone and someone else's record takes the id before our retry.
      EXPECT_TRUE(store_->remove_directly(r.key).ok());
      auto other = db_->resource("bodies").value();
      EXPECT_TRUE(other.insert({{"id", "x"}, {"who", "other"}}, inline_op()).ok());
      return Status::Unavailable("put", "connection reset");
    }
    return Status::OK();
  };
  auto r = bodies.insert({{"id", "x"}, {"who", "me"}});
  EXPECT_FALSE(r.ok()) << "reported success for someone else's record";
  EXPECT_EQ(r.status().code(), Code::kAlreadyExists) << r.status().to_string();
  store_->on_put = nullptr;
  EXPECT_EQ(bodies.get("x").value()["who"], "other");
}

TEST_F(WriteOutcomeTest, InsertAppliedThenFailedSucceedsOnce) {
  int failures = 1;
  store_->on_put = [&](const PutRequest& r, bool applied, OpContext&) {
    if (applied && is_record(r.key) && failures-- > 0) return Status::Unavailable("put", "HTTP 500");
    return Status::OK();
  };
  auto r = counters_->insert({{"id", "d"}, {"n", 5}});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)["n"], 5);
  store_->on_put = nullptr;
  EXPECT_EQ(counters_->get("d").value()["n"], 5);
  EXPECT_EQ(counters_->insert({{"id", "d"}, {"n", 6}}).status().code(), Code::kAlreadyExists);
}

// Remove: a missing record is NotFound; a retried remove whose DELETE landed before the failure
// reports success (issue 8, item 11).
class DeleteThenFail final : public ForwardingClient {
 public:
  DeleteThenFail() : ForwardingClient(make_memory_client()) {}
  int failures = 0;
  Status remove(std::string_view k, OpContext& c) override {
    Status s = ForwardingClient::remove(k, c);
    if (s.ok() && failures > 0 && k.find("/data/id=") != std::string_view::npos) {
      --failures;
      return Status::Unavailable("delete", "connection reset after the delete");
    }
    return s;
  }
};

TEST(RemoveOutcomeTest, ARetriedRemoveWhoseDeleteLandedSucceeds) {
  ClientOptions o;
  o.pool.backoff.base = std::chrono::milliseconds(1);
  auto store = std::make_shared<DeleteThenFail>();
  auto client = Client::wrap(store, o);
  auto db = Database::open(client).value();
  ResourceConfig c;
  c.name = "things";
  c.attributes = {{"k", "string"}};
  c.partitions = {{"byK", {"k"}}};
  auto things = db.create_resource(c).value();
  ASSERT_TRUE(things.insert({{"id", "a"}, {"k", "v"}}).ok());
  store->failures = 1;
  Status s = things.remove("a");
  EXPECT_TRUE(s.ok()) << s.to_string();
  EXPECT_EQ(things.get("a").status().code(), Code::kNotFound);
  ListOptions in_v;
  in_v.partition = "byK";
  in_v.values = {{"k", "v"}};
  EXPECT_EQ(things.count(in_v).value(), 0u);
  EXPECT_EQ(client->list_all("resource=things/partition=").value().size(), 0u);  // reference gone
  EXPECT_EQ(things.remove("a").code(), Code::kNotFound);  // a missing record stays NotFound
}


// --- the same through a real proxy in front of Ceph RGW --------------------------------------------

// haproxy lets every write reach RGW, then replaces 30 % of the PUT responses by a bare 503 (no S3
// body), as a proxy answers whose backend died before responding. Such a 503 must be judged as
// ambiguous: before it was, it counted as throttling (rejected before processing), so an insert's
// retry found its own record and reported AlreadyExists, and an update's retry applied the
// mutation a second time.
std::string without_trailing_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

TEST(WriteOutcomeBehindAProxy, WritesAnsweredWithABare503AfterApplyingLandOnce) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_FAULT_AFTER_APPLY_URL");
  DatabaseOptions o;
  o.client.pool.backoff.max_retries = 12;  // 0.3^13 ≈ 2e-7 a write: exhausting them is not the point
  o.client.pool.backoff.base = std::chrono::milliseconds(1);
  auto db = Database::open(url + "/" + without_trailing_slash(unique_test_prefix()), o);
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  ResourceConfig c;
  c.name = "counters";
  c.attributes = {{"n", "integer|required"}};
  Result<Resource> created = Status::Internal("not yet");
  for (int i = 0; i < 20 && !created.ok(); ++i) created = db->create_resource(c);  // the catalog's own
  ASSERT_TRUE(created.ok()) << created.status().to_string();  // writes meet the fault too
  Resource counters = std::move(created).value();
  constexpr int kInserts = 60, kUpdates = 60;
  for (int i = 0; i < kInserts; ++i) {
    auto r = counters.insert({{"id", "c" + std::to_string(i)}, {"n", 0}});
    ASSERT_TRUE(r.ok()) << "insert " << i << ": " << r.status().to_string();
  }
  for (int i = 0; i < kUpdates; ++i) {
    auto r = counters.update("c0", increment);
    ASSERT_TRUE(r.ok()) << "update " << i << ": " << r.status().to_string();
  }
  auto got = counters.get("c0");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ((*got)["n"], kUpdates) << "an update was applied twice";
  auto n = counters.count();
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, static_cast<std::size_t>(kInserts));
}

// A Throttled PUT is refused before the store applies it, and the pool retries the op without a
// new read (the base is still current): the retry must build from the whole record it read, not
// from what the first build consumed (it once lost every field the update did not name).
TEST_F(WriteOutcomeTest, AnUpdateRetriedAfterAThrottledWriteKeepsTheFieldsItDidNotChange) {
  ResourceConfig c;
  c.name = "people";
  c.attributes = {{"name", "string"}, {"n", "integer"}};
  auto people = db_->create_resource(c).value();
  ASSERT_TRUE(people.insert({{"id", "p"}, {"name", "Ann"}, {"n", 0}}).ok());
  int refusals = 1;
  store_->refuse_put = [&](const PutRequest& r) {
    if (!is_record(r.key) || refusals == 0) return Status::OK();
    --refusals;
    return Status::Throttled("put", "HTTP 503 SlowDown");
  };
  auto up = people.update("p", json{{"n", 1}});
  store_->refuse_put = nullptr;
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  EXPECT_EQ(refusals, 0);
  auto got = people.get("p").value();
  EXPECT_EQ(got["n"], 1);
  EXPECT_EQ(got["name"], "Ann");
}

}  // namespace
}  // namespace s3db::testing
