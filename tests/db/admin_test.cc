// Resource::remove_all, Database::drop_resource, upgrade functions on read and Resource::migrate
// (docs/database.md "Drop, truncate and migrate"), on memory://, file:// and RGW.
#include "s3db/database.h"

#include "db_fixture.h"

#include <atomic>
#include <set>

namespace s3db::testing {
namespace {

using nlohmann::json;

// A store that forwards everything, with hooks for the tests below.
class HookedStorage : public ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  // Refused by remove_many (a per-key DeleteObjects error), left in place.
  std::string refuse_key;
  // Runs once, just before the first conditional (If-Match) PUT of this key is forwarded.
  std::string before_put_key;
  std::function<void()> before_put;

  // Runs once, just before the first remove_many is forwarded.
  std::function<void()> before_remove;

  Result<DeleteManyResult> remove_many(const std::vector<std::string>& keys, OpContext& ctx) override {
    if (before_remove) {
      auto fn = std::move(before_remove);
      before_remove = nullptr;
      fn();
    }
    std::vector<std::string> rest;
    for (const auto& k : keys) {
      if (k != refuse_key) rest.push_back(k);
    }
    auto r = target().remove_many(rest, ctx);
    if (r.ok() && rest.size() != keys.size()) r->failed.emplace_back(refuse_key, Status::Unauthorized("AccessDenied"));
    return r;
  }
  Result<PutResult> put(const PutRequest& req, OpContext& ctx) override {
    // The key first: only the hooked key's PUT touches before_put (other PUTs run concurrently).
    if (req.key == before_put_key && !req.if_match.empty() && before_put) {
      auto fn = std::move(before_put);
      before_put = nullptr;
      fn();
    }
    return target().put(req, ctx);
  }
};

class AdminTest : public DbTest {
 protected:
  // A second Database on the same store, its Client going through a HookedStorage.
  std::unique_ptr<Database> hooked_db(std::shared_ptr<HookedStorage>& hooks) {
    hooks = std::make_shared<HookedStorage>(client_->storage_ptr());
    auto db = Database::open(Client::wrap(hooks), options());
    EXPECT_TRUE(db.ok()) << db.status().to_string();
    return db.ok() ? std::make_unique<Database>(*db) : nullptr;
  }
  std::set<std::string> raw_keys(const std::string& sub) {
    std::set<std::string> keys;
    for (const auto& m : raw_list(sub)) keys.insert(m.key);
    return keys;
  }
  // The schema version a record is stored under ("v-" metadata, base 36).
  std::string stored_version(const std::string& resource, const std::string& id) {
    auto head = client_->head(key(resource, id));
    EXPECT_TRUE(head.ok()) << head.status().to_string();
    return head.ok() ? head->metadata.at("v-") : "";
  }
  static ResourceConfig items() {
    ResourceConfig c;
    c.name = "items";
    c.attributes = {{"n", "integer"}, {"tag", "string"}};
    c.partitions = {{"byTag", {"tag"}}};
    return c;
  }
  // people v1 {name, age} → v2 {fullName, age} → v3 {fullName, age, adult}.
  static ResourceConfig people(int version) {
    ResourceConfig c;
    c.name = "people";
    c.attributes = {{"name", "string"}, {"age", "integer"}};
    if (version >= 2) c.attributes = {{"fullName", "string"}, {"age", "integer"}};
    if (version >= 3) c.attributes["adult"] = "boolean|default:false";
    return c;
  }
  static json rename_name(json d) {
    if (d.contains("name")) d["fullName"] = d["name"];
    d.erase("name");
    return d;
  }
  static json compute_adult(json d) {
    d["adult"] = d.value("age", 0) >= 18;
    return d;
  }
  static void add_upgrades(ResourceConfig& c) {
    c.upgrades[1] = [](json d) -> Result<json> { return rename_name(std::move(d)); };
    c.upgrades[2] = [](json d) -> Result<json> { return compute_adult(std::move(d)); };
  }
};

TEST_P(AdminTest, RemoveAllEmptiesTheRootInPagesAndKeepsTheCatalog) {
  Resource r = make(items());
  ResourceConfig other = items();
  other.name = "itemsx";  // its root starts with "resource=items" too, but not with "resource=items/"
  Resource x = make(other);
  ASSERT_TRUE(x.insert({{"id", "keep"}, {"n", 1}, {"tag", "a"}}).ok());
  std::vector<json> docs;
  for (int i = 0; i < 2100; ++i) {
    json d = {{"id", std::string("i") + std::to_string(i)}, {"n", i}};
    if (i % 10 == 0) d["tag"] = std::string("t") + std::to_string(i % 3);  // 210 partition references
    docs.push_back(std::move(d));
  }
  BulkOptions bulk;
  bulk.keep_documents = false;
  ASSERT_EQ(r.insert_many(std::move(docs), bulk).succeeded, 2100u);
  // Another helper's sub-prefix of the root goes too.
  PutRequest extra;
  extra.key = prefix_ + "/resource=items/content/id=i1";
  extra.body = "bytes";
  ASSERT_TRUE(client_->put(extra).ok());
  ASSERT_EQ(raw_keys("resource=items/").size(), 2100u + 210u + 1u);

  std::vector<std::size_t> progress;
  Resource::RemoveAllOptions o;
  o.on_progress = [&](std::size_t deleted) { progress.push_back(deleted); };
  auto removed = r.remove_all(o);
  ASSERT_TRUE(removed.ok()) << removed.status().to_string();
  EXPECT_EQ(removed->deleted, 2311u);
  EXPECT_EQ(removed->failed, 0u);
  EXPECT_TRUE(removed->first_error.ok());
  ASSERT_EQ(progress.size(), 3u);  // three pages of at most 1,000 keys
  EXPECT_EQ(progress[0], 1000u);
  EXPECT_EQ(progress.back(), 2311u);

  EXPECT_TRUE(raw_keys("resource=items/").empty());
  EXPECT_EQ(raw_keys("resource=itemsx/").size(), 2u);  // its record and its partition reference
  EXPECT_EQ(x.get("keep").value()["n"], 1);
  // The resource stays, empty, same schema; it takes records again.
  EXPECT_EQ(db_->list_resources(), (std::vector<std::string>{"items", "itemsx"}));
  EXPECT_EQ(r.count().value(), 0u);
  EXPECT_EQ(r.get("i5").status().code(), Code::kNotFound);
  ASSERT_TRUE(r.insert({{"id", "again"}, {"n", 1}, {"tag", "t0"}}).ok());
  ListOptions by_tag;
  by_tag.partition = "byTag";
  by_tag.values = {{"tag", "t0"}};
  EXPECT_EQ(r.list(by_tag).value().size(), 1u);
  auto reopened = open_db();
  EXPECT_EQ(reopened->resource("items").value().schema_version(), 1);
}

// A record stored while the sweep runs, behind it: its data key was passed, its partition
// reference is still ahead. The sweep removes the reference; remove_all finds the record in one
// more listing and restores it, so the record is in its partition again.
TEST_P(AdminTest, ARecordStoredDuringTheSweepKeepsItsPartitionReference) {
  Resource r = make(items());
  std::vector<json> docs;
  for (int i = 0; i < 1500; ++i) docs.push_back({{"id", std::string("i").append(std::to_string(i))}, {"n", i}, {"tag", "t0"}});
  BulkOptions bulk;
  bulk.keep_documents = false;
  ASSERT_EQ(r.insert_many(std::move(docs), bulk).succeeded, 1500u);

  std::shared_ptr<HookedStorage> hooks;
  auto db = hooked_db(hooks);
  ASSERT_TRUE(db);
  Resource hooked = db->resource("items").value();
  // During the first batch (the first 1,000 data keys, listed already): "a-late" sorts before
  // them, so no later page lists its record; its reference sorts after every record.
  hooks->before_remove = [&r] { ASSERT_TRUE(r.insert({{"id", "a-late"}, {"n", -1}, {"tag", "t0"}}).ok()); };
  auto removed = hooked.remove_all();
  ASSERT_TRUE(removed.ok()) << removed.status().to_string();
  EXPECT_EQ(removed->survivors, 1u);
  std::set<std::string> left;
  for (const std::string& k : raw_keys("resource=items/")) left.insert(k.substr(prefix_.size()));
  EXPECT_EQ(left, (std::set<std::string>{"/resource=items/data/id=a-late",
                                         "/resource=items/partition=byTag/tag=t0/id=a-late"}));
  ListOptions by_tag;
  by_tag.partition = "byTag";
  by_tag.values = {{"tag", "t0"}};
  auto listed = r.list(by_tag);
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0]["id"], "a-late");
}

TEST_P(AdminTest, RefusedKeysAreCountedAndStopADrop) {
  std::shared_ptr<HookedStorage> hooks;
  auto db = hooked_db(hooks);
  ASSERT_TRUE(db);
  auto r = db->create_resource(items());
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(r->insert({{"id", id}, {"n", 1}}).ok());
  hooks->refuse_key = key("items", "b");
  auto removed = r->remove_all();
  ASSERT_TRUE(removed.ok()) << removed.status().to_string();
  EXPECT_EQ(removed->deleted, 2u);
  EXPECT_EQ(removed->failed, 1u);
  EXPECT_EQ(removed->first_error.code(), Code::kUnauthorized);
  EXPECT_NE(removed->first_error.message().find("id=b"), std::string::npos) << removed->first_error.to_string();
  EXPECT_EQ(raw_keys("resource=items/"), (std::set<std::string>{key("items", "b")}));

  // drop_resource: the refusal is its error, and the catalog entry stays.
  Status dropped = db->drop_resource("items");
  EXPECT_EQ(dropped.code(), Code::kUnauthorized) << dropped.to_string();
  EXPECT_NE(dropped.message().find("1 key(s) could not be removed"), std::string::npos) << dropped.to_string();
  EXPECT_TRUE(open_db()->resource("items").ok());
  hooks->refuse_key.clear();
  ASSERT_TRUE(db->drop_resource("items").ok());  // a second drop finishes it
  EXPECT_TRUE(raw_keys("resource=items/").empty());
}

TEST_P(AdminTest, DropResourceRemovesKeysAndCatalogEntry) {
  Resource r = make(items());
  ResourceConfig other = items();
  other.name = "others";
  Resource o = make(other);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(r.insert({{"id", std::string("r") + std::to_string(i)}, {"n", i}, {"tag", "x"}}).ok());
  }
  ASSERT_TRUE(o.insert({{"id", "o1"}, {"n", 1}, {"tag", "x"}}).ok());
  // items gets a second schema version, so that the fresh start below is visible.
  ResourceConfig v2 = items();
  v2.attributes["extra"] = "string";
  ASSERT_EQ(make(v2).schema_version(), 2);

  std::size_t reported = 0;
  Resource::RemoveAllOptions progress;
  progress.on_progress = [&](std::size_t n) { reported = n; };
  ASSERT_TRUE(db_->drop_resource("items", progress).ok());
  EXPECT_EQ(reported, 10u);  // 5 records + 5 partition references
  EXPECT_TRUE(raw_keys("resource=items/").empty());
  EXPECT_EQ(db_->list_resources(), std::vector<std::string>{"others"});
  EXPECT_EQ(o.get("o1").value()["n"], 1);
  EXPECT_EQ(raw_keys("resource=others/").size(), 2u);
  // Another Database (another process) sees it gone.
  auto reopened = open_db();
  EXPECT_EQ(reopened->resource("items").status().code(), Code::kNotFound);
  EXPECT_EQ(db_->drop_resource("items").code(), Code::kNotFound);

  // The old handle is dead: NotFound for its calls, even once the name exists again.
  EXPECT_EQ(r.get("r1").status().code(), Code::kNotFound);
  EXPECT_EQ(r.insert({{"id", "late"}, {"n", 1}}).status().code(), Code::kNotFound);
  EXPECT_TRUE(raw_keys("resource=items/").empty());  // the refused insert wrote nothing

  // Created again: version 1, short keys from the start ("0" for the first attribute).
  ResourceConfig fresh;
  fresh.name = "items";
  fresh.attributes = {{"title", "string"}};
  Resource again = make(fresh);
  EXPECT_EQ(again.schema_version(), 1);
  ASSERT_TRUE(again.insert({{"id", "r1"}, {"title", "new"}}).ok());
  auto head = client_->head(key("items", "r1"));
  ASSERT_TRUE(head.ok()) << head.status().to_string();
  EXPECT_EQ(head->metadata.at("0"), "new");
  EXPECT_EQ(head->metadata.at("v-"), "1");
  EXPECT_EQ(r.get("r1").status().code(), Code::kNotFound);
  EXPECT_EQ(r.update("r1", json{{"n", 2}}).status().code(), Code::kNotFound);
  EXPECT_EQ(r.remove("r1").code(), Code::kNotFound);
  EXPECT_EQ(r.list().value().size(), 0u);  // nothing of the new resource through the old handle
  EXPECT_EQ(again.get("r1").value()["title"], "new");
  EXPECT_EQ(reopened->resource("items").value().get("r1").value()["title"], "new");
}

// A handle that meets a record of a newer schema version re-reads the catalog and takes the
// newer runtime; what name() and schema() returned before stays valid (the replaced runtime is
// kept while the handle lives: under ASan a freed one is a use-after-free here), and reading more
// records of that version keeps the same runtime.
TEST_P(AdminTest, AHandleOutlivesItsSchemaRefresh) {
  Resource v1 = make(people(1));
  const std::string& name = v1.name();
  const Schema& schema = v1.schema();
  Resource v2 = make(people(2));
  ASSERT_TRUE(v2.insert({{"id", "p3"}, {"fullName", "Cid"}, {"age", 40}}).ok());
  ASSERT_EQ(v1.schema_version(), 1);
  auto got = v1.get("p3");  // version 2, unknown to v1: it re-reads s3db.json
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, (json{{"id", "p3"}, {"fullName", "Cid"}, {"age", 40}}));
  EXPECT_EQ(v1.schema_version(), 2);
  EXPECT_EQ(name, "people");
  ASSERT_NE(schema.find("name"), nullptr) << "v1's schema, as it was";
  EXPECT_EQ(schema.find("fullName"), nullptr);
  EXPECT_EQ(schema.find("name")->name, "name");
  const Schema* after = &v1.schema();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(v1.get("p3").ok());
  EXPECT_EQ(&v1.schema(), after) << "the same version: the same runtime";
}

TEST_P(AdminTest, UpgradeChainAppliesOnEveryRead) {
  Resource v1 = make(people(1));
  ASSERT_TRUE(v1.insert({{"id", "p1"}, {"name", "Ann"}, {"age", 30}}).ok());
  ASSERT_TRUE(v1.insert({{"id", "p2"}, {"name", "Bob"}, {"age", 12}}).ok());
  ResourceConfig c2 = people(2);
  c2.upgrades[1] = [](json d) -> Result<json> { return rename_name(std::move(d)); };
  Resource v2 = make(c2);
  ASSERT_TRUE(v2.insert({{"id", "p3"}, {"fullName", "Cid"}, {"age", 40}}).ok());
  EXPECT_EQ(v2.get("p1").value(), (json{{"id", "p1"}, {"fullName", "Ann"}, {"age", 30}}));
  ResourceConfig c3 = people(3);
  add_upgrades(c3);
  Resource v3 = make(c3);
  ASSERT_EQ(v3.schema_version(), 3);
  ASSERT_TRUE(v3.insert({{"id", "p4"}, {"fullName", "Dee"}, {"age", 50}}).ok());

  // get: v1 → v2 → v3, v2 → v3, v3 as stored.
  EXPECT_EQ(v3.get("p1").value(), (json{{"id", "p1"}, {"fullName", "Ann"}, {"age", 30}, {"adult", true}}));
  EXPECT_EQ(v3.get("p2").value(), (json{{"id", "p2"}, {"fullName", "Bob"}, {"age", 12}, {"adult", false}}));
  EXPECT_EQ(v3.get("p3").value(), (json{{"id", "p3"}, {"fullName", "Cid"}, {"age", 40}, {"adult", true}}));
  EXPECT_EQ(v3.get("p4").value(), (json{{"id", "p4"}, {"fullName", "Dee"}, {"age", 50}, {"adult", false}}));
  // list, page and query read through the same path.
  auto all = v3.list();
  ASSERT_TRUE(all.ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), 4u);
  for (const auto& d : *all) {
    EXPECT_TRUE(d.contains("fullName") && d.contains("adult") && !d.contains("name")) << d;
  }
  auto adults = v3.query({{"adult", true}, {"fullName", {{"$prefix", "A"}}}});
  ASSERT_TRUE(adults.ok()) << adults.status().to_string();
  const std::vector<json> want = {json{{"id", "p1"}, {"fullName", "Ann"}, {"age", 30}, {"adult", true}}};
  EXPECT_EQ(*adults, want);
  PageRequest pr;
  pr.size = 2;
  auto page = v3.page(pr);
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  EXPECT_EQ(page->items.at(1)["fullName"], "Bob");
  // An update of an old record starts from the upgraded document and stores version 3.
  ASSERT_TRUE(v3.update("p2", json{{"age", 19}}).ok());
  EXPECT_EQ(stored_version("people", "p2"), "3");
  EXPECT_EQ(v3.get("p2").value()["adult"], false);  // stored as computed then; no upgrade now

  // A handle from Database::resource has no upgrades: the document as decoded — until it is
  // given them (and the same Database's reads are not shared between the two kinds).
  Resource plain = db_->resource("people").value();
  EXPECT_EQ(plain.get("p1").value(), (json{{"id", "p1"}, {"name", "Ann"}, {"age", 30}}));
  EXPECT_EQ(v3.get("p1").value()["fullName"], "Ann");
  plain.set_upgrade(1, [](json d) -> Result<json> { return rename_name(std::move(d)); });
  EXPECT_EQ(plain.get("p1").value(), (json{{"id", "p1"}, {"fullName", "Ann"}, {"age", 30}}));  // step 2 missing
  plain.set_upgrade(1, nullptr);
  EXPECT_TRUE(plain.get("p1").value().contains("name"));
}

TEST_P(AdminTest, FailingUpgradeFailsTheRead) {
  Resource v1 = make(people(1));
  ASSERT_TRUE(v1.insert({{"id", "p1"}, {"name", "Ann"}, {"age", 30}}).ok());
  ResourceConfig c2 = people(2);
  c2.upgrades[1] = [](json) -> Result<json> { return Status::InvalidArgument("rename", "no name here"); };
  Resource v2 = make(c2);
  ASSERT_TRUE(v2.insert({{"id", "p2"}, {"fullName", "Bob"}, {"age", 20}}).ok());
  auto got = v2.get("p1");
  ASSERT_EQ(got.status().code(), Code::kInvalidArgument);
  EXPECT_NE(got.status().message().find("upgrade people/p1 from version 1"), std::string::npos) << got.status().to_string();
  EXPECT_NE(got.status().message().find("no name here"), std::string::npos) << got.status().to_string();
  EXPECT_EQ(v2.list().status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(v2.get("p2").ok());  // records of the current version are not upgraded
  v2.set_upgrade(1, [](json) -> Result<json> { throw std::runtime_error("boom"); });
  EXPECT_EQ(v2.get("p1").status().code(), Code::kInternal);
  v2.set_upgrade(1, [](json) -> Result<json> { return json::array(); });
  EXPECT_EQ(v2.get("p1").status().code(), Code::kInvalidArgument);
  // An update cannot start from a record it cannot read.
  EXPECT_EQ(v2.update("p1", json{{"age", 1}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(stored_version("people", "p1"), "1");
}

TEST_P(AdminTest, MigrateRewritesOldRecordsAndResumes) {
  Resource v1 = make(people(1));
  std::vector<json> docs;
  for (int i = 0; i < 25; ++i) {
    docs.push_back({{"id", std::string("p") + (i < 10 ? "0" : "") + std::to_string(i)}, {"name", "N"}, {"age", i}});
  }
  ASSERT_EQ(v1.insert_many(docs).succeeded, 25u);
  ResourceConfig c3 = people(3);
  c3.upgrades[1] = [](json d) -> Result<json> { return rename_name(std::move(d)); };  // no step 2: default
  ASSERT_TRUE(db_->create_resource(people(2)).ok());
  Resource v3 = make(c3);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(v3.insert({{"id", std::string("q") + std::to_string(i)}, {"fullName", "Q"}, {"age", 1}}).ok());
  }

  Resource::MigrateOptions o;
  o.page_size = 10;
  o.max_in_flight = 4;
  int pages = 0;
  o.on_page = [&](const Resource::MigrateResult& so_far) {
    ++pages;
    EXPECT_EQ(so_far.scanned, 10u);
    return false;  // stop after the first page
  };
  auto first = v3.migrate(o);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(pages, 1);
  EXPECT_FALSE(first->complete);
  EXPECT_EQ(first->scanned, 10u);
  EXPECT_EQ(first->migrated, 10u);
  EXPECT_EQ(first->last_id, "p09");
  EXPECT_EQ(stored_version("people", "p09"), "3");
  EXPECT_EQ(stored_version("people", "p10"), "1");  // after the resume point: untouched

  o.on_page = nullptr;
  o.start_after = first->last_id;
  auto rest = v3.migrate(o);
  ASSERT_TRUE(rest.ok()) << rest.status().to_string();
  EXPECT_TRUE(rest->complete);
  EXPECT_EQ(rest->scanned, 20u);
  EXPECT_EQ(rest->migrated, 15u);
  EXPECT_EQ(rest->already_current, 5u);
  EXPECT_EQ(rest->failed, 0u);
  EXPECT_EQ(rest->last_id, "q4");
  for (const auto& d : docs) EXPECT_EQ(stored_version("people", d["id"].get<std::string>()), "3") << d;

  // Stored as upgraded, with the current schema's defaults: a handle without upgrades sees it.
  Resource plain = db_->resource("people").value();
  EXPECT_EQ(plain.get("p07").value(), (json{{"id", "p07"}, {"fullName", "N"}, {"age", 7}, {"adult", false}}));
  auto again = v3.migrate();
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->migrated, 0u);
  EXPECT_EQ(again->already_current, 30u);
}

TEST_P(AdminTest, MigrateFailuresAreCountedNotFatal) {
  Resource v1 = make(people(1));
  ASSERT_TRUE(v1.insert({{"id", "a"}, {"name", "A"}, {"age", 1}}).ok());
  ASSERT_TRUE(v1.insert({{"id", "b"}, {"name", "B"}, {"age", 2}}).ok());
  ResourceConfig c2 = people(2);
  c2.upgrades[1] = [](json d) -> Result<json> {
    if (d["id"] == "a") return Status::InvalidArgument("upgrade", "cannot");
    return rename_name(std::move(d));
  };
  Resource v2 = make(c2);
  auto res = v2.migrate();
  ASSERT_TRUE(res.ok()) << res.status().to_string();
  EXPECT_EQ(res->migrated, 1u);
  EXPECT_EQ(res->failed, 1u);
  EXPECT_NE(res->first_error.message().find("migrate people/a"), std::string::npos) << res->first_error.to_string();
  EXPECT_TRUE(res->complete);
  EXPECT_EQ(stored_version("people", "a"), "1");
  EXPECT_EQ(stored_version("people", "b"), "2");
}

TEST_P(AdminTest, ConcurrentUpdateDuringMigrateIsKept) {
  std::shared_ptr<HookedStorage> hooks;
  auto db = hooked_db(hooks);
  ASSERT_TRUE(db);
  auto v1 = db->create_resource(people(1));
  ASSERT_TRUE(v1.ok()) << v1.status().to_string();
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(v1->insert({{"id", id}, {"name", "X"}, {"age", 1}}).ok());
  ResourceConfig c2 = people(2);
  c2.upgrades[1] = [](json d) -> Result<json> { return rename_name(std::move(d)); };
  auto migrating = db->create_resource(c2);
  ASSERT_TRUE(migrating.ok()) << migrating.status().to_string();
  // Another writer (another Client on the same store) updates "b" between migrate's read of it and
  // its conditional write.
  ASSERT_TRUE(db_->reload().ok());
  Resource writer = db_->resource("people").value();
  writer.set_upgrade(1, [](json d) -> Result<json> { return rename_name(std::move(d)); });
  Status concurrent;
  hooks->before_put_key = key("people", "b");
  hooks->before_put = [&] { concurrent = writer.update("b", json{{"age", 99}}).status(); };

  auto res = migrating->migrate();
  ASSERT_TRUE(res.ok()) << res.status().to_string();
  ASSERT_TRUE(concurrent.ok()) << concurrent.to_string();
  EXPECT_EQ(res->migrated, 2u);
  EXPECT_EQ(res->raced, 1u);
  EXPECT_EQ(res->failed, 0u);
  EXPECT_EQ(migrating->get("b").value(), (json{{"id", "b"}, {"fullName", "X"}, {"age", 99}}));
  EXPECT_EQ(stored_version("people", "b"), "2");  // the writer stored the current version
}

TEST_P(AdminTest, AdminCallsCheckTheirArguments) {
  Resource r = make(items());
  Resource::MigrateOptions o;
  o.page_size = 0;
  EXPECT_EQ(r.migrate(o).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(db_->drop_resource("nope").code(), Code::kNotFound);
  auto empty = r.migrate();
  ASSERT_TRUE(empty.ok()) << empty.status().to_string();
  EXPECT_TRUE(empty->complete);
  EXPECT_EQ(empty->scanned, 0u);
  ASSERT_TRUE(db_->drop_resource("items").ok());
  EXPECT_EQ(r.remove_all().status().code(), Code::kNotFound);
  EXPECT_EQ(r.migrate().status().code(), Code::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Backends, AdminTest, ::testing::Values("memory", "file", "rgw"), backend_name);

}  // namespace
}  // namespace s3db::testing
