// Resource::query with operators, end to end on every backend: results, and a partition read
// whenever the filter fixes every field of one by equality.
#include "s3db/resource.h"

#include "db_fixture.h"

#include <set>

namespace s3db::testing {
namespace {

using nlohmann::json;

class QueryTest : public DbTest {
 protected:
  Resource people() {
    ResourceConfig c;
    c.name = "people";
    c.attributes = {{"name", "string"},   {"age", "integer"}, {"country", "string"},
                    {"status", "string"}, {"nick", "string"}, {"address", {{"city", "string"}}}};
    c.partitions = {{"byCountry", {"country"}}};
    Resource r = make(c);
    const char* countries[] = {"PT", "PT", "ES", "ES", "FR", "FR", "FR", "BR", "BR", "BR"};
    for (int i = 0; i < 10; ++i) {
      json d = {{"id", "p" + std::to_string(i)}, {"name", (i % 2 ? "Jo" : "Ana") + std::to_string(i)},
                {"age", 20 + i},                 {"country", countries[i]},
                {"status", i % 3 == 0 ? "active" : i % 3 == 1 ? "pending" : "gone"},
                {"address", {{"city", i < 5 ? "Porto" : "Lyon"}}}};
      if (i % 4 == 0) d["nick"] = "n" + std::to_string(i);
      EXPECT_TRUE(r.insert(d).ok());
    }
    return r;
  }

  static std::set<std::string> ids(const Result<std::vector<json>>& docs) {
    EXPECT_TRUE(docs.ok()) << docs.status().to_string();
    std::set<std::string> out;
    if (docs.ok()) {
      for (const auto& d : *docs) out.insert(d["id"].get<std::string>());
    }
    return out;
  }

  // Pool operations a query runs (LIST pages and GETs).
  std::uint64_t ops_of(Resource& r, const json& filter) {
    const auto before = client_->pool().stats().processed;
    EXPECT_TRUE(r.query(filter).ok());
    return client_->pool().stats().processed - before;
  }
};

TEST_P(QueryTest, OperatorsEndToEnd) {
  Resource r = people();
  using S = std::set<std::string>;
  EXPECT_EQ(ids(r.query({{"age", {{"$gte", 27}}}})), (S{"p7", "p8", "p9"}));
  EXPECT_EQ(ids(r.query({{"age", {{"$gt", 21}, {"$lte", 23}}}})), (S{"p2", "p3"}));
  EXPECT_EQ(ids(r.query({{"status", {{"$in", {"active"}}}}, {"country", {{"$ne", "BR"}}}})), (S{"p0", "p3", "p6"}));
  EXPECT_EQ(ids(r.query({{"address.city", "Porto"}, {"nick", {{"$exists", true}}}})), (S{"p0", "p4"}));
  EXPECT_EQ(ids(r.query({{"name", {{"$prefix", "Jo"}}}, {"age", {{"$lt", 25}}}})), (S{"p1", "p3"}));
  EXPECT_EQ(ids(r.query({{"country", {{"$nin", {"FR", "BR", "ES"}}}}})), (S{"p0", "p1"}));
  EXPECT_EQ(ids(r.query({{"age", {{"$gt", "20"}}}})), S{});  // a string never orders against a number
  ListOptions one;
  one.limit = 2;
  EXPECT_EQ(r.query({{"age", {{"$gte", 20}}}}, one).value().size(), 2u);
  auto bad = r.query({{"age", {{"$regex", "2"}}}});
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("age: $regex"), std::string::npos) << bad.status().message();
}

TEST_P(QueryTest, UsesAPartitionOnlyWhenItsFieldsAreFixedByEquality) {
  Resource r = people();
  using S = std::set<std::string>;
  EXPECT_EQ(ids(r.query({{"country", "PT"}, {"age", {{"$gte", 21}}}})), S{"p1"});
  EXPECT_EQ(ids(r.query({{"country", {{"$eq", "PT"}}}})), (S{"p0", "p1"}));
  EXPECT_EQ(ids(r.query({{"country", {{"$in", {"PT"}}}}})), (S{"p0", "p1"}));
  // A partition read GETs the 2 PT records (plus a LIST); a scan GETs all 10.
  const auto bare = ops_of(r, {{"country", "PT"}});
  const auto eq = ops_of(r, {{"country", {{"$eq", "PT"}, {"$ne", "x"}}}});
  const auto in = ops_of(r, {{"country", {{"$in", {"PT"}}}}});
  const auto scan = ops_of(r, {{"age", {{"$gte", 0}}}});
  EXPECT_LT(bare, 10u);
  EXPECT_EQ(eq, bare);
  EXPECT_GE(in, 10u);
  EXPECT_GE(scan, 10u);
}

INSTANTIATE_TEST_SUITE_P(Backends, QueryTest, ::testing::Values("memory", "file", "rgw"), backend_name);

}  // namespace
}  // namespace s3db::testing
