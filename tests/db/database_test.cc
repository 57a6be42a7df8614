#include "s3db/database.h"

#include "db_fixture.h"

#include <functional>
#include <vector>

namespace s3db::testing {
namespace {

using nlohmann::json;

class DatabaseTest : public DbTest {};

TEST_P(DatabaseTest, ReopenRestoresResources) {
  ResourceConfig c;
  c.name = "users";
  c.attributes = {{"name", "string"}};
  c.partitions = {{"byName", {"name"}}};
  c.behavior = MetadataBudget::kBodyOverflow;
  auto r = make(c);
  ASSERT_TRUE(r.insert({{"id", "1"}, {"name", "ana"}}).ok());
  EXPECT_EQ(db_->list_resources(), std::vector<std::string>{"users"});
  auto db2 = open_db();
  ASSERT_TRUE(db2);
  EXPECT_EQ(db2->list_resources(), std::vector<std::string>{"users"});
  auto r2 = db2->resource("users");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->behavior(), MetadataBudget::kBodyOverflow);
  EXPECT_EQ(r2->partitions().size(), 1u);
  EXPECT_EQ(r2->get("1").value()["name"], "ana");
  EXPECT_EQ(db2->resource("nope").status().code(), Code::kNotFound);
  // Same definition again: same version, no error.
  auto again = db2->create_resource(c);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->schema_version(), 1);
  // The catalog is at the prefix root.
  EXPECT_TRUE(client_->head(prefix_ + "/s3db.json").ok());
  EXPECT_EQ(db_->catalog_key(), prefix_ + "/s3db.json");
}

TEST_P(DatabaseTest, ChangedSchemaCreatesAVersionAndOldRecordsStayReadable) {
  ResourceConfig c;
  c.name = "items";
  c.attributes = {{"name", "string"}, {"qty", "string"}};
  auto v1 = make(c);
  ASSERT_TRUE(v1.insert({{"id", "old"}, {"name", "n"}, {"qty", "12"}}).ok());
  c.attributes = {{"name", "string"}, {"qty", "integer"}, {"price", "number"}};
  auto db2 = open_db();
  auto v2 = db2->create_resource(c);
  ASSERT_TRUE(v2.ok()) << v2.status().to_string();
  EXPECT_EQ(v2->schema_version(), 2);
  ASSERT_TRUE(v2->insert({{"id", "new"}, {"name", "m"}, {"qty", 3}, {"price", 1.5}}).ok());
  EXPECT_EQ(v2->get("old").value(), (json{{"id", "old"}, {"name", "n"}, {"qty", "12"}}));  // decoded as v1
  EXPECT_EQ(v2->get("new").value()["qty"], 3);
  // A handle still on version 1 reads a version-2 record after refreshing the catalog.
  EXPECT_EQ(v1.get("new").value()["price"], 1.5);
  // Short keys never change: name/qty keep theirs, price gets a new one.
  auto cat = client_->get(prefix_ + "/s3db.json");
  ASSERT_TRUE(cat.ok());
  json j = json::parse(cat->body);
  EXPECT_EQ(j["resources"]["items"]["keys"], (json{{"name", "0"}, {"qty", "1"}, {"price", "2"}}));
  EXPECT_EQ(j["resources"]["items"]["currentVersion"], 2);
  auto db3 = open_db();
  EXPECT_EQ(db3->resource("items").value().schema_version(), 2);
}

TEST_P(DatabaseTest, CorruptCatalogIsAClearErrorAndIsNotOverwritten) {
  for (const std::string& body : {std::string("{not json"), std::string("[1,2]"),
                                 std::string(R"({"format":"s3db","formatVersion":99,"resources":{}})"),
                                 std::string(R"({"format":"s3db","formatVersion":1,"resources":{"x":{"currentVersion":"1"}}})")}) {
    PutRequest put;
    put.key = prefix_ + "/s3db.json";
    put.body = body;
    ASSERT_TRUE(client_->put(put).ok());
    auto db = Database::open(client_, options());
    ASSERT_FALSE(db.ok()) << body;
    EXPECT_EQ(db.status().code(), Code::kInvalidArgument);
    EXPECT_NE(db.status().message().find("corrupt"), std::string::npos) << db.status().message();
    EXPECT_EQ(client_->get(prefix_ + "/s3db.json").value().body, body);
  }
}

TEST_P(DatabaseTest, BadResourceDefinitions) {
  ResourceConfig c;
  c.name = "bad/name";
  EXPECT_EQ(db_->create_resource(c).status().code(), Code::kInvalidArgument);
  c.name = "ok";
  c.attributes = {{"a", "nonsense"}};
  EXPECT_EQ(db_->create_resource(c).status().code(), Code::kInvalidArgument);
  c.attributes = {{"a", "string"}};
  c.partitions = {{"p", {"missing"}}};
  EXPECT_EQ(db_->create_resource(c).status().code(), Code::kInvalidArgument);
  c.partitions = {};
  c.attributes = {{"pw", "secret"}};
  auto s = db_->create_resource(c);  // no passphrase
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find("passphrase"), std::string::npos);
  EXPECT_TRUE(db_->list_resources().empty());
}

// ResourceConfig::validate() is the one home of the checks create_resource makes before any I/O:
// each bad definition gets the same InvalidArgument from both, naming the part.
TEST_P(DatabaseTest, ValidateNamesWhatCreateResourceWouldRefuse) {
  auto base = [] {
    ResourceConfig c;
    c.name = "people";
    c.attributes = {{"name", "string"}, {"tags", "array"}};
    return c;
  };
  struct Case {
    const char* what;
    std::function<void(ResourceConfig&)> spoil;
    const char* word;
  };
  const std::vector<Case> cases = {
      {"name", [](ResourceConfig& c) { c.name = "bad/name"; }, "bad/name"},
      {"rule", [](ResourceConfig& c) { c.attributes["age"] = "integr"; }, "age"},
      {"id_size low", [](ResourceConfig& c) { c.id_size = 7; }, "id_size"},
      {"id_size high", [](ResourceConfig& c) { c.id_size = 65; }, "id_size"},
      {"partition name", [](ResourceConfig& c) { c.partitions = {{"by/name", {"name"}}}; }, "by/name"},
      {"no fields", [](ResourceConfig& c) { c.partitions = {{"p", {}}}; }, "at least one field"},
      {"unknown field", [](ResourceConfig& c) { c.partitions = {{"p", {"nope"}}}; }, "\"nope\""},
      {"not scalar", [](ResourceConfig& c) { c.partitions = {{"p", {"tags"}}}; }, "\"tags\""},
  };
  EXPECT_TRUE(base().validate().ok());
  ResourceConfig generated = base();
  generated.id_size = 0;
  generated.id_generator = [] { return std::string("fixed-id"); };
  EXPECT_TRUE(generated.validate().ok()) << "id_size is unused with a generator";
  for (const Case& k : cases) {
    ResourceConfig c = base();
    k.spoil(c);
    const Status v = c.validate();
    EXPECT_EQ(v.code(), Code::kInvalidArgument) << k.what;
    EXPECT_NE(v.message().find(k.word), std::string::npos) << k.what << ": " << v.message();
    const Status created = db_->create_resource(c).status();
    EXPECT_EQ(created.code(), v.code()) << k.what;
    EXPECT_EQ(created.message(), v.message()) << k.what;
  }
  EXPECT_TRUE(db_->list_resources().empty());
}

TEST_P(DatabaseTest, SecretsAreEncryptedAtRest) {
  auto db = open_db("correct horse battery staple");
  ASSERT_TRUE(db);
  ResourceConfig c;
  c.name = "accounts";
  c.attributes = {{"user", "string"}, {"password", "secret|required"}};
  c.behavior = MetadataBudget::kBodyOnly;  // the body must not leak it either
  auto r = db->create_resource(c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  const std::string plain = "hunter2-very-secret";
  ASSERT_TRUE(r->insert({{"id", "a"}, {"user", "u"}, {"password", plain}}).ok());
  EXPECT_EQ(r->get("a").value()["password"], plain);
  auto raw = client_->get(key("accounts", "a"));
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->body.find("hunter2"), std::string::npos);
  for (const auto& [k, v] : raw->meta.metadata) EXPECT_EQ(v.find("hunter2"), std::string::npos);
  auto cat = client_->get(prefix_ + "/s3db.json");
  EXPECT_EQ(cat->body.find("correct horse"), std::string::npos);

  auto wrong = Database::open(client_, options("wrong passphrase"));
  EXPECT_EQ(wrong.status().code(), Code::kUnauthorized);
  auto none = Database::open(client_, options());
  ASSERT_TRUE(none.ok());
  auto rn = none->resource("accounts");
  ASSERT_TRUE(rn.ok());
  EXPECT_EQ(rn->get("a").status().code(), Code::kInvalidArgument);
  auto right = Database::open(client_, options("correct horse battery staple"));
  ASSERT_TRUE(right.ok());
  EXPECT_EQ(right->resource("accounts").value().get("a").value()["password"], plain);
}

TEST_P(DatabaseTest, DatabasesOnOneClientShareItsPool) {
  auto a = open_db();
  auto b = open_db();
  EXPECT_EQ(&a->client().pool(), &b->client().pool());
  DatabaseOptions other = options();
  other.prefix = prefix_ + "-other";
  auto c = Database::open(client_, other);
  ASSERT_TRUE(c.ok());
  ResourceConfig rc;
  rc.name = "t";
  ASSERT_TRUE(c->create_resource(rc).ok());
  EXPECT_TRUE(a->list_resources().empty());  // prefixes isolate databases
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, ::testing::Values("memory", "file", "rgw"), backend_name);

}  // namespace
}  // namespace s3db::testing
