// Richer schema rules: pattern, enum, unique, full item rules, arrays of objects, the $$type
// nested form, stricter url/date — unit tests, then a Resource round trip on every backend.
#include "s3db/resource.h"
#include "s3db/schema.h"

#include "db_fixture.h"

#include <gtest/gtest.h>

namespace s3db::testing {
namespace {

using nlohmann::json;

Schema compile(const json& attrs) {
  auto s = Schema::compile(attrs);
  EXPECT_TRUE(s.ok()) << attrs.dump() << ": " << s.status().to_string();
  return s.ok() ? std::move(s).value() : Schema();
}

// "path rule" of every error, in order.
std::vector<std::string> errors_of(const Schema& s, json doc) {
  std::vector<std::string> got;
  for (const auto& e : s.check(doc, UnknownAttributes::kReject)) got.push_back(e.field + " " + e.rule);
  return got;
}

using Errors = std::vector<std::string>;

void expect_compile_error_naming(const json& attrs, const std::string& name) {
  auto s = Schema::compile(attrs);
  ASSERT_FALSE(s.ok()) << attrs.dump();
  EXPECT_EQ(s.status().code(), Code::kInvalidArgument);
  EXPECT_NE(s.status().message().find(name), std::string::npos) << s.status().message();
}

TEST(SchemaRulesTest, StringAtTheBoundsAndOnePast) {
  auto s = compile({{"s", "string|min:2|max:5"}});
  EXPECT_EQ(errors_of(s, {{"s", "ab"}}), Errors{});
  EXPECT_EQ(errors_of(s, {{"s", "abcde"}}), Errors{});
  EXPECT_EQ(errors_of(s, {{"s", "a"}}), Errors{"s min:2"});
  EXPECT_EQ(errors_of(s, {{"s", "abcdef"}}), Errors{"s max:5"});
}

TEST(SchemaRulesTest, PatternTakesTheRestOfTheRuleStringBarsIncluded) {
  auto s = compile({{"code", "string|required|pattern:^(ab|cd)$"}});
  EXPECT_EQ(s.find("code")->pattern, "^(ab|cd)$");
  EXPECT_TRUE(s.find("code")->required);
  EXPECT_EQ(errors_of(s, {{"code", "ab"}}), Errors{});
  EXPECT_EQ(errors_of(s, {{"code", "cd"}}), Errors{});
  EXPECT_EQ(errors_of(s, {{"code", "abcd"}}), Errors{"code pattern"});
  EXPECT_EQ(errors_of(s, json::object()), Errors{"code required"});
  // Found anywhere unless anchored, like JavaScript's RegExp.test; UTF-8 aware.
  auto any = compile({{"s", "string|pattern:x[0-9]"}, {"u", "string|pattern:^.{3}$"}});
  EXPECT_EQ(errors_of(any, {{"s", "ax1b"}, {"u", "ção"}}), Errors{});
  EXPECT_EQ(errors_of(any, {{"s", "axb"}, {"u", "çã"}}), (Errors{"s pattern", "u pattern"}));
}

TEST(SchemaRulesTest, PatternObjectFormAndStringLikeTypes) {
  auto s = compile({{"tag", {{"type", "string"}, {"pattern", "^#[a-z]+$"}, {"max", 5}}},
                    {"mail", "email|pattern:@example\\.com$"},
                    {"site", "url|pattern:^https://"}});
  EXPECT_EQ(errors_of(s, {{"tag", "#abc"}, {"mail", "a@example.com"}, {"site", "https://x.org"}}), Errors{});
  EXPECT_EQ(errors_of(s, {{"tag", "#abcdef"}, {"mail", "a@other.com"}, {"site", "http://x.org"}}),
            (Errors{"mail pattern", "site pattern", "tag max:5"}));
  // The type is checked first: a value that is not an email is not also reported as a pattern.
  EXPECT_EQ(errors_of(s, {{"mail", "nope"}}), Errors{"mail type:email"});
  expect_compile_error_naming({{"age", "integer|pattern:^1"}}, "age");
  expect_compile_error_naming({{"tags", {{"type", "array"}, {"pattern", "x"}}}}, "tags");
  expect_compile_error_naming({{"s", {{"type", "string"}, {"pattern", 5}}}}, "s");
}

TEST(SchemaRulesTest, BadRegexIsInvalidArgumentNamingTheAttribute) {
  expect_compile_error_naming({{"code", "string|pattern:(["}}, "code");
  expect_compile_error_naming({{"address", {{"zip", "string|pattern:*"}}}}, "address.zip");
  expect_compile_error_naming({{"tags", {{"type", "array"}, {"items", {{"type", "string"}, {"pattern", "a{2,1}"}}}}}},
                              "tags[]");
  auto s = Schema::compile({{"code", "string|pattern:(["}});
  EXPECT_NE(s.status().message().find("pattern"), std::string::npos) << s.status().message();
}

TEST(SchemaRulesTest, PathologicalPatternsFailClosedWithoutCrashing) {
  // Catastrophic backtracking: the match limit stops it and the value fails the rule.
  auto s = compile({{"s", "string|pattern:^(a+)+$"}, {"t", "string|pattern:^(a|aa)+$"}});
  const std::string evil = std::string(5000, 'a') + "!";
  EXPECT_EQ(errors_of(s, {{"s", evil}, {"t", evil}}), (Errors{"s pattern:limit", "t pattern:limit"}));
  EXPECT_EQ(errors_of(s, {{"s", "aaaa"}, {"t", "aaa"}}), Errors{});
  // A long subject: std::regex recurses once per character here and overflows the stack; PCRE2
  // either matches or gives up within its heap limit.
  auto g = compile({{"s", "string|pattern:^(a|b)*$"}, {"t", "string|pattern:^[a-z]*$"}});
  const std::string big(2'000'000, 'a');
  auto got = errors_of(g, {{"s", big}, {"t", big}});
  EXPECT_TRUE(got.empty() || got == Errors{"s pattern:limit"}) << got.front();
  EXPECT_EQ(errors_of(g, {{"s", std::string(20'000, 'b')}, {"t", std::string(20'000, 'b') + "A"}}), Errors{"t pattern"});
  // A failing match that needs more steps than the limit fails too, as pattern:limit.
  EXPECT_EQ(errors_of(g, {{"t", big + "A"}}), Errors{"t pattern:limit"});
}

TEST(SchemaRulesTest, EnumMembersAndNonMembers) {
  auto s = compile({{"color", "string|enum:red,green,blue"}, {"level", "integer|enum:1,2,3"},
                    {"mixed", {{"type", "any"}, {"enum", {1, "x", true}}}}});
  EXPECT_EQ(s.find("level")->enum_values, (std::vector<json>{1, 2, 3}));
  EXPECT_EQ(errors_of(s, {{"color", "green"}, {"level", 3}, {"mixed", true}}), Errors{});
  EXPECT_EQ(errors_of(s, {{"color", "Green"}, {"level", 4}, {"mixed", "y"}}),
            (Errors{"color enum", "level enum", "mixed enum"}));
  EXPECT_EQ(errors_of(s, {{"level", "2"}, {"mixed", 1.0}}), Errors{"level type:integer"});  // 1.0 == 1
  expect_compile_error_naming({{"level", "integer|enum:1,two"}}, "level");
  expect_compile_error_naming({{"tags", "array|enum:a"}}, "tags");
  expect_compile_error_naming({{"c", "string|enum:"}}, "c");
  expect_compile_error_naming(json::parse(R"({"c": {"type": "string", "enum": [1]}})"), "c");
  expect_compile_error_naming(json::parse(R"({"c": {"type": "any", "enum": [[]]}})"), "c");
}

TEST(SchemaRulesTest, ArrayLengthAndUniqueWithDeepEquality) {
  auto s = compile({{"a", "array|min:1|max:2"},
                    {"u", {{"type", "array"}, {"unique", true}}},
                    {"t", "array|unique|items:string"}});
  EXPECT_EQ(errors_of(s, {{"a", json::array({1})}, {"u", {{{"k", 1}}, {{"k", 2}}}}, {"t", {"x", "y"}}}), Errors{});
  EXPECT_EQ(errors_of(s, {{"a", {1, 2}}}), Errors{});
  EXPECT_EQ(errors_of(s, {{"a", json::array()}}), Errors{"a min:1"});
  EXPECT_EQ(errors_of(s, {{"a", {1, 2, 3}}}), Errors{"a max:2"});
  // Equal objects (key order does not matter), equal numbers of different JSON types.
  EXPECT_EQ(errors_of(s, {{"u", {json::parse(R"({"k":1,"j":[1,{"z":2}]})"), 5, json::parse(R"({"j":[1,{"z":2}],"k":1})"),
                                 1, 1.0}}}),
            (Errors{"u[2] unique", "u[4] unique"}));
  EXPECT_EQ(errors_of(s, {{"t", {"x", "y", "x", "x"}}}), (Errors{"t[2] unique", "t[3] unique"}));
  expect_compile_error_naming({{"n", "string|unique"}}, "n");
}

TEST(SchemaRulesTest, FullItemRulesNameEveryFailingItem) {
  auto s = compile({{"tags", {{"type", "array"}, {"items", {{"type", "string"}, {"min", 2}}}}},
                    {"codes", {{"type", "array"}, {"items", "string|enum:a,b|pattern:^[a-z]$"}}}});
  EXPECT_EQ(s.find("tags")->items->min, 2);
  EXPECT_EQ(errors_of(s, {{"tags", {"ab", "cd"}}, {"codes", {"a", "b"}}}), Errors{});
  EXPECT_EQ(errors_of(s, {{"tags", {"ab", "c", "de", "x", 5}}, {"codes", {"c", "B"}}}),
            (Errors{"codes[0] enum", "codes[1] enum", "codes[1] pattern", "tags[1] min:2", "tags[3] min:2",
                    "tags[4] items:string"}));
  expect_compile_error_naming({{"tags", {{"type", "array"}, {"items", "secret"}}}}, "tags[]");
  expect_compile_error_naming({{"tags", {{"type", "string"}, {"items", "string"}}}}, "tags");
}

TEST(SchemaRulesTest, ArraysOfObjectsNameFailuresByIndexAndField) {
  auto s = compile({{"people", {{"type", "array"}, {"min", 1},
                                {"items", {{"name", "string|required"}, {"age", "integer|min:0"},
                                           {"role", "string|default:member"}}}}}});
  json ok = {{"people", {{{"name", "Ana"}}, {{"name", "Rui"}, {"age", 3}}}}};
  EXPECT_EQ(errors_of(s, ok), Errors{});
  json doc = ok;
  ASSERT_TRUE(s.validate(doc, UnknownAttributes::kReject).ok());
  EXPECT_EQ(doc["people"][0]["role"], "member");  // defaults inside items too
  json bad = {{"people", {{{"name", "Ana"}}, {{"age", -1}}, {{"name", "Rui"}, {"age", "x"}, {"zz", 1}}, 7}}};
  EXPECT_EQ(errors_of(s, bad), (Errors{"people[1].age min:0", "people[1].name required", "people[2].age type:integer",
                                       "people[2].zz unknown", "people[3] items:object"}));
  Status st = s.validate(bad, UnknownAttributes::kReject);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_NE(st.message().find("people[1].age (min:0), people[1].name (required), people[2].age (type:integer)"),
            std::string::npos)
      << st.message();
}

TEST(SchemaRulesTest, NestedTypedObjectsCanBeRequiredAndNest) {
  auto s = compile({{"profile", {{"$$type", "object|required"}, {"name", "string|required"}, {"bio", "string|max:3"},
                                 {"geo", {{"$$type", "optional"}, {"lat", "number|min:-90|max:90"}}}}},
                    {"extra", {{"$$type", "object"}, {"note", "string"}}}});
  const FieldRule* p = s.find("profile");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->type, FieldType::kObject);
  EXPECT_TRUE(p->required);
  EXPECT_EQ(p->children.size(), 3u);  // $$type is the object's own rule, not an attribute
  EXPECT_FALSE(s.find("extra")->required);
  EXPECT_EQ(errors_of(s, {{"profile", {{"name", "x"}}}}), Errors{});
  EXPECT_EQ(errors_of(s, json::object()), Errors{"profile required"});
  EXPECT_EQ(errors_of(s, {{"profile", {{"bio", "long"}, {"geo", {{"lat", 91}}}}}, {"extra", 1}}),
            (Errors{"extra type:object", "profile.bio max:3", "profile.geo.lat max:90", "profile.name required"}));
  expect_compile_error_naming({{"p", {{"$$type", "string"}, {"a", "string"}}}}, "p");
  expect_compile_error_naming({{"p", {{"$$type", 1}}}}, "p");
  expect_compile_error_naming({{"p", {{"$$type", "object"}, {"q", {{"$x", "string"}}}}}}, "p.q.$x");
  expect_compile_error_naming({{"$$type", "object"}}, "$$type");  // only inside a nested object
}

TEST(SchemaRulesTest, SourceRoundTripsToTheSameSchema) {
  const json attrs = json::parse(R"({
    "code": "string|required|pattern:^(ab|cd)$",
    "color": {"type": "string", "enum": ["red", "green"], "default": "red"},
    "tags": {"type": "array", "unique": true, "max": 3, "items": {"type": "string", "min": 2}},
    "people": {"type": "array", "items": {"name": "string|required"}},
    "profile": {"$$type": "object|required", "bio": "string|max:3"}
  })");
  auto first = compile(attrs);
  auto again = compile(json::parse(first.source().dump()));  // what the catalog stores and reads
  EXPECT_EQ(again.source(), attrs);
  const json bad = {{"code", "abcd"}, {"color", "blue"}, {"tags", {"ab", "ab", "c"}}, {"people", {json::object()}},
                    {"profile", {{"bio", "long"}}}};
  const Errors expected = {"code pattern", "color enum", "people[0].name required", "profile.bio max:3",
                           "tags[1] unique", "tags[2] min:2"};
  EXPECT_EQ(errors_of(first, bad), expected);
  EXPECT_EQ(errors_of(again, bad), expected);
}

TEST(SchemaRulesTest, DatesAreRealCalendarDays) {
  auto s = compile({{"d", "date"}});
  for (const char* good : {"2024-02-29", "2000-02-29", "2023-04-30", "2023-12-31T23:59:59Z"}) {
    EXPECT_EQ(errors_of(s, {{"d", good}}), Errors{}) << good;
  }
  for (const char* bad : {"2023-02-29", "1900-02-29", "2024-04-31", "2024-06-31T00:00Z", "2024-01-32"}) {
    EXPECT_EQ(errors_of(s, {{"d", bad}}), Errors{"d type:date"}) << bad;
  }
}

TEST(SchemaRulesTest, UrlsNeedASchemeAndAHost) {
  auto s = compile({{"u", "url"}});
  for (const char* good : {"http://example.com", "https://user:pw@host.example:8080/p?q=1#f", "http://[::1]:9000/",
                           "s3://bucket/key", "http://localhost", "https://ção.pt/x"}) {
    EXPECT_EQ(errors_of(s, {{"u", good}}), Errors{}) << good;
  }
  for (const char* bad : {"example.com", "http://", "http://:80/x", "file:///etc/passwd", "http://host:99999/",
                          "http://host:x/", "http://.com", "http://exa mple.com", "http://user@/x", "http://[::1/",
                          "http://?q", "1http://x.com"}) {
    EXPECT_EQ(errors_of(s, {{"u", bad}}), Errors{"u type:url"}) << bad;
  }
}

// --- through a Resource, on every backend -------------------------------------------------------

class SchemaRulesDbTest : public DbTest {
 protected:
  static json rich_attributes() {
    return json::parse(R"({
      "sku": "string|required|pattern:^[A-Z]{3}-[0-9]{2}$",
      "status": "string|enum:draft,live|default:draft",
      "tags": {"type": "array", "unique": true, "max": 4, "items": {"type": "string", "min": 2}},
      "variants": {"type": "array", "items": {"size": "string|required|enum:S,M,L", "stock": "integer|min:0"}},
      "maker": {"$$type": "object|required", "name": "string|required", "site": "url"}
    })");
  }
  Resource products() {
    ResourceConfig c;
    c.name = "products";
    c.attributes = rich_attributes();
    return make(c);
  }
};

TEST_P(SchemaRulesDbTest, ValidDocumentIsStoredAndReadBack) {
  auto r = products();
  json doc = {{"id", "p1"}, {"sku", "ABC-12"}, {"tags", {"red", "big"}},
              {"variants", {{{"size", "S"}, {"stock", 3}}, {{"size", "L"}}}},
              {"maker", {{"name", "Acme"}, {"site", "https://acme.example/"}}}};
  auto ins = r.insert(doc);
  ASSERT_TRUE(ins.ok()) << ins.status().to_string();
  EXPECT_EQ((*ins)["status"], "draft");
  auto got = r.get("p1");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(*got, *ins);
  EXPECT_EQ((*got)["variants"][0]["stock"], 3);
  auto upd = r.update("p1", json{{"status", "live"}, {"tags", {"red", "big", "new"}}});
  ASSERT_TRUE(upd.ok()) << upd.status().to_string();
  EXPECT_EQ(r.get("p1").value()["tags"], (json{"red", "big", "new"}));
}

TEST_P(SchemaRulesDbTest, InvalidDocumentNamesEveryPathAndWritesNothing) {
  auto r = products();
  json bad = {{"id", "bad1"}, {"sku", "abc-12"}, {"status", "gone"}, {"tags", {"ok", "x", "ok"}},
              {"variants", {{{"size", "XL"}}, {{"size", "M"}, {"stock", -1}}, {{"stock", 1}}}},
              {"maker", {{"site", "acme.example"}}}};
  auto res = r.insert(bad);
  ASSERT_EQ(res.status().code(), Code::kInvalidArgument);
  const std::string& m = res.status().message();
  for (const char* part : {"sku (pattern)", "status (enum)", "tags[1] (min:2)", "tags[2] (unique)",
                           "variants[0].size (enum)", "variants[1].stock (min:0)", "variants[2].size (required)",
                           "maker.name (required)", "maker.site (type:url)"}) {
    EXPECT_NE(m.find(part), std::string::npos) << part << " missing from: " << m;
  }
  EXPECT_EQ(r.get("bad1").status().code(), Code::kNotFound);
  EXPECT_EQ(r.insert(json{{"id", "bad2"}, {"sku", "ABC-12"}}).status().code(), Code::kInvalidArgument);  // maker
  EXPECT_EQ(r.get("bad2").status().code(), Code::kNotFound);
  EXPECT_TRUE(raw_list("resource=products/data/").empty());

  // An update that breaks a rule changes nothing.
  ASSERT_TRUE(r.insert(json{{"id", "p2"}, {"sku", "ABC-12"}, {"maker", {{"name", "Acme"}}}}).ok());
  const json before = r.get("p2").value();
  auto upd = r.update("p2", json{{"sku", "nope"}, {"variants", {{{"size", "S"}}, {{"size", "Q"}}}}});
  ASSERT_EQ(upd.status().code(), Code::kInvalidArgument);
  EXPECT_NE(upd.status().message().find("sku (pattern)"), std::string::npos) << upd.status().message();
  EXPECT_NE(upd.status().message().find("variants[1].size (enum)"), std::string::npos) << upd.status().message();
  EXPECT_EQ(r.get("p2").value(), before);
}

TEST_P(SchemaRulesDbTest, RulesRoundTripThroughTheCatalog) {
  auto r = products();
  const int version = r.schema_version();
  auto db2 = open_db();  // a second handle reads the catalog back from the store
  ASSERT_NE(db2, nullptr);
  auto r2 = db2->resource("products");
  ASSERT_TRUE(r2.ok()) << r2.status().to_string();
  EXPECT_EQ(r2->schema().source(), rich_attributes());
  EXPECT_EQ(r2->schema_version(), version);
  EXPECT_EQ(r2->schema().find("maker")->required, true);
  auto res = r2->insert(json{{"sku", "abc"}, {"maker", {{"name", "A"}}}});
  ASSERT_EQ(res.status().code(), Code::kInvalidArgument);
  EXPECT_NE(res.status().message().find("sku (pattern)"), std::string::npos) << res.status().message();
  // Same definition again: same version. A changed rule: a new one.
  ResourceConfig same;
  same.name = "products";
  same.attributes = rich_attributes();
  auto again = db2->create_resource(same);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->schema_version(), version);
  same.attributes["status"] = "string|enum:draft,live,gone";
  auto changed = db2->create_resource(same);
  ASSERT_TRUE(changed.ok()) << changed.status().to_string();
  EXPECT_EQ(changed->schema_version(), version + 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, SchemaRulesDbTest, ::testing::Values("memory", "file", "rgw"), backend_name);

}  // namespace
}  // namespace s3db::testing
