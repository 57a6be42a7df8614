// `s3db drop-resource`, `s3db truncate` (refuse without --yes) and `s3db migrate`.
#include "cli/cli_support.h"

using namespace cli_test;

namespace {

void make_users(const std::string& url, int n) {
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kUserAttrs)).code, 0);
  std::string lines;
  for (int i = 0; i < n; ++i) lines += R"({"id":"u)" + std::to_string(10 + i) + R"(","name":"User"})" + "\n";
  CliRun imported = run({"--url", url, "import", "users", "-"}, lines);
  ASSERT_EQ(imported.code, 0) << imported.err;
}

std::size_t resource_count(const std::string& url) {
  CliRun r = run({"--url", url, "--json", "resources"});
  EXPECT_EQ(r.code, 0) << r.err;
  return json::parse(r.out)["resources"].size();
}

}  // namespace

TEST(CliAdmin, DropResourceAndTruncateRefuseWithoutYes) {
  TempDir d;
  const std::string url = d.url();
  make_users(url, 3);
  for (const char* command : {"drop-resource", "truncate"}) {
    CliRun r = run({"--url", url, command, "users"});
    EXPECT_EQ(r.code, 2) << command;
    expect_one_error_line(r);
    EXPECT_NE(r.err.find("--yes"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_EQ(stored_count(url, "users"), 3u);
  EXPECT_EQ(resource_count(url), 1u);
}

TEST(CliAdmin, TruncateEmptiesTheResourceAndKeepsIt) {
  TempDir d;
  const std::string url = d.url();
  make_users(url, 5);
  CliRun r = run({"--url", url, "--json", "truncate", "users", "--yes"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;  // no progress bar when stderr is not a terminal
  json j = json::parse(r.out);
  EXPECT_EQ(j["deleted"], 5);
  EXPECT_EQ(j["failed"], 0);
  EXPECT_EQ(stored_count(url, "users"), 0u);
  EXPECT_EQ(resource_count(url), 1u);
  CliRun text = run({"--url", url, "truncate", "-y", "users"});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out, "truncated users: deleted 0 keys\n");
  CliRun missing = run({"--url", url, "truncate", "ghosts", "--yes"});
  EXPECT_EQ(missing.code, 1);
  expect_one_error_line(missing);
}

TEST(CliAdmin, DropResourceRemovesItsRecordsAndCatalogEntry) {
  TempDir d;
  const std::string url = d.url();
  make_users(url, 4);
  ASSERT_EQ(run({"--url", url, "create-resource", "others", "--attr", "x=string"}).code, 0);
  CliRun r = run({"--url", url, "--json", "drop-resource", "users", "--yes"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), (json{{"dropped", "users"}, {"deleted", 4}}));
  CliRun listed = run({"--url", url, "--json", "resources"});
  EXPECT_EQ(json::parse(listed.out)["resources"].size(), 1u) << listed.out;
  EXPECT_EQ(listed.out.find("users"), std::string::npos) << listed.out;
  EXPECT_EQ(run({"--url", url, "get", "users", "u10"}).code, 1);
  EXPECT_FALSE(std::filesystem::exists(d.path() / "db" / "resource=users" / "data"));
  CliRun again = run({"--url", url, "drop-resource", "users", "--yes"});
  EXPECT_EQ(again.code, 1);
  expect_one_error_line(again);
  EXPECT_NE(again.err.find("NotFound"), std::string::npos) << again.err;
}

TEST(CliAdmin, MigrateRewritesOldRecordsWithDefaultsAndResumes) {
  TempDir d;
  const std::string url = d.url();
  make_users(url, 6);  // u10..u15 under version 1
  // Version 2 adds an attribute with a default.
  CliRun v2 = run(cat({"--url", url, "create-resource", "users"}, cat(kUserAttrs, {"--attr", "plan=string|default:free"})));
  ASSERT_EQ(v2.code, 0) << v2.err;
  EXPECT_FALSE(json::parse(run({"--url", url, "--json", "get", "users", "u12"}).out).contains("plan"));

  CliRun part = run({"--url", url, "--json", "migrate", "users", "--start-after", "u12"});
  ASSERT_EQ(part.code, 0) << part.err;
  json p = json::parse(part.out);
  EXPECT_EQ(p["scanned"], 3);  // u13, u14, u15
  EXPECT_EQ(p["migrated"], 3);
  EXPECT_EQ(p["last_id"], "u15");
  EXPECT_EQ(p["complete"], true);
  EXPECT_EQ(json::parse(run({"--url", url, "--json", "get", "users", "u13"}).out)["plan"], "free");
  EXPECT_FALSE(json::parse(run({"--url", url, "--json", "get", "users", "u12"}).out).contains("plan"));

  CliRun all = run({"--url", url, "migrate", "users", "--page-size", "2"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_EQ(all.out, "migrated 3, already current 3, failed 0 (scanned 6)\n");
  EXPECT_EQ(json::parse(run({"--url", url, "--json", "get", "users", "u10"}).out)["plan"], "free");
  CliRun bad = run({"--url", url, "migrate", "users", "--page-size", "0"});
  EXPECT_EQ(bad.code, 2);
}

TEST(CliAdmin, MigrateCountsRecordsTheCurrentSchemaRejects) {
  TempDir d;
  const std::string url = d.url();
  make_users(url, 2);
  // Version 2 requires an attribute the old records lack: they cannot be rewritten.
  CliRun v2 = run(cat({"--url", url, "create-resource", "users"}, cat(kUserAttrs, {"--attr", "plan=string|required"})));
  ASSERT_EQ(v2.code, 0) << v2.err;
  CliRun r = run({"--url", url, "--json", "migrate", "users"});
  EXPECT_EQ(r.code, 1);
  json j = json::parse(r.out);
  EXPECT_EQ(j["failed"], 2);
  EXPECT_EQ(j["migrated"], 0);
  EXPECT_EQ(j["complete"], true);
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("plan"), std::string::npos) << r.err;
}
