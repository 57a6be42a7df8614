// Hooks and resource events (issue 12): before-hooks change or reject a write, after-hooks see what
// was stored, events reach listeners on another thread, outside the write's pool slot, without a
// slow listener holding writes back.
#include "s3db/resource.h"

#include "db_fixture.h"
#include "support/gate.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace s3db::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr auto kPatience = seconds(20);  // bounded waits: a failure ends a test, never hangs it

// Collects the events a listener receives; waits (bounded) for a number of them.
struct Events {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<ResourceEvent> got;
  std::vector<std::thread::id> threads;

  ResourceListener listener() {
    return [this](const ResourceEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      got.push_back(e);
      threads.push_back(std::this_thread::get_id());
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, kPatience, [&] { return got.size() >= n; });
  }
  std::size_t size() {
    std::lock_guard<std::mutex> lock(mu);
    return got.size();
  }
};

class HooksTest : public DbTest {
 protected:
  Resource people(bool timestamps = false, std::vector<PartitionConfig> partitions = {}) {
    ResourceConfig c;
    c.name = "people";
    c.attributes = {{"name", "string|required"}, {"n", "integer"}, {"team", "string"}, {"checked", "boolean"}};
    c.timestamps = timestamps;
    c.partitions = std::move(partitions);
    return make(c);
  }
};

TEST_P(HooksTest, BeforeInsertChangesTheStoredDocument) {
  auto r = people();
  ASSERT_NE(r.before_insert([](json& doc) {
    doc["checked"] = true;
    doc["n"] = doc.value("n", 0) + 100;
    return Status::OK();
  }), 0u);
  auto ins = r.insert({{"id", "a"}, {"name", "Ana"}, {"n", 1}});
  ASSERT_TRUE(ins.ok()) << ins.status().to_string();
  EXPECT_EQ((*ins)["checked"], true);
  auto got = r.get("a");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ((*got)["checked"], true);
  EXPECT_EQ((*got)["n"], 101);
}

TEST_P(HooksTest, BeforeInsertRejectsWithItsStatusAndNothingIsStored) {
  auto r = people();
  r.before_insert([](json& doc) {
    if (doc["name"] == "Mallory") return Status::Unauthorized("people", "no Mallory here");
    return Status::OK();
  });
  auto ins = r.insert({{"id", "m"}, {"name", "Mallory"}});
  EXPECT_EQ(ins.status().code(), Code::kUnauthorized) << ins.status().to_string();
  EXPECT_NE(ins.status().message().find("no Mallory here"), std::string::npos) << ins.status().to_string();
  EXPECT_FALSE(r.exists("m").value());
  EXPECT_EQ(r.count().value(), 0u);
  EXPECT_TRUE(r.insert({{"id", "b"}, {"name", "Bob"}}).ok());
}

TEST_P(HooksTest, ABeforeHookCannotChangeTheIdAndAThrowRejectsTheCall) {
  auto r = people();
  const HookId renames = r.before_insert([](json& doc) {
    doc["id"] = "other";
    return Status::OK();
  });
  EXPECT_EQ(r.insert({{"id", "a"}, {"name", "Ana"}}).status().code(), Code::kInvalidArgument);
  ASSERT_TRUE(r.remove_hook(renames));
  r.before_insert([](json&) -> Status { throw std::runtime_error("boom"); });
  auto ins = r.insert({{"id", "a"}, {"name", "Ana"}});
  EXPECT_EQ(ins.status().code(), Code::kInternal) << ins.status().to_string();
  EXPECT_NE(ins.status().message().find("boom"), std::string::npos);
  EXPECT_EQ(r.count().value(), 0u);
}

TEST_P(HooksTest, AfterInsertSeesTheStoredDocumentWithIdAndTimestamps) {
  auto r = people(/*timestamps=*/true);
  std::vector<json> seen;
  r.after_insert([&](const json& stored) { seen.push_back(stored); });
  auto ins = r.insert({{"name", "Ana"}});  // a generated id
  ASSERT_TRUE(ins.ok()) << ins.status().to_string();
  ASSERT_EQ(seen.size(), 1u) << "after-hooks have run when the call returns";
  EXPECT_EQ(seen[0], *ins);
  EXPECT_TRUE(seen[0]["id"].is_string());
  EXPECT_TRUE(seen[0]["createdAt"].is_string());
  EXPECT_TRUE(seen[0]["updatedAt"].is_string());
  EXPECT_EQ(seen[0], r.get(seen[0]["id"].get<std::string>()).value());
  EXPECT_EQ(r.insert({{"id", seen[0]["id"]}, {"name", "again"}}).status().code(), Code::kAlreadyExists);
  EXPECT_EQ(seen.size(), 1u) << "a failed call runs no after-hook";
}

TEST_P(HooksTest, BeforeUpdateRejectsOrChangesEveryKindOfUpdate) {
  auto r = people();
  ASSERT_TRUE(r.insert({{"id", "a"}, {"name", "Ana"}, {"n", 5}}).ok());
  std::atomic<int> calls{0};
  r.before_update([&](const json& current, json& next) {
    ++calls;
    if (next.value("n", 0) < current.value("n", 0)) return Status::PreconditionFailed("people", "n only grows");
    next["checked"] = true;
    return Status::OK();
  });
  auto down = r.update("a", json{{"n", 1}});
  EXPECT_EQ(down.status().code(), Code::kPreconditionFailed) << down.status().to_string();
  EXPECT_EQ(r.get("a").value()["n"], 5) << "a rejected update writes nothing";
  EXPECT_FALSE(r.get("a").value().contains("checked"));

  auto up = r.update("a", [](json cur) {
    cur["n"] = cur["n"].get<int>() + 1;
    return cur;
  });
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  EXPECT_EQ(r.get("a").value()["checked"], true);
  EXPECT_EQ(r.get("a").value()["n"], 6);
  EXPECT_EQ(r.patch("a", json{{"n", 2}}).status().code(), Code::kPreconditionFailed);
  EXPECT_EQ(r.replace("a", json{{"name", "Ana"}, {"n", 3}}).status().code(), Code::kPreconditionFailed);
  ASSERT_TRUE(r.replace("a", json{{"name", "Ana B"}, {"n", 9}}).ok());
  EXPECT_EQ(r.get("a").value()["checked"], true) << "replace runs before_update on the new document";
  EXPECT_EQ(calls.load(), 5);
}

TEST_P(HooksTest, UpdateEventsAndAfterHooksCarryBeforeAndAfter) {
  auto r = people();
  Events events;
  r.on(ResourceEventKind::kUpdated, events.listener());
  std::vector<std::pair<json, json>> hooked;
  r.after_update([&](const json& before, const json& after) { hooked.emplace_back(before, after); });
  ASSERT_TRUE(r.insert({{"id", "a"}, {"name", "Ana"}, {"n", 1}}).ok());
  ASSERT_TRUE(r.update("a", json{{"n", 2}}).ok());
  ASSERT_EQ(hooked.size(), 1u);
  EXPECT_EQ(hooked[0].first["n"], 1);
  EXPECT_EQ(hooked[0].second["n"], 2);
  ASSERT_TRUE(events.wait_for(1));
  std::lock_guard<std::mutex> lock(events.mu);
  ASSERT_EQ(events.got.size(), 1u) << "an insert is not an update";
  const ResourceEvent& e = events.got[0];
  EXPECT_EQ(e.kind, ResourceEventKind::kUpdated);
  EXPECT_EQ(e.resource, "people");
  EXPECT_EQ(e.id, "a");
  EXPECT_EQ(e.before["n"], 1);
  EXPECT_EQ(e.after["n"], 2);
  EXPECT_EQ(e.after, r.get("a").value());
}

TEST_P(HooksTest, DeleteHooksAndEvents) {
  for (bool partitioned : {false, true}) {
    SCOPED_TRACE(partitioned ? "with a partition (the remove reads the record anyway)" : "no partition");
    ResourceConfig c;
    c.name = partitioned ? "teams" : "plain";
    c.attributes = {{"name", "string|required"}, {"team", "string"}};
    if (partitioned) c.partitions = {PartitionConfig{"by_team", {"team"}}};
    auto r = make(c);
    ASSERT_TRUE(r.insert({{"id", "keep"}, {"name", "K"}, {"team", "x"}}).ok());
    ASSERT_TRUE(r.insert({{"id", "go"}, {"name", "G"}, {"team", "x"}}).ok());
    r.before_delete([](std::string_view id) {
      return id == "keep" ? Status::InvalidArgument("plain", "kept on purpose") : Status::OK();
    });
    std::vector<std::pair<std::string, json>> removed;
    r.after_delete([&](std::string_view id, const json* doc) {
      removed.emplace_back(std::string(id), doc ? *doc : json("none"));
    });
    Events events;
    r.on(ResourceEventKind::kDeleted, events.listener());

    EXPECT_EQ(r.remove("keep").code(), Code::kInvalidArgument);
    EXPECT_TRUE(r.exists("keep").value());
    ASSERT_TRUE(r.remove("go").ok());
    EXPECT_FALSE(r.exists("go").value());
    ASSERT_EQ(removed.size(), 1u);
    EXPECT_EQ(removed[0].first, "go");
    EXPECT_EQ(removed[0].second["name"], "G") << "the removed record is passed on";
    EXPECT_EQ(r.remove("go").code(), Code::kNotFound);
    EXPECT_EQ(removed.size(), 1u);
    ASSERT_TRUE(events.wait_for(1));
    std::lock_guard<std::mutex> lock(events.mu);
    ASSERT_EQ(events.got.size(), 1u);
    EXPECT_EQ(events.got[0].kind, ResourceEventKind::kDeleted);
    EXPECT_EQ(events.got[0].id, "go");
    EXPECT_EQ(events.got[0].before["name"], "G");
    EXPECT_TRUE(events.got[0].after.is_null());
    if (partitioned) {
      ListOptions lo;
      lo.partition = "by_team";
      lo.values = {{"team", "x"}};
      EXPECT_EQ(r.list_ids(lo).value(), std::vector<std::string>{"keep"});
    }
  }
}

TEST_P(HooksTest, EventsArriveOnAnotherThreadAndNeverInsideTheWritesPoolSlot) {
  ClientOptions co;
  co.concurrency = 1;
  co.pool.concurrency = 1;
  auto narrow = Client::wrap(client_->storage_ptr(), co);
  auto db = Database::open(narrow, options());
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  people();
  auto r = db->resource("people").value();
  Gate second_done(kPatience);
  std::atomic<bool> saw_second{false};
  Events events;
  auto collect = events.listener();
  r.on(ResourceEventKind::kInserted, [&](const ResourceEvent& e) {
    // Waits for a write that needs the pool's only slot: delivered inside the first write's slot,
    // this would wait out its patience and the first write would not return before.
    if (e.id == "first") saw_second = second_done.wait();
    collect(e);
  });
  auto first = r.insert_async({{"id", "first"}, {"name", "A"}});
  ASSERT_TRUE(first.get().ok());
  ASSERT_TRUE(r.insert({{"id", "second"}, {"name", "B"}}).ok());
  second_done.open();
  ASSERT_TRUE(events.wait_for(2));
  EXPECT_TRUE(saw_second.load()) << "the listener ran while the first write held the slot";
  std::lock_guard<std::mutex> lock(events.mu);
  EXPECT_EQ(events.got[0].id, "first") << "acknowledged first, delivered first";
  EXPECT_EQ(events.got[1].id, "second");
  for (auto id : events.threads) EXPECT_NE(id, std::this_thread::get_id());
}

TEST_P(HooksTest, ASlowListenerDoesNotBlockWritesAndDropsAreCounted) {
  DatabaseOptions o = options();
  o.event_queue_capacity = 2;
  auto db = Database::open(client_, o);
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  people();
  auto r = db->resource("people").value();
  Gate go(kPatience);
  std::atomic<int> delivered{0};
  r.on(ResourceEventKind::kInserted, [&](const ResourceEvent&) {
    (void)go.wait();
    ++delivered;
  });
  struct Release {
    Gate& g;
    ~Release() { g.open(); }
  } release{go};
  constexpr int kWrites = 10;
  for (int i = 0; i < kWrites; ++i) {
    ASSERT_TRUE(r.insert({{"id", std::string("p") + std::to_string(i)}, {"name", "x"}}).ok());
  }
  // One event at most is with the (blocked) listener, two wait in the queue: the rest are dropped.
  const std::uint64_t dropped = r.events_dropped();
  EXPECT_GE(dropped, static_cast<std::uint64_t>(kWrites - 3));
  EXPECT_LE(dropped, static_cast<std::uint64_t>(kWrites - 2));
  EXPECT_EQ(db_->resource("people").value().events_dropped(), 0u) << "counted per Database";
  go.open();
  const auto until = std::chrono::steady_clock::now() + kPatience;
  while (delivered.load() + static_cast<int>(dropped) < kWrites && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(delivered.load() + static_cast<int>(dropped), kWrites);
  EXPECT_EQ(r.events_dropped(), dropped);
}

TEST_P(HooksTest, RemovingAHookOrListenerStopsIt) {
  auto r = people();
  const HookId mark = r.before_insert([](json& doc) {
    doc["checked"] = true;
    return Status::OK();
  });
  std::atomic<int> removed_calls{0};
  const HookId counting = r.on(ResourceEventKind::kInserted, [&](const ResourceEvent&) { ++removed_calls; });
  Events kept;
  r.on(ResourceEventKind::kInserted, kept.listener());
  ASSERT_TRUE(r.insert({{"id", "a"}, {"name", "A"}}).ok());
  ASSERT_TRUE(kept.wait_for(1));
  EXPECT_TRUE(r.remove_hook(mark));
  EXPECT_TRUE(r.remove_hook(counting));
  const int before = removed_calls.load();
  EXPECT_EQ(before, 1);
  EXPECT_FALSE(r.remove_hook(mark));
  EXPECT_FALSE(r.remove_hook(0));
  ASSERT_TRUE(r.insert({{"id", "b"}, {"name", "B"}}).ok());
  EXPECT_FALSE(r.get("b").value().contains("checked"));
  ASSERT_TRUE(kept.wait_for(2));  // delivered after the removed listener would have been called
  EXPECT_EQ(removed_calls.load(), before);
}

TEST_P(HooksTest, BulkCallsFireHooksAndEventsPerItem) {
  auto r = people();
  std::atomic<int> before{0}, after{0}, deleted{0};
  r.before_insert([&](json&) {
    ++before;
    return Status::OK();
  });
  r.after_insert([&](const json&) { ++after; });
  r.after_delete([&](std::string_view, const json*) { ++deleted; });
  Events events;
  r.on(ResourceEventKind::kInserted, events.listener());
  std::vector<json> docs;
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    ids.push_back(std::string("b") + std::to_string(i));
    docs.push_back({{"id", ids.back()}, {"name", "x"}});
  }
  auto res = r.insert_many(docs);
  EXPECT_EQ(res.succeeded, 25u);
  EXPECT_EQ(before.load(), 25);
  EXPECT_EQ(after.load(), 25);
  ASSERT_TRUE(events.wait_for(25));
  std::set<std::string> got;
  {
    std::lock_guard<std::mutex> lock(events.mu);
    for (const auto& e : events.got) got.insert(e.id);
  }
  EXPECT_EQ(got, std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_EQ(r.remove_many(ids).succeeded, 25u);
  EXPECT_EQ(deleted.load(), 25);
}

TEST_P(HooksTest, HooksOfOneHandleApplyToEveryHandleOfTheResource) {
  auto first = people();
  auto second = db_->resource("people").value();
  first.before_insert([](json& doc) {
    doc["checked"] = true;
    return Status::OK();
  });
  Events events;
  second.on(ResourceEventKind::kInserted, events.listener());
  ASSERT_TRUE(second.insert({{"id", "a"}, {"name", "A"}}).ok());
  EXPECT_EQ(first.get("a").value()["checked"], true);
  ASSERT_TRUE(db_->resource("people").value().insert({{"id", "b"}, {"name", "B"}}).ok());
  ASSERT_TRUE(events.wait_for(2)) << "a listener registered on one handle hears the writes of another";
  // Another resource of the same database is not concerned.
  ResourceConfig c;
  c.name = "others";
  c.attributes = {{"name", "string"}};
  auto others = make(c);
  auto o = others.insert({{"id", "x"}, {"name", "X"}});
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE(o->contains("checked"));
}

TEST_P(HooksTest, UpsertRunsTheHooksOfWhatItDoesAndRestoreRunsNone) {
  auto r = people();
  std::atomic<int> inserts{0}, updates{0};
  r.before_insert([&](json& doc) {
    ++inserts;
    doc["team"] = "new";
    return Status::OK();
  });
  r.before_update([&](const json& current, json& next) {
    ++updates;
    next["team"] = current["team"].get<std::string>() + "+";
    return Status::OK();
  });
  Events events;
  r.on(ResourceEventKind::kInserted, events.listener());
  r.on(ResourceEventKind::kUpdated, events.listener());
  ASSERT_TRUE(r.upsert({{"id", "u"}, {"name", "U"}}).ok());
  EXPECT_EQ(r.get("u").value()["team"], "new");
  ASSERT_TRUE(r.upsert({{"id", "u"}, {"name", "U2"}}).ok());
  EXPECT_EQ(r.get("u").value()["team"], "new+");
  EXPECT_EQ(inserts.load(), 1);
  EXPECT_EQ(updates.load(), 1);
  ASSERT_TRUE(r.restore({{"id", "r"}, {"name", "R"}}).ok());
  EXPECT_FALSE(r.get("r").value().contains("team")) << "restore writes the document as given";
  EXPECT_EQ(inserts.load(), 1);
  ASSERT_TRUE(events.wait_for(3));
  std::lock_guard<std::mutex> lock(events.mu);
  EXPECT_EQ(events.got[0].kind, ResourceEventKind::kInserted);
  EXPECT_EQ(events.got[1].kind, ResourceEventKind::kUpdated);
  EXPECT_EQ(events.got[1].before["team"], "new");
  EXPECT_EQ(events.got[1].after["team"], "new+");
  EXPECT_EQ(events.got[2].kind, ResourceEventKind::kInserted);
  EXPECT_EQ(events.got[2].id, "r");
}

TEST_P(HooksTest, QueuedEventsAreDeliveredWhenTheLastHandleGoes) {
  std::atomic<int> delivered{0};
  {
    auto db = Database::open(client_, options());
    ASSERT_TRUE(db.ok());
    people();
    auto r = db->resource("people").value();
    r.on(ResourceEventKind::kInserted, [&](const ResourceEvent&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      ++delivered;
    });
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(r.insert({{"id", std::string("q") + std::to_string(i)}, {"name", "q"}}).ok());
  }  // the database's last handle: its release waits for the queue
  EXPECT_EQ(delivered.load(), 10);
}

// A listener that captures a Resource keeps its Database alive (a cycle) until it removes itself;
// the Database then goes on the dispatcher thread, which must neither join itself nor deadlock on
// its own queue's lock.
TEST_P(HooksTest, AListenerHoldingTheLastHandleCanRemoveItself) {
  auto gone = std::make_shared<Gate>(kPatience);
  struct OpensWhenDestroyed {
    std::shared_ptr<Gate> gate;
    ~OpensWhenDestroyed() { gate->open(); }
  };
  // Members are destroyed last to first: the handle, then the flag that opens the gate.
  struct SelfRemoving {
    std::shared_ptr<OpensWhenDestroyed> flag;
    Resource r;
    std::shared_ptr<HookId> id;
    void operator()(const ResourceEvent&) { r.remove_hook(*id); }
  };
  const long client_refs = client_.use_count();
  {
    auto db = Database::open(client_, options());
    ASSERT_TRUE(db.ok());
    people();
    auto r = db->resource("people").value();
    auto id = std::make_shared<HookId>(0);
    *id = r.on(ResourceEventKind::kInserted,
               SelfRemoving{std::make_shared<OpensWhenDestroyed>(OpensWhenDestroyed{gone}), r, id});
    ASSERT_TRUE(r.insert({{"id", "a"}, {"name", "A"}}).ok());
  }  // our handles go; the listener's remains
  EXPECT_TRUE(gone->wait()) << "the listener (and the last handle it held) was never released";
  // The Database goes on the (detached) dispatcher thread, which may still be finishing its
  // release: wait until it let go of the Client, so that the Client (its pool threads, and with
  // them the TLS library's per-thread state) is released here, before the process exits.
  for (int i = 0; i < 3000 && client_.use_count() > client_refs; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(client_.use_count(), client_refs) << "the released Database still holds its Client";
}

INSTANTIATE_TEST_SUITE_P(Backends, HooksTest, ::testing::Values("memory", "file", "rgw"), backend_name);

// A child forked while the parent's dispatcher thread runs has no such thread: its first event
// starts one (and the queue's lock, held by no thread of the child, is usable).
class HooksForkTest : public DbTest {};

TEST_P(HooksForkTest, AForkedChildDeliversItsOwnEvents) {
#if defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "ThreadSanitizer cannot run a child that starts threads after a multi-threaded fork";
#endif
  ResourceConfig c;
  c.name = "forked";
  c.attributes = {{"name", "string"}};
  auto r = make(c);
  auto heard = std::make_shared<std::atomic<int>>(0);  // in the child: its own copy
  r.on(ResourceEventKind::kInserted, [heard](const ResourceEvent&) { ++*heard; });
  ASSERT_TRUE(r.insert({{"id", "parent"}, {"name", "p"}}).ok());
  for (int i = 0; i < 2000 && heard->load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(heard->load(), 1) << "the parent's dispatcher thread runs";
  client_->pool().drain();
  const pid_t pid = ::fork();
  if (pid == 0) {
    OpOptions inline_op;
    inline_op.bypass = true;  // on this thread: the pool's workers stayed in the parent
    if (!r.insert({{"id", "child"}, {"name", "c"}}, inline_op).ok()) std::_Exit(2);
    for (int i = 0; i < 2000; ++i) {
      if (heard->load() == 2) std::_Exit(0);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::_Exit(3);
  }
  ASSERT_GT(pid, 0);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 3000 && done == 0; ++i) {
    done = ::waitpid(pid, &status, WNOHANG);
    if (done == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (done == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "the child hung";
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: the child's insert failed; 3: its event never came";
  ASSERT_TRUE(r.insert({{"id", "parent2"}, {"name", "p"}}).ok());  // the parent's dispatcher still runs
  for (int i = 0; i < 2000 && heard->load() < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(heard->load(), 2);
}

// Not on RGW: the child uses the parent's client, whose S3 connections are the parent's.
INSTANTIATE_TEST_SUITE_P(Backends, HooksForkTest, ::testing::Values("memory", "file"), backend_name);

}  // namespace
}  // namespace s3db::testing
