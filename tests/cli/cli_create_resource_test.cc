// `s3db create-resource --schema FILE`: every malformed schema file is a usage error (exit 2), one
// line naming the file and the field, never a raw library or nlohmann exception text.
#include "cli/cli_support.h"

using namespace cli_test;

TEST(CliCreateResource, MalformedSchemaFilesAreUsageErrorsNamingFileAndField) {
  TempDir d;
  const fs::path schema = d.path() / "schema.json";
  const std::string file = "schema file '" + schema.string() + "'";
  // file content → a word the message must contain (the field, or what is wrong)
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"attributes": [1]})", "\"attributes\""},
      {R"({"attributes": "name"})", "\"attributes\""},
      {R"({"name": 5})", "name"},                                     // a rule that is a number
      {R"({"attributes": {"name": true}})", "name"},
      {R"({"attributes": {"name": "strin"}})", "name"},               // unknown rule
      {R"({"attributes": {"name": "string"}, "timestamps": "yes"})", "\"timestamps\""},
      {R"({"attributes": {"name": "string"}, "timestamps": 1})", "\"timestamps\""},
      {R"({"attributes": {"name": "string"}, "behavior": 3})", "\"behavior\""},
      {R"({"attributes": {"name": "string"}, "behavior": "fast"})", "\"behavior\""},
      {R"({"attributes": {"name": "string"}, "partitions": ["name"]})", "\"partitions\""},
      {R"({"attributes": {"name": "string"}, "partitions": {"p": 7}})", "partition \"p\""},
      {R"({"attributes": {"name": "string"}, "partitions": {"p": [7]}})", "partition \"p\""},
      {R"({"attributes": {"name": "string"}, "partitions": {"p": []}})", "partition \"p\""},
      {R"({"attributes": {"name": "string"}, "partitions": {"p": ["nope"]}})", "\"nope\""},
      {R"({"attributes": {"name": "string"}, "partition": {}})", "\"partition\""},  // a typo
      {R"([{"name": "string"}])", "JSON object"},
      {R"({"name": "string")", "not valid JSON"},
      {"", "not valid JSON"},
  };
  for (const auto& [content, word] : cases) {
    { std::ofstream(schema, std::ios::binary | std::ios::trunc) << content; }
    CliRun r = run({"--url", d.url(), "create-resource", "users", "--schema", schema.string()});
    EXPECT_EQ(r.code, 2) << content << "\n" << r.err;
    expect_one_error_line(r);
    EXPECT_NE(r.err.find(file), std::string::npos) << content << "\n" << r.err;
    EXPECT_NE(r.err.find(word), std::string::npos) << content << "\n" << r.err;
    EXPECT_EQ(r.err.find("[json.exception"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  // Nothing was created by any of them.
  EXPECT_EQ(json::parse(run({"--url", d.url(), "--json", "resources"}).out)["resources"].size(), 0u);

  CliRun dir = run({"--url", d.url(), "create-resource", "users", "--schema", d.path().string()});
  EXPECT_EQ(dir.code, 2);
  EXPECT_NE(dir.err.find("is a directory"), std::string::npos) << dir.err;
  CliRun attr = run({"--url", d.url(), "create-resource", "users", "--attr", "age=integr"});
  EXPECT_EQ(attr.code, 2) << attr.err;
  EXPECT_NE(attr.err.find("--attr"), std::string::npos) << attr.err;
  // The library's checks (ResourceConfig::validate), before anything is written: a partition on a
  // field that is not an attribute, or on one that is not a scalar.
  for (const std::string spec : {"p:nope", "p:tags", "bad/name:name"}) {
    CliRun part = run({"--url", d.url(), "create-resource", "users", "--attr", "name=string", "--attr", "tags=array",
                       "--partition", spec});
    EXPECT_EQ(part.code, 2) << spec << "\n" << part.err;
    expect_one_error_line(part);
    EXPECT_NE(part.err.find("--partition"), std::string::npos) << part.err;
    EXPECT_NE(part.err.find(spec.substr(spec.find(':') + 1)), std::string::npos) << part.err;
  }
  EXPECT_EQ(json::parse(run({"--url", d.url(), "--json", "resources"}).out)["resources"].size(), 0u);

  // A well-formed definition still works.
  { std::ofstream(schema, std::ios::binary | std::ios::trunc)
        << R"({"attributes": {"name": "string", "country": "string"}, "behavior": "body-overflow",
              "partitions": {"byCountry": "country"}, "timestamps": true})"; }
  CliRun ok = run({"--url", d.url(), "--json", "create-resource", "users", "--schema", schema.string()});
  ASSERT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(json::parse(ok.out)["partitions"]["byCountry"], json::array({"country"}));
}
