#include "s3db/schema.h"

#include <gtest/gtest.h>

namespace s3db {
namespace {

using nlohmann::json;

Schema compile(const json& attrs) {
  auto s = Schema::compile(attrs);
  EXPECT_TRUE(s.ok()) << s.status().to_string();
  return std::move(s).value();
}

TEST(SchemaTest, ParsesStringRules) {
  auto s = compile({{"name", "string|required|min:2|max:100"}, {"age", "integer|min:0"},
                    {"tags", "array|items:string"}, {"status", "string|default:active"}});
  ASSERT_EQ(s.fields().size(), 4u);
  const FieldRule* name = s.find("name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->type, FieldType::kString);
  EXPECT_TRUE(name->required);
  EXPECT_EQ(*name->min, 2);
  EXPECT_EQ(*name->max, 100);
  ASSERT_NE(s.find("tags")->items, nullptr);
  EXPECT_EQ(s.find("tags")->items->type, FieldType::kString);
  EXPECT_EQ(*s.find("status")->default_value, json("active"));
}

TEST(SchemaTest, RejectsBadRulesNamingTheAttribute) {
  for (const json& bad : {json{{"a", "strin"}}, json{{"a", "string|min:x"}}, json{{"a", "required"}},
                          json{{"a", "string|wat"}}, json{{"id", "string"}}, json{{"a", 5}},
                          json{{"a", "array|items:nope"}}, json{{"a", "string|integer"}}}) {
    auto s = Schema::compile(bad);
    ASSERT_FALSE(s.ok()) << bad.dump();
    EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
    EXPECT_NE(s.status().message().find(bad.begin().key()), std::string::npos) << s.status().message();
  }
  EXPECT_FALSE(Schema::compile(json::array()).ok());
}

TEST(SchemaTest, ValidationNamesEveryFailingField) {
  auto s = compile({{"name", "string|required|min:2"}, {"age", "integer"}, {"email", "email"},
                    {"site", "url"}, {"born", "date"}, {"ok", "boolean"}});
  json doc = {{"name", "x"}, {"age", 1.5}, {"email", "nope"}, {"site", "ftp:/x"}, {"born", "2020-13-01"},
              {"ok", "yes"}};
  auto errors = s.check(doc, UnknownAttributes::kReject);
  ASSERT_EQ(errors.size(), 6u);
  Status st = s.validate(doc, UnknownAttributes::kReject);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  for (const char* part : {"name (min:2)", "age (type:integer)", "email (type:email)", "site (type:url)",
                           "born (type:date)", "ok (type:boolean)"}) {
    EXPECT_NE(st.message().find(part), std::string::npos) << part << " in " << st.message();
  }
}

TEST(SchemaTest, RequiredDefaultsAndNulls) {
  auto s = compile({{"name", "string|required"}, {"status", "string|default:active"}, {"n", "number|default:3"},
                    {"opt", "string"}});
  json doc = {{"opt", nullptr}};
  auto errors = s.check(doc, UnknownAttributes::kReject);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "name");
  EXPECT_EQ(errors[0].rule, "required");
  EXPECT_EQ(doc["status"], "active");
  EXPECT_EQ(doc["n"], 3.0);
  EXPECT_FALSE(doc.contains("opt"));  // explicit null = absent
  json partial = {{"opt", "x"}};
  EXPECT_TRUE(s.validate(partial, UnknownAttributes::kReject, /*partial=*/true).ok());
  EXPECT_FALSE(partial.contains("status"));  // no defaults for partial checks
}

TEST(SchemaTest, UnknownAttributesPolicies) {
  auto s = compile({{"name", "string"}});
  json doc = {{"name", "a"}, {"extra", 1}, {"id", "x"}, {"createdAt", "2020-01-01"}};
  json rejected = doc;
  Status st = s.validate(rejected, UnknownAttributes::kReject);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("extra (unknown)"), std::string::npos);
  json kept = doc;
  EXPECT_TRUE(s.validate(kept, UnknownAttributes::kKeep).ok());
  EXPECT_EQ(kept["extra"], 1);
  json stripped = doc;
  EXPECT_TRUE(s.validate(stripped, UnknownAttributes::kStrip).ok());
  EXPECT_FALSE(stripped.contains("extra"));
  EXPECT_EQ(stripped["id"], "x");
}

TEST(SchemaTest, MinMaxCountCodePointsValuesAndItems) {
  auto s = compile({{"s", "string|min:2|max:3"}, {"n", "number|min:0|max:10"}, {"a", "array|items:integer|max:2"}});
  json ok = {{"s", "ção"}, {"n", 10}, {"a", {1, 2}}};  // 3 code points, 5 bytes
  EXPECT_TRUE(s.validate(ok, UnknownAttributes::kReject).ok());
  json bad = {{"s", "çãoo"}, {"n", -0.5}, {"a", {1, "x", 3}}};
  auto errors = s.check(bad, UnknownAttributes::kReject);
  std::vector<std::string> got;
  for (auto& e : errors) got.push_back(e.field + " " + e.rule);
  // nlohmann::json objects keep keys sorted: the schema order is alphabetical.
  EXPECT_EQ(got, (std::vector<std::string>{"a max:2", "a[1] items:integer", "n min:0", "s max:3"}));
}

TEST(SchemaTest, NestedObjectsAndObjectRuleForm) {
  auto s = compile({{"address", {{"city", "string|required"}, {"zip", "integer"}}},
                    {"level", {{"type", "integer"}, {"required", true}, {"min", 1}, {"default", 1}}},
                    {"meta", "json"}, {"anything", "any"}});
  EXPECT_EQ(s.find("address")->type, FieldType::kObject);
  EXPECT_EQ(s.find("level")->type, FieldType::kInteger);
  json doc = {{"address", {{"zip", "x"}, {"other", 1}}}, {"meta", {1, 2}}};
  auto errors = s.check(doc, UnknownAttributes::kReject);
  std::vector<std::string> got;
  for (auto& e : errors) got.push_back(e.field + " " + e.rule);
  EXPECT_EQ(got, (std::vector<std::string>{"address.city required", "address.zip type:integer",
                                           "address.other unknown"}));
  EXPECT_EQ(doc["level"], 1);
}

TEST(SchemaTest, DatesEmailsUrls) {
  auto s = compile({{"d", "date"}});
  for (const char* good : {"2024-02-29", "2024-02-29T10:11", "2024-02-29T10:11:12Z", "2024-02-29T10:11:12.123+01:00"}) {
    json doc = {{"d", good}};
    EXPECT_TRUE(s.validate(doc, UnknownAttributes::kReject).ok()) << good;
  }
  for (const char* bad : {"2024-2-29", "2024-02-29T25:00", "yesterday", "2024-02-29T10:11:12+0100", ""}) {
    json doc = {{"d", bad}};
    EXPECT_FALSE(s.validate(doc, UnknownAttributes::kReject).ok()) << bad;
  }
  auto e = compile({{"e", "email"}, {"u", "url"}});
  json good = {{"e", "a.b@example.com"}, {"u", "https://example.com/x?y=1"}};
  EXPECT_TRUE(e.validate(good, UnknownAttributes::kReject).ok());
  json bad = {{"e", "a@b@c.com"}, {"u", "example.com"}};
  EXPECT_EQ(e.check(bad, UnknownAttributes::kReject).size(), 2u);
}

TEST(SchemaTest, NonObjectDocumentIsRejected) {
  auto s = compile({{"a", "string"}});
  json doc = json::array({1});
  Status st = s.validate(doc, UnknownAttributes::kReject);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_TRUE(compile({{"x", "secret"}}).has_secrets());
}

}  // namespace
}  // namespace s3db
