// Interop with a real third-party client: objects written by S3Client are read back by Debian's
// awscli v2 (/usr/bin/aws) and objects written by awscli are read by S3Client, body, content type
// and user metadata included. Runs against every S3 test server that is configured.
#include "storage/s3/s3_client.h"

#include "support/test_env.h"

#include <s3db/connection.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

extern char** environ;

namespace s3db::s3 {
namespace {

constexpr const char* kAws = "/usr/bin/aws";

struct AwsRun {
  int exit_code = -1;
  std::string out;
};

// Runs awscli with the server's credentials in its environment (never on its command line).
AwsRun run_aws(const ConnectionOptions& o, std::vector<std::string> args) {
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) {
    std::string_view v(*e);
    if (v.rfind("AWS_", 0) == 0) continue;  // ours replace any inherited AWS_* settings
    env_store.emplace_back(v);
  }
  env_store.push_back("AWS_ACCESS_KEY_ID=" + o.access_key);
  env_store.push_back("AWS_SECRET_ACCESS_KEY=" + o.secret_key);
  env_store.push_back("AWS_DEFAULT_REGION=" + o.region);
  env_store.push_back("AWS_PAGER=");
  env_store.push_back("AWS_CONFIG_FILE=/dev/null");
  env_store.push_back("AWS_SHARED_CREDENTIALS_FILE=/dev/null");
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);

  args.insert(args.begin(), {kAws, "--endpoint-url", o.endpoint, "--output", "json"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  AwsRun run;
  int fds[2];
  if (pipe(fds) != 0) return run;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, kAws, &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return run;
  }
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) run.out.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

class AwsCliInterop : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    S3DB_SERVER_URL_OR_SKIP(url, GetParam());
    if (access(kAws, X_OK) != 0) GTEST_SKIP() << kAws << " is not installed";
    auto parsed = ConnectionOptions::FromUri(url);
    ASSERT_TRUE(parsed.ok()) << parsed.status().to_string();
    opts_ = *parsed;
    std::string unique = testing::unique_test_prefix();
    while (!unique.empty() && unique.back() == '/') unique.pop_back();
    opts_.prefix = opts_.prefix.empty() ? unique : opts_.prefix + "/" + unique;
    auto client = make_s3_client(opts_);
    ASSERT_TRUE(client.ok()) << client.status().to_string();
    client_ = std::move(*client);
  }
  std::string full_key(const std::string& key) const { return opts_.prefix + "/" + key; }

  ConnectionOptions opts_;
  std::unique_ptr<StorageClient> client_;
};

TEST_P(AwsCliInterop, ObjectsWrittenByS3ClientAreReadByAwsCli) {
  OpContext ctx;
  PutRequest put;
  put.key = "from-s3db/key with spaces=1";
  put.body = "{\"hello\":\"awscli\"}";
  put.content_type = "application/json";
  put.metadata = {{"color", "blue"}, {"count", "42"}, {"note", "a b-c_d.e"}};
  auto written = client_->put(put, ctx);
  ASSERT_TRUE(written.ok()) << written.status().to_string();

  AwsRun head = run_aws(opts_, {"s3api", "head-object", "--bucket", opts_.bucket, "--key",
                             full_key(put.key)});
  ASSERT_EQ(head.exit_code, 0) << head.out;
  auto j = nlohmann::json::parse(head.out);
  EXPECT_EQ(j["ContentType"], "application/json");
  EXPECT_EQ(j["ContentLength"], put.body.size());
  EXPECT_EQ(j["ETag"], "\"" + written->etag + "\"");
  nlohmann::json expected = nlohmann::json::object();
  for (const auto& [k, v] : put.metadata) expected[k] = v;
  EXPECT_EQ(j["Metadata"], expected);

  AwsRun body = run_aws(opts_, {"s3", "cp", "s3://" + opts_.bucket + "/" + full_key(put.key), "-"});
  ASSERT_EQ(body.exit_code, 0) << body.out;
  EXPECT_EQ(body.out, put.body);

  AwsRun list = run_aws(opts_, {"s3api", "list-objects-v2", "--bucket", opts_.bucket, "--prefix",
                             opts_.prefix + "/"});
  ASSERT_EQ(list.exit_code, 0) << list.out;
  auto l = nlohmann::json::parse(list.out);
  ASSERT_EQ(l["Contents"].size(), 1u);
  EXPECT_EQ(l["Contents"][0]["Key"], full_key(put.key));
}

TEST_P(AwsCliInterop, ObjectsWrittenByAwsCliAreReadByS3Client) {
  auto dir = std::filesystem::temp_directory_path() / ("s3db-interop-" + testing::run_id());
  std::filesystem::create_directories(dir);
  const std::string body = "written by awscli\n";
  std::ofstream(dir / "body.txt") << body;

  const std::string key = "from-awscli/obj+1 é";
  AwsRun put = run_aws(opts_, {"s3api", "put-object", "--bucket", opts_.bucket, "--key",
                            full_key(key), "--body", (dir / "body.txt").string(), "--content-type",
                            "text/plain", "--metadata", "Shape=round,size=big"});
  ASSERT_EQ(put.exit_code, 0) << put.out;

  OpContext ctx;
  auto got = client_->get(key, ctx);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->body, body);
  EXPECT_EQ(got->meta.content_type, "text/plain");
  // S3 lower-cases metadata keys; values come back unchanged.
  EXPECT_EQ(got->meta.metadata, (Metadata{{"shape", "round"}, {"size", "big"}}));
  auto j = nlohmann::json::parse(put.out);
  EXPECT_EQ("\"" + got->meta.etag + "\"", j["ETag"]);

  auto page = client_->list(ListRequest{"from-awscli/", "", 1000, "", ""}, ctx);
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  ASSERT_EQ(page->objects.size(), 1u);
  EXPECT_EQ(page->objects[0].key, key);
  EXPECT_TRUE(client_->remove(key, ctx).ok());
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Servers, AwsCliInterop,
                         ::testing::Values("S3DB_TEST_RGW_URL", "S3DB_TEST_S3RVER_URL"),
                         [](const auto& info) {
                           return std::string(info.param).find("RGW") != std::string::npos
                                      ? std::string("Rgw")
                                      : std::string("S3rver");
                         });

}  // namespace
}  // namespace s3db::s3
