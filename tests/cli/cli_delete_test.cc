// `s3db delete`: a missing id is an error naming the id (as Resource::remove reports it), unless
// -f/--force, which lists it as missing (like rm -f).
#include "cli/cli_support.h"

using namespace cli_test;

TEST(CliDelete, MissingIdIsAnErrorNamingIt) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kUserAttrs)).code, 0);
  ASSERT_EQ(run({"--url", url, "insert", "users", R"({"id":"here","name":"Ann"})"}).code, 0);
  CliRun r = run({"--url", url, "--json", "delete", "users", "here", "ghost"});
  EXPECT_EQ(r.code, 1);
  json j = json::parse(r.out);
  EXPECT_EQ(j["deleted"], json::array({"here"}));  // the other ids are still attempted
  EXPECT_EQ(j["missing"], json::array());
  ASSERT_TRUE(j["failed"].contains("ghost")) << j;
  EXPECT_NE(j["failed"]["ghost"].get<std::string>().find("NotFound"), std::string::npos) << j;
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("NotFound"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("'ghost'"), std::string::npos) << r.err;
}

TEST(CliDelete, ForceMakesMissingIdsNotAnError) {
  TempDir d;
  const std::string url = d.url();
  ASSERT_EQ(run(cat({"--url", url, "create-resource", "users"}, kUserAttrs)).code, 0);
  ASSERT_EQ(run({"--url", url, "insert", "users", R"({"id":"here","name":"Ann"})"}).code, 0);
  CliRun r = run({"--url", url, "--json", "delete", "users", "ghost", "here", "--force"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["deleted"], json::array({"here"}));
  EXPECT_EQ(j["missing"], json::array({"ghost"}));
  EXPECT_EQ(j["failed"], json::object());
  EXPECT_EQ(run({"--url", url, "get", "users", "here"}).code, 1);

  CliRun text = run({"--url", url, "delete", "users", "-f", "here"});
  EXPECT_EQ(text.code, 0) << text.err;
  EXPECT_EQ(text.out, "deleted 0, 1 missing\n");
  // --force does not hide other failures: an invalid id is still an error.
  CliRun invalid = run({"--url", url, "delete", "users", "-f", "a/b"});
  EXPECT_EQ(invalid.code, 1) << invalid.out;
  expect_one_error_line(invalid);
}
