#include "s3db/resource.h"

#include "db_fixture.h"

#include <set>
#include <type_traits>

namespace s3db::testing {
namespace {

// Behavior was renamed MetadataBudget; the old spelling still compiles (with a deprecation warning).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static_assert(std::is_same_v<Behavior, MetadataBudget>);
#pragma GCC diagnostic pop

using nlohmann::json;

class ResourceTest : public DbTest {
 protected:
  Resource users() {
    ResourceConfig c;
    c.name = "users";
    c.attributes = {{"name", "string|required|min:2|max:100"}, {"age", "integer|min:0"},
                    {"email", "email"}, {"score", "number"}, {"active", "boolean|default:true"},
                    {"tags", "array|items:string"}, {"address", {{"city", "string"}, {"zip", "string"}}},
                    {"born", "date"}, {"extra", "json"}};
    return make(c);
  }
};

TEST_P(ResourceTest, InsertAndGetRoundTrip) {
  auto r = users();
  json doc = {{"name", "Ana Ção"}, {"age", 30}, {"email", "ana@example.com"}, {"score", 9.5},
              {"tags", {"a", "b"}}, {"address", {{"city", "Porto"}, {"zip", "4000"}}},
              {"born", "1994-05-06"}, {"extra", {{"k", {1, 2}}}}};
  auto ins = r.insert(doc);
  ASSERT_TRUE(ins.ok()) << ins.status().to_string();
  const std::string id = (*ins)["id"];
  EXPECT_EQ(id.size(), 22u);
  EXPECT_EQ((*ins)["active"], true);  // default applied
  auto got = r.get(id);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, *ins);
  EXPECT_TRUE(r.exists(id).value());
  EXPECT_FALSE(r.exists("nope").value());
  EXPECT_FALSE(r.get_or_null("nope").value().has_value());
  EXPECT_EQ(r.get("nope").status().code(), Code::kNotFound);
  // Stored under the documented key, fields in metadata only (it fits).
  auto head = client_->head(key("users", id));
  ASSERT_TRUE(head.ok()) << head.status().to_string();
  EXPECT_EQ(head->size, 17u);  // only the write stamp "~<14 characters>.1" (docs/storage-format.md)
  EXPECT_EQ(head->metadata.at("v-"), "1");
}

TEST_P(ResourceTest, DuplicateIdIsAlreadyExistsNeverOverwrite) {
  auto r = users();
  ASSERT_TRUE(r.insert({{"id", "u1"}, {"name", "first"}}).ok());
  auto again = r.insert({{"id", "u1"}, {"name", "second"}});
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(r.get("u1").value()["name"], "first");
}

TEST_P(ResourceTest, BadIdsAreRejectedAndNothingIsWritten) {
  auto r = users();
  for (const json& id : {json("a/b"), json(""), json(std::string(256, 'x')), json(5), json(".."), json("a\nb")}) {
    auto res = r.insert({{"id", id}, {"name", "okay"}});
    EXPECT_EQ(res.status().code(), Code::kInvalidArgument) << id.dump();
  }
  EXPECT_EQ(r.get("a/b").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.remove("").code(), Code::kInvalidArgument);
  EXPECT_EQ(r.update("a/b", json{{"name", "xx"}}).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(raw_list("resource=users/").empty());
}

TEST_P(ResourceTest, ValidationErrorsNameEveryFieldAndWriteNothing) {
  auto r = users();
  auto res = r.insert({{"name", "x"}, {"age", "old"}, {"email", "not-an-email"}, {"tags", {1}}, {"bogus", 1}});
  ASSERT_EQ(res.status().code(), Code::kInvalidArgument);
  const std::string& m = res.status().message();
  for (const char* part : {"name (min:2)", "age (type:integer)", "email (type:email)", "tags[0] (items:string)",
                           "bogus (unknown)"}) {
    EXPECT_NE(m.find(part), std::string::npos) << part << " missing from: " << m;
  }
  EXPECT_EQ(r.insert(json::array({1, 2})).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.insert(json("just a string")).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.insert(json::object()).status().code(), Code::kInvalidArgument);  // name required
  EXPECT_TRUE(raw_list("resource=users/").empty());
}

TEST_P(ResourceTest, UnknownAttributesKeptWhenConfigured) {
  ResourceConfig c;
  c.name = "loose";
  c.attributes = {{"name", "string"}};
  c.unknown_attributes = UnknownAttributes::kKeep;
  auto r = make(c);
  auto ins = r.insert({{"name", "n"}, {"free", {{"x", 1}}}, {"more", "ção"}});
  ASSERT_TRUE(ins.ok()) << ins.status().to_string();
  auto got = r.get((*ins)["id"].get<std::string>()).value();
  EXPECT_EQ(got["free"], (json{{"x", 1}}));
  EXPECT_EQ(got["more"], "ção");
}

TEST_P(ResourceTest, UpdatePatchReplaceUpsert) {
  auto r = users();
  ASSERT_TRUE(r.insert({{"id", "u"}, {"name", "Ana"}, {"age", 1}, {"address", {{"city", "A"}, {"zip", "1"}}}}).ok());
  auto up = r.update("u", json{{"age", 2}});
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  EXPECT_EQ((*up)["age"], 2);
  EXPECT_EQ((*up)["name"], "Ana");
  auto pa = r.patch("u", json{{"address", {{"zip", nullptr}}}, {"age", nullptr}});
  ASSERT_TRUE(pa.ok()) << pa.status().to_string();
  EXPECT_EQ(r.get("u").value()["address"], (json{{"city", "A"}}));
  EXPECT_FALSE(r.get("u").value().contains("age"));
  EXPECT_EQ(r.update("u", json{{"age", -1}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.update("u", json{{"id", "other"}}).status().code(), Code::kInvalidArgument);
  auto rep = r.replace("u", json{{"name", "Bea"}});
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(r.get("u").value(), (json{{"id", "u"}, {"name", "Bea"}, {"active", true}}));
  EXPECT_EQ(r.update("missing", json{{"age", 1}}).status().code(), Code::kNotFound);
  EXPECT_EQ(r.replace("missing", json{{"name", "Bea"}}).status().code(), Code::kNotFound);
  ASSERT_TRUE(r.upsert({{"id", "v"}, {"name", "new"}}).ok());
  ASSERT_TRUE(r.upsert({{"id", "v"}, {"name", "newer"}}).ok());
  EXPECT_EQ(r.get("v").value()["name"], "newer");
  auto fn = r.update("v", [](json cur) { cur["age"] = 41; return cur; });
  ASSERT_TRUE(fn.ok());
  EXPECT_EQ(r.get("v").value()["age"], 41);
}

TEST_P(ResourceTest, RemoveAndAsyncForms) {
  auto r = users();
  auto fut = r.insert_async({{"id", "a1"}, {"name", "async"}});
  auto ins = fut.get();
  ASSERT_TRUE(ins.ok()) << ins.status().to_string();
  EXPECT_EQ(r.get_async("a1").get().value()["name"], "async");
  EXPECT_EQ(r.update_async("a1", json{{"age", 5}}).get().value()["age"], 5);
  EXPECT_TRUE(r.remove_async("a1").get().ok());
  EXPECT_EQ(r.get("a1").status().code(), Code::kNotFound);
  EXPECT_EQ(r.remove("a1").code(), Code::kNotFound);
  EXPECT_TRUE(raw_list("resource=users/").empty());
}

TEST_P(ResourceTest, TimestampsAndCustomIds) {
  ResourceConfig c;
  c.name = "events";
  c.attributes = {{"what", "string"}};
  c.timestamps = true;
  int n = 0;
  c.id_generator = [&n] { return std::string("ev-").append(std::to_string(++n)); };
  auto r = make(c);
  auto ins = r.insert({{"what", "x"}});
  ASSERT_TRUE(ins.ok()) << ins.status().to_string();
  EXPECT_EQ((*ins)["id"], "ev-1");
  const std::string created = (*ins)["createdAt"];
  EXPECT_EQ(created.size(), 24u);  // 2026-01-02T03:04:05.678Z
  auto up = r.update("ev-1", json{{"what", "y"}, {"createdAt", "1999-01-01T00:00:00.000Z"}});
  ASSERT_TRUE(up.ok());
  EXPECT_EQ((*up)["createdAt"], created);  // createdAt is kept
  EXPECT_GE((*up)["updatedAt"].get<std::string>(), created);
  EXPECT_EQ(r.get("ev-1").value()["createdAt"], created);
}

TEST_P(ResourceTest, PartitionsFollowInsertUpdateRemove) {
  ResourceConfig c;
  c.name = "people";
  c.attributes = {{"name", "string"}, {"country", "string"}, {"city", "string"}};
  c.partitions = {{"byCountry", {"country"}}, {"byPlace", {"country", "city"}}};
  auto r = make(c);
  ASSERT_TRUE(r.insert({{"id", "1"}, {"name", "a"}, {"country", "PT"}, {"city", "Porto"}}).ok());
  ASSERT_TRUE(r.insert({{"id", "2"}, {"name", "b"}, {"country", "PT"}, {"city", "Lisboa"}}).ok());
  ASSERT_TRUE(r.insert({{"id", "3"}, {"name", "c"}, {"country", "BR/X"}, {"city", "Rio"}}).ok());
  ListOptions pt;
  pt.partition = "byCountry";
  pt.values = {{"country", "PT"}};
  EXPECT_EQ(r.count(pt).value(), 2u);
  EXPECT_EQ(r.list_ids(pt).value(), (std::vector<std::string>{"1", "2"}));
  ListOptions porto;
  porto.partition = "byPlace";
  porto.values = {{"country", "PT"}, {"city", "Porto"}};
  EXPECT_EQ(r.list(porto).value().at(0)["name"], "a");
  ListOptions br;
  br.partition = "byCountry";
  br.values = {{"country", "BR/X"}};  // '/' in a value is encoded in the key
  EXPECT_EQ(r.list_ids(br).value(), (std::vector<std::string>{"3"}));
  // Move: update changes the partition value.
  ASSERT_TRUE(r.update("2", json{{"country", "ES"}}).ok());
  EXPECT_EQ(r.list_ids(pt).value(), (std::vector<std::string>{"1"}));
  auto q = r.query(json{{"country", "ES"}});
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 1u);
  EXPECT_EQ((*q)[0]["id"], "2");
  EXPECT_EQ(r.query(json{{"name", "c"}}).value().at(0)["id"], "3");  // full scan
  ASSERT_TRUE(r.remove("1").ok());
  EXPECT_EQ(r.count(pt).value(), 0u);
  EXPECT_EQ(raw_list("resource=people/partition=").size(), 4u);  // 2 records × 2 partitions
  ListOptions bad;
  bad.partition = "nope";
  EXPECT_EQ(r.count(bad).status().code(), Code::kInvalidArgument);
  bad.partition = "byPlace";
  bad.values = {{"city", "Rio"}};  // skips the leading field
  EXPECT_EQ(r.count(bad).status().code(), Code::kInvalidArgument);
}

TEST_P(ResourceTest, PagesWithCursors) {
  auto r = users();
  for (int i = 0; i < 25; ++i) {
    const std::string id = (i < 10 ? "p0" : "p") + std::to_string(i);
    ASSERT_TRUE(r.insert({{"id", id}, {"name", "nn"}}).ok());
  }
  std::vector<std::string> seen;
  PageRequest req;
  req.size = 10;
  for (int pages = 0; pages < 10; ++pages) {
    auto p = r.page(req);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    for (auto& d : p->items) seen.push_back(d["id"]);
    if (p->next_cursor.empty()) break;
    req.cursor = p->next_cursor;
  }
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 25u);
  EXPECT_EQ(r.count().value(), 25u);
  ListOptions lim;
  lim.limit = 7;
  EXPECT_EQ(r.list(lim).value().size(), 7u);
}

TEST_P(ResourceTest, BulkCallsReportPerItem) {
  auto r = users();
  std::vector<json> docs;
  for (int i = 0; i < 30; ++i) docs.push_back({{"id", std::string("b").append(std::to_string(i))}, {"name", "bulk"}});
  docs.push_back({{"id", "b0"}, {"name", "dup"}});
  docs.push_back({{"name", "x"}});  // min:2 fails
  auto res = r.insert_many(docs);
  ASSERT_EQ(res.items.size(), 32u);
  EXPECT_EQ(res.succeeded, 30u);
  EXPECT_EQ(res.failed, 2u);
  // Items run concurrently: whichever of the two "b0" inserts lands second is the duplicate.
  EXPECT_EQ(res.items[30].id, "b0");
  const Code first = res.items[0].status.code(), second = res.items[30].status.code();
  EXPECT_TRUE((first == Code::kOk && second == Code::kAlreadyExists) ||
              (first == Code::kAlreadyExists && second == Code::kOk))
      << code_name(first) << " / " << code_name(second);
  EXPECT_EQ(res.items[31].status.code(), Code::kInvalidArgument);
  auto got = r.get_many({"b1", "b2", "missing"});
  EXPECT_EQ(got.succeeded, 2u);
  EXPECT_EQ(got.items[2].status.code(), Code::kNotFound);
  EXPECT_EQ(got.items[1].document["id"], "b2");
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(std::string("b").append(std::to_string(i)));
  auto rm = r.remove_many(ids);
  EXPECT_EQ(rm.succeeded, 30u);
  EXPECT_EQ(r.count().value(), 0u);
}

TEST_P(ResourceTest, OversizeRecordsUnderEachBehavior) {
  const json big = {{"a", std::string(1500, 'a')}, {"b", std::string(1000, 'b')}, {"c", "çç"}};
  const json attrs = {{"a", "string"}, {"b", "string"}, {"c", "string"}};
  for (MetadataBudget b : {MetadataBudget::kEnforceLimits, MetadataBudget::kUserManaged, MetadataBudget::kBodyOverflow,
                     MetadataBudget::kBodyOnly, MetadataBudget::kTruncateData}) {
    ResourceConfig c;
    c.name = "big-" + std::string(behavior_name(b));
    c.attributes = attrs;
    c.behavior = b;
    auto r = make(c);
    json doc = big;
    doc["id"] = "x";
    auto ins = r.insert(doc);
    if (b == MetadataBudget::kEnforceLimits) {
      EXPECT_EQ(ins.status().code(), Code::kInvalidArgument);
      EXPECT_NE(ins.status().message().find("2048"), std::string::npos) << ins.status().message();
      EXPECT_TRUE(raw_list("resource=" + c.name + "/").empty());
      continue;
    }
    ASSERT_TRUE(ins.ok()) << behavior_name(b) << ": " << ins.status().to_string();
    auto head = client_->head(key(c.name, "x"));
    ASSERT_TRUE(head.ok());
    EXPECT_LE(metadata_size(head->metadata), kMaxMetadataBytes) << behavior_name(b);
    auto got = r.get("x");
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    if (b == MetadataBudget::kTruncateData) {
      EXPECT_EQ((*got)["a"], big["a"]);
      EXPECT_LT((*got)["b"].get<std::string>().size(), 1000u);
      EXPECT_FALSE(got->contains("c"));
    } else {
      EXPECT_EQ(*got, doc) << behavior_name(b);
      EXPECT_GT(head->size, 500u);  // fields went to the body
    }
  }
}

TEST_P(ResourceTest, MetadataBudgetExactlyAtTheBoundary) {
  ResourceConfig c;
  c.name = "edge";
  c.attributes = {{"s", "string"}};
  c.behavior = MetadataBudget::kEnforceLimits;
  auto r = make(c);
  // Budget: "v-"+"1" (3 bytes) + key "0" (1) + value: 2044 bytes of value fit exactly.
  ASSERT_TRUE(r.insert({{"id", "fits"}, {"s", std::string(2044, 'x')}}).ok());
  auto head = client_->head(key("edge", "fits"));
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(metadata_size(head->metadata), 2048u);
  EXPECT_EQ(r.insert({{"id", "over"}, {"s", std::string(2045, 'x')}}).status().code(), Code::kInvalidArgument);
  std::string multi;
  for (int i = 0; i < 340; ++i) multi += "é";  // escaped: "~" + 340 × "%C3%A9" = 2041 bytes
  ASSERT_TRUE(r.insert({{"id", "utf8"}, {"s", multi + "abc"}}).ok());
  EXPECT_EQ(r.get("utf8").value()["s"], multi + "abc");
  EXPECT_EQ(r.insert({{"id", "utf8-over"}, {"s", multi + "abcd"}}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.exists("utf8-over").value(), false);
}

INSTANTIATE_TEST_SUITE_P(Backends, ResourceTest, ::testing::Values("memory", "file", "rgw"), backend_name);

// A store whose truncated listing pages lose their continuation token once `stuck` is set: a
// listing that cannot advance. count() and list_ids() used to stop there and answer OK with
// what the first page held.
class TokenlessPages : public ForwardingClient {
 public:
  TokenlessPages() : ForwardingClient(make_memory_client()) {}
  Result<ListPage> list(const ListRequest& r, OpContext& c) override {
    auto page = ForwardingClient::list(r, c);
    if (page.ok() && stuck && page->truncated) page->next_continuation_token.clear();
    return page;
  }
  std::atomic<bool> stuck{false};
};

TEST(ResourceListing, AListingThatCannotAdvanceIsAnErrorNotAPartialAnswer) {
  auto store = std::make_shared<TokenlessPages>();
  DatabaseOptions o;
  o.prefix = "stuck";
  auto db = Database::open(Client::wrap(store), o);
  ASSERT_TRUE(db.ok()) << db.status().to_string();
  ResourceConfig c;
  c.name = "items";
  auto r = db->create_resource(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  std::vector<json> docs;
  for (int i = 0; i < 1001; ++i) docs.push_back({{"id", std::to_string(1000 + i)}});
  ASSERT_EQ(r->insert_many(std::move(docs)).failed, 0u);
  EXPECT_EQ(r->count().value(), 1001u);
  store->stuck = true;
  auto n = r->count();
  EXPECT_EQ(n.status().code(), Code::kInternal) << (n.ok() ? std::to_string(*n) : n.status().to_string());
  EXPECT_EQ(r->list_ids({}).status().code(), Code::kInternal);
  ListOptions first;
  first.limit = 10;  // satisfied by the first page: the listing never needs to advance
  EXPECT_EQ(r->list_ids(first).value().size(), 10u);
}

}  // namespace
}  // namespace s3db::testing
