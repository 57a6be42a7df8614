// The query filter (db/filter.h): every operator, exact number comparison, paths, missing/null,
// and every malformed filter named by field and operator.
#include "db/filter.h"

#include <gtest/gtest.h>

namespace s3db::db {
namespace {

using nlohmann::json;

bool match(const json& filter, const json& doc) {
  auto f = Filter::compile(filter);
  EXPECT_TRUE(f.ok()) << f.status().to_string();
  return f.ok() && f->matches(doc);
}

std::string error_of(const json& filter) {
  auto f = Filter::compile(filter);
  EXPECT_FALSE(f.ok()) << filter.dump();
  if (f.ok()) return {};
  EXPECT_EQ(f.status().code(), Code::kInvalidArgument);
  return f.status().message();
}

TEST(FilterTest, BareValueIsEqualityAndFieldsAreAnded) {
  const json doc = {{"name", "Jo"}, {"age", 30}, {"active", true}};
  EXPECT_TRUE(match({{"name", "Jo"}, {"age", 30}}, doc));
  EXPECT_FALSE(match({{"name", "Jo"}, {"age", 31}}, doc));
  EXPECT_TRUE(match({{"active", true}}, doc));
  EXPECT_FALSE(match({{"active", 1}}, doc));  // booleans are not numbers
  EXPECT_TRUE(match(json::object(), doc));
  EXPECT_TRUE(match({{"tags", {{"a", 1}}}}, json{{"tags", {{"a", 1.0}}}}));  // a literal object: deep equality
}

TEST(FilterTest, EveryOperator) {
  const json doc = {{"name", "Joana"}, {"age", 30}, {"status", "active"}};
  EXPECT_TRUE(match({{"age", {{"$eq", 30}}}}, doc));
  EXPECT_TRUE(match({{"age", {{"$ne", 31}}}}, doc));
  EXPECT_FALSE(match({{"age", {{"$ne", 30}}}}, doc));
  EXPECT_TRUE(match({{"age", {{"$gt", 29}}}}, doc));
  EXPECT_FALSE(match({{"age", {{"$gt", 30}}}}, doc));
  EXPECT_TRUE(match({{"age", {{"$gte", 30}}}}, doc));
  EXPECT_TRUE(match({{"age", {{"$lt", 30.5}}}}, doc));
  EXPECT_FALSE(match({{"age", {{"$lt", 30}}}}, doc));
  EXPECT_TRUE(match({{"age", {{"$lte", 30}}}}, doc));
  EXPECT_TRUE(match({{"status", {{"$in", {"active", "pending"}}}}}, doc));
  EXPECT_FALSE(match({{"status", {{"$in", json::array()}}}}, doc));
  EXPECT_FALSE(match({{"status", {{"$nin", {"active", "pending"}}}}}, doc));
  EXPECT_TRUE(match({{"status", {{"$nin", {"gone"}}}}}, doc));
  EXPECT_TRUE(match({{"name", {{"$exists", true}}}}, doc));
  EXPECT_FALSE(match({{"nick", {{"$exists", true}}}}, doc));
  EXPECT_TRUE(match({{"nick", {{"$exists", false}}}}, doc));
  EXPECT_TRUE(match({{"name", {{"$prefix", "Jo"}}}}, doc));
  EXPECT_TRUE(match({{"name", {{"$prefix", ""}}}}, doc));
  EXPECT_FALSE(match({{"name", {{"$prefix", "jo"}}}}, doc));
  EXPECT_FALSE(match({{"age", {{"$prefix", "3"}}}}, doc));  // not a string
  // Several operators on one field are ANDed.
  EXPECT_TRUE(match({{"age", {{"$gte", 1}, {"$lt", 31}}}}, doc));
  EXPECT_FALSE(match({{"age", {{"$gte", 1}, {"$lt", 30}}}}, doc));
}

TEST(FilterTest, StringsCompareInUtf8ByteOrder) {
  EXPECT_TRUE(match({{"s", {{"$gt", "Z"}}}}, json{{"s", "a"}}));
  EXPECT_TRUE(match({{"s", {{"$gt", "z"}}}}, json{{"s", "\u00e9"}}));  // é (0xC3…) after every ASCII byte
  EXPECT_TRUE(match({{"s", {{"$lt", "ab"}}}}, json{{"s", "a"}}));
}

TEST(FilterTest, DifferentTypesNeverCompare) {
  const json doc = {{"age", "30"}, {"ok", true}, {"n", nullptr}};
  EXPECT_FALSE(match({{"age", {{"$gt", 5}}}}, doc));
  EXPECT_FALSE(match({{"age", {{"$lt", 5}}}}, doc));
  EXPECT_FALSE(match({{"age", 30}}, doc));
  EXPECT_TRUE(match({{"age", {{"$ne", 30}}}}, doc));
  EXPECT_FALSE(match({{"ok", {{"$gt", 0}}}}, doc));
  EXPECT_FALSE(match({{"n", {{"$gte", 0}}}}, doc));
  EXPECT_TRUE(match({{"ok", {{"$in", {1, true}}}}}, doc));
  EXPECT_TRUE(match({{"ok", {{"$nin", {1, "true"}}}}}, doc));
}

TEST(FilterTest, NumbersCompareExactlyAcrossIntUintAndDouble) {
  const json max = {{"n", std::int64_t{9223372036854775807}}};
  EXPECT_TRUE(match({{"n", {{"$gt", std::int64_t{9223372036854775806}}}}}, max));
  EXPECT_FALSE(match({{"n", std::int64_t{9223372036854775806}}}, max));
  // 9.2233720368547758e18 is the double 2^63: above every int64, though int64 max rounds to it.
  EXPECT_FALSE(match({{"n", 9.2233720368547758e18}}, max));
  EXPECT_TRUE(match({{"n", {{"$lt", 9.2233720368547758e18}}}}, max));
  EXPECT_TRUE(match({{"n", {{"$ne", 9.2233720368547758e18}}}}, max));
  // 2^53 + 1 is no double: compared as an integer it differs from the double 2^53.
  const json big = {{"n", std::int64_t{9007199254740993}}};
  EXPECT_FALSE(match({{"n", 9007199254740992.0}}, big));
  EXPECT_TRUE(match({{"n", {{"$gt", 9007199254740992.0}}}}, big));
  EXPECT_TRUE(match({{"n", std::int64_t{9007199254740992}}}, json{{"n", 9007199254740992.0}}));
  // uint64 beyond int64, against int64 and double.
  const json u = {{"n", std::uint64_t{18446744073709551615u}}};
  EXPECT_TRUE(match({{"n", {{"$gt", std::int64_t{9223372036854775807}}}}}, u));
  EXPECT_TRUE(match({{"n", {{"$gt", -1}}}}, u));
  EXPECT_TRUE(match({{"n", {{"$lt", 1.8446744073709552e19}}}}, u));  // the double 2^64
  EXPECT_TRUE(match({{"n", {{"$gt", -1e300}}}}, u));
  EXPECT_TRUE(match({{"n", {{"$lt", -3}}}}, json{{"n", -3.5}}));
  EXPECT_TRUE(match({{"n", {{"$gt", -4}}}}, json{{"n", -3.5}}));
  EXPECT_TRUE(match({{"n", 1}}, json{{"n", 1.0}}));
  EXPECT_TRUE(match({{"n", {{"$gt", 1}}}}, json{{"n", 1.5}}));
  EXPECT_TRUE(match({{"n", {{"$in", {std::uint64_t{7}}}}}}, json{{"n", 7.0}}));
}

TEST(FilterTest, DottedPathsAndKeysWithDots) {
  const json doc = {{"profile", {{"city", "Porto"}, {"geo", {{"zip", 4000}}}}}, {"a.b", 1}, {"a", {{"b", 2}}}};
  EXPECT_TRUE(match({{"profile.city", "Porto"}}, doc));
  EXPECT_TRUE(match({{"profile.geo.zip", {{"$gte", 4000}}}}, doc));
  EXPECT_FALSE(match({{"profile.country", {{"$exists", true}}}}, doc));
  EXPECT_FALSE(match({{"profile.city.x", "Porto"}}, doc));  // a path through a string
  EXPECT_TRUE(match({{"a.b", 1}}, doc));                    // the exact top-level key wins
  EXPECT_TRUE(match({{"x.y", 2}}, json{{"x", {{"y", 2}}}}));  // no such key: the path
}

TEST(FilterTest, MissingAndNullFields) {
  const json doc = {{"n", nullptr}};
  for (const char* field : {"n", "missing"}) {  // null and missing behave alike
    SCOPED_TRACE(field);
    EXPECT_TRUE(match({{field, nullptr}}, doc));
    EXPECT_TRUE(match({{field, {{"$eq", nullptr}}}}, doc));
    EXPECT_FALSE(match({{field, {{"$ne", nullptr}}}}, doc));
    EXPECT_TRUE(match({{field, {{"$in", {1, nullptr}}}}}, doc));
    EXPECT_FALSE(match({{field, {{"$nin", {nullptr}}}}}, doc));
    EXPECT_FALSE(match({{field, 1}}, doc));
    EXPECT_TRUE(match({{field, {{"$ne", 1}}}}, doc));
    EXPECT_TRUE(match({{field, {{"$nin", {1}}}}}, doc));
    EXPECT_FALSE(match({{field, {{"$gt", 1}}}}, doc));
    EXPECT_FALSE(match({{field, {{"$lte", "z"}}}}, doc));
    EXPECT_FALSE(match({{field, {{"$prefix", ""}}}}, doc));
  }
  // $exists tells them apart: a null field exists.
  EXPECT_TRUE(match({{"n", {{"$exists", true}}}}, doc));
  EXPECT_TRUE(match({{"missing", {{"$exists", false}}}}, doc));
  EXPECT_FALSE(match({{"n", 1}}, json::array()));  // not an object: every field is missing
}

TEST(FilterTest, MalformedFiltersNameFieldAndOperator) {
  EXPECT_EQ(error_of(json::array()), "filter: must be a JSON object");
  EXPECT_EQ(error_of({{"", 1}}), "filter: a field name is empty");
  EXPECT_NE(error_of({{"x", {{"$regex", "a"}}}}).find("x: $regex is not an operator"), std::string::npos);
  EXPECT_NE(error_of({{"x", {{"$foo", 1}}}}).find("x: $foo is not an operator"), std::string::npos);
  EXPECT_NE(error_of({{"x", {{"$in", 1}}}}).find("x: $in needs an array"), std::string::npos);
  EXPECT_NE(error_of({{"x", {{"$nin", "a"}}}}).find("x: $nin needs an array"), std::string::npos);
  EXPECT_NE(error_of({{"x", {{"$exists", 1}}}}).find("x: $exists needs true or false"), std::string::npos);
  EXPECT_NE(error_of({{"x", {{"$prefix", 1}}}}).find("x: $prefix needs a string"), std::string::npos);
  for (const char* op : {"$gt", "$gte", "$lt", "$lte"}) {
    for (const json& v : {json::object(), json::array(), json(nullptr), json(true)}) {
      EXPECT_NE(error_of({{"age", {{op, v}}}}).find(std::string("age: ") + op + " needs a number or a string"),
                std::string::npos);
    }
  }
  EXPECT_NE(error_of({{"x", {{"$gt", 1}, {"y", 2}}}}).find("x: y is a plain key among operators"), std::string::npos);
}

TEST(FilterTest, FixedFieldsAreScalarEqualities) {
  auto f = Filter::compile({{"country", "PT"},
                            {"age", {{"$eq", 3}, {"$lt", 9}}},
                            {"city", {{"$in", {"a"}}}},
                            {"n", nullptr},
                            {"o", {{"k", 1}}},
                            {"g", {{"$gt", 1}}},
                            {"f", 3.0}});
  ASSERT_TRUE(f.ok());
  ASSERT_NE(f->fixed("country"), nullptr);
  EXPECT_EQ(*f->fixed("country"), "PT");
  ASSERT_NE(f->fixed("age"), nullptr);
  EXPECT_EQ(*f->fixed("age"), 3);
  for (const char* field : {"city", "n", "o", "g", "f", "absent"}) EXPECT_EQ(f->fixed(field), nullptr) << field;
}

}  // namespace
}  // namespace s3db::db
