// The CLI under limits shared through Redis (--redis, --global-concurrency, --rate-put/--rate-get):
// two s3db processes at once against one store, Redis killed and restarted under them, and the
// figures in --json metrics. The password is never printed.
#include <gtest/gtest.h>

#include <fcntl.h>

#include <chrono>
#include <thread>

#include "../coord/private_redis.h"
#include "cli_support.h"

namespace cli_test {
namespace {

using namespace std::chrono_literals;
using s3db::coord::testing::PrivateRedis;

const std::string kSecret = "p?a@s/s%w:0rd";

std::string lines_from(int first, int last, const std::string& prefix) {
  std::string out;
  for (int i = first; i <= last; ++i) out += "{\"id\":\"" + prefix + std::to_string(i) + "\",\"name\":\"n\"}\n";
  return out;
}

void expect_no_secret(const std::string& text) {
  for (std::size_t i = 0; i + 4 <= kSecret.size(); ++i) {
    EXPECT_EQ(text.find(kSecret.substr(i, 4)), std::string::npos) << text;
  }
  EXPECT_EQ(text.find("p%3Fa%40s"), std::string::npos) << text;
}

// A rate cap needs no Redis: it caps this process, and --json metrics shows it.
TEST(CliShared, ARateCapWithoutRedisCapsThisProcessAndShowsInMetrics) {
  CliRun r = run({"--rate-get", "500", "--json", "metrics"});
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out);
  const json& s = j["metrics"]["shared_limit"];
  ASSERT_TRUE(s.is_object()) << j;
  EXPECT_EQ(s["shared"], false);
  EXPECT_GE(s["rate_cap"]["requests"].get<int>(), 1) << "the catalog read took a token";
  CliRun text = run({"--rate-get", "500", "metrics"});
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_NE(text.out.find("s3db_rate_cap_requests_total{pool=\"s3db-cli\"}"), std::string::npos) << text.out;
}

TEST(CliShared, RedisWithNothingToShareIsAUsageError) {
  CliRun r = run({"--redis", "redis://:" + std::string("p%3Fa%40s") + "@127.0.0.1:1/0", "resources"});
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("--rate-put"), std::string::npos) << r.err;
  expect_no_secret(r.err);
}

// Two imports at once share one limit and one write rate through Redis; Redis is killed and
// restarted under them. Both finish with every line stored, each told once on stderr that it
// ran on its local share (a warning, not an error), and no output holds the password.
TEST(CliShared, TwoImportsSharingRedisSurviveItsRestartAndStoreEverything) {
  PrivateRedis redis(kSecret, /*tcp=*/true);
  REQUIRE_REDIS(redis);
  TempDir d;
  ASSERT_EQ(run({"--url", d.url(), "create-resource", "users", "--attr", "name=string|required"}).code, 0);
  constexpr int kLines = 300;
  TempDir files;
  std::vector<Child> kids;
  for (const std::string prefix : {"a", "b"}) {
    const fs::path in = files.path() / (prefix + ".jsonl");
    { std::ofstream(in) << lines_from(1, kLines, prefix); }
    const int fd = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
    kids.push_back(spawn({"--url", d.url(), "--redis", redis.tcp_url(), "--global-concurrency", "2", "--rate-put",
                          "150", "--json", "import", "users", "-", "--metrics"},
                         fd));
    ::close(fd);
  }
  std::this_thread::sleep_for(700ms);  // both under way (300 lines each at 75 puts/s each)
  redis.kill_server();
  std::this_thread::sleep_for(1500ms);  // they notice (a command fails) and run on their share
  redis.restart();
  ASSERT_TRUE(redis.up());
  int warned = 0;
  for (Child& c : kids) {
    CliRun r = finish(c);
    EXPECT_EQ(r.code, 0) << r.err;
    json j = json::parse(r.out);
    EXPECT_EQ(j["imported"], kLines) << r.out;
    EXPECT_TRUE(j["metrics"]["shared_limit"]["shared"].get<bool>()) << r.out;
    if (r.err.find("warning: shared limit at redis://:***@127.0.0.1:") != std::string::npos) ++warned;
    expect_no_secret(r.err);
    expect_no_secret(r.out);
  }
  EXPECT_GE(warned, 1) << "Redis went away under a running import: it says so";
  EXPECT_EQ(stored_count(d.url(), "users"), 2u * kLines);
}

}  // namespace
}  // namespace cli_test
