// `s3db query --where`: the expression grammar (tools/s3db/where.h), a bad expression (exit 2, one
// line naming it), and results end to end on a file store.
#include "cli/cli_support.h"
#include "where.h"

using namespace cli_test;

namespace {

json where(const std::vector<std::string>& exprs) {
  auto r = s3db::cli::parse_where(exprs);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : json();
}

std::string where_error(const std::string& expr) {
  auto r = s3db::cli::parse_where({expr});
  EXPECT_FALSE(r.ok()) << expr;
  return r.ok() ? std::string() : r.status().message();
}

TEST(CliQueryGrammar, EveryOperator) {
  EXPECT_EQ(where({"age=31"}), json::parse(R"({"age":{"$eq":31}})"));
  EXPECT_EQ(where({"country=PT"}), json::parse(R"({"country":{"$eq":"PT"}})"));
  EXPECT_EQ(where({"s="}), json::parse(R"({"s":{"$eq":""}})"));
  EXPECT_EQ(where({"a!=true"}), json::parse(R"({"a":{"$ne":true}})"));
  EXPECT_EQ(where({"age>30"}), json::parse(R"({"age":{"$gt":30}})"));
  EXPECT_EQ(where({"age>=30"}), json::parse(R"({"age":{"$gte":30}})"));
  EXPECT_EQ(where({"age<30.5"}), json::parse(R"({"age":{"$lt":30.5}})"));
  EXPECT_EQ(where({"name<=Jo"}), json::parse(R"({"name":{"$lte":"Jo"}})"));
  EXPECT_EQ(where({"name>true"}), json::parse(R"({"name":{"$gt":"true"}})"));  // orders: numbers or strings only
  EXPECT_EQ(where({"name^=Jo"}), json::parse(R"({"name":{"$prefix":"Jo"}})"));
  EXPECT_EQ(where({"name^=42"}), json::parse(R"({"name":{"$prefix":"42"}})"));
  EXPECT_EQ(where({"status in active, pending,3,null"}),
            json::parse(R"({"status":{"$in":["active","pending",3,null]}})"));
  EXPECT_EQ(where({"status not in gone"}), json::parse(R"({"status":{"$nin":["gone"]}})"));
  EXPECT_EQ(where({"nick exists"}), json::parse(R"({"nick":{"$exists":true}})"));
  EXPECT_EQ(where({"nick !exists"}), json::parse(R"({"nick":{"$exists":false}})"));
  EXPECT_EQ(where({"nick not exists"}), json::parse(R"({"nick":{"$exists":false}})"));
  EXPECT_EQ(where({"profile.city = Porto"}), json::parse(R"({"profile.city":{"$eq":"Porto"}})"));
  // Several conditions on one field combine.
  EXPECT_EQ(where({"age>=1", "age<5", "x=1"}), json::parse(R"({"age":{"$gte":1,"$lt":5},"x":{"$eq":1}})"));
}

TEST(CliQueryGrammar, SplitsAtTheFirstOperator) {
  EXPECT_EQ(where({"expr=a=b"}), json::parse(R"({"expr":{"$eq":"a=b"}})"));
  EXPECT_EQ(where({"expr=a>=b"}), json::parse(R"({"expr":{"$eq":"a>=b"}})"));
  EXPECT_EQ(where({"expr!==x"}), json::parse(R"({"expr":{"$ne":"=x"}})"));
  EXPECT_EQ(where({"a>=b=c"}), json::parse(R"({"a":{"$gte":"b=c"}})"));
  EXPECT_EQ(where({"note=it exists"}), json::parse(R"({"note":{"$eq":"it exists"}})"));
  EXPECT_EQ(where({"note=x in y"}), json::parse(R"({"note":{"$eq":"x in y"}})"));
  EXPECT_EQ(where({"f in a=b,c"}), json::parse(R"({"f":{"$in":["a=b","c"]}})"));
}

TEST(CliQueryGrammar, MalformedExpressionsNameThemselves) {
  for (const char* expr : {"novalue", "=1", " >3", "age>", "f in ", "nick!exists"}) {
    EXPECT_NE(where_error(expr).find(std::string("'") + expr + "'"), std::string::npos) << expr;
  }
  auto twice = s3db::cli::parse_where({"a=1", "a=2"});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("'a=2': repeats $eq on a"), std::string::npos) << twice.status().message();
}

class CliQuery : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run(cat({"--url", url, "create-resource", "users", "--partition", "byCountry:country", "--attr",
                       "nick=string", "--attr", "profile=json"},
                      kUserAttrs))
                  .code,
              0);
    for (const char* doc : {R"({"id":"ann","name":"Ann","age":31,"country":"PT","profile":{"city":"Porto"}})",
                            R"({"id":"bob","name":"Bob","age":42,"country":"FR","nick":"b"})",
                            R"({"id":"cid","name":"Cid","age":27,"country":"PT","profile":{"city":"Braga"}})",
                            R"({"id":"dee","name":"Dee","country":"ES"})"}) {
      ASSERT_EQ(run({"--url", url, "insert", "users", doc}).code, 0) << doc;
    }
  }

  std::vector<std::string> ids(std::vector<std::string> wheres) {
    std::vector<std::string> args = {"--url", url, "--json", "query", "users"};
    for (auto& w : wheres) args.insert(args.end(), {"--where", w});
    CliRun r = run(args);
    EXPECT_EQ(r.code, 0) << r.err;
    std::vector<std::string> out;
    if (r.code != 0) return out;
    for (const auto& d : json::parse(r.out)) out.push_back(d["id"]);
    return out;
  }

  TempDir dir;
  std::string url = dir.url();
};

using Ids = std::vector<std::string>;

TEST_F(CliQuery, OperatorsReturnTheMatchingDocuments) {
  EXPECT_EQ(ids({"country=PT", "age=31"}), Ids{"ann"});
  EXPECT_EQ(ids({"age>=30"}), (Ids{"ann", "bob"}));
  EXPECT_EQ(ids({"age>27", "age<42"}), Ids{"ann"});
  EXPECT_EQ(ids({"age<=27"}), Ids{"cid"});
  EXPECT_EQ(ids({"country!=PT"}), (Ids{"bob", "dee"}));
  EXPECT_EQ(ids({"country in ES,FR"}), (Ids{"bob", "dee"}));
  EXPECT_EQ(ids({"country not in ES,FR"}), (Ids{"ann", "cid"}));
  EXPECT_EQ(ids({"nick exists"}), Ids{"bob"});
  EXPECT_EQ(ids({"age !exists"}), Ids{"dee"});
  EXPECT_EQ(ids({"name^=C"}), Ids{"cid"});
  EXPECT_EQ(ids({"profile.city=Porto"}), Ids{"ann"});
  CliRun limited = run({"--url", url, "--json", "query", "users", "--where", "age>0", "--limit", "1"});
  ASSERT_EQ(limited.code, 0) << limited.err;
  EXPECT_EQ(json::parse(limited.out).size(), 1u);
  CliRun text = run({"--url", url, "query", "users", "--where", "country=PT"});
  EXPECT_EQ(lines(text.out), 2u);  // JSON Lines
}

// The pool operations a command ran (its --metrics on stderr).
double ops_run(const CliRun& r) {
  const auto at = r.err.find("\ns3db_pool_processed_total{");
  const auto value = r.err.find("} ", at);
  EXPECT_NE(value, std::string::npos) << r.err;
  return value == std::string::npos ? -1 : std::stod(r.err.substr(value + 2));
}

TEST_F(CliQuery, ALimitedQueryOrListReadsWhatItPrintsNotTheResource) {
  std::string input;
  for (int i = 0; i < 300; ++i) input += R"({"name":"n)" + std::to_string(i) + R"(","age":)" + std::to_string(i) + "}\n";
  ASSERT_EQ(run({"--url", url, "import", "users", "-"}, input).code, 0);
  for (const char* cmd : {"query", "list"}) {
    std::vector<std::string> args = {"--url", url, cmd, "users", "--limit", "3", "--metrics"};
    if (std::string(cmd) == "query") args.insert(args.end(), {"--where", "age>=0"});
    CliRun r = run(args);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(lines(r.out), 3u) << cmd;
    // The catalog read, one LIST page and the three GETs — not 304 reads.
    EXPECT_LE(ops_run(r), 6) << cmd << "\n" << r.err;
  }
}

TEST_F(CliQuery, ABadExpressionIsAUsageErrorNamingIt) {
  CliRun r = run({"--url", url, "query", "users", "--where", "age>=1", "--where", "age~3"});
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("'age~3'"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

}  // namespace
