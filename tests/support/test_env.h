// tests/support/test_env.h — how tests find the real servers they need.
//
// Contract
// - Servers (Ceph RGW, s3rver, haproxy fault frontends, redis) are reached through environment
//   variables holding a connection string, e.g. S3DB_TEST_RGW_URL=http://KEY:SECRET@127.0.0.1:7480/b.
//   scripts/test-servers.sh writes them to .run/servers.env; source it before running tests.
// - test_server_url(var) returns the value when the variable is set and non-empty.
// - A test that lacks its server is SKIPPED with a reason naming the variable, unless
//   S3DB_REQUIRE_SERVERS=1, in which case it FAILS (CI sets that, so a missing server never
//   passes silently). Use S3DB_SERVER_URL_OR_SKIP in a TEST body or SetUp().
// - unique_test_prefix() gives a key prefix no other test, run or process uses, so tests may share
//   one bucket.
// - Thread safety: plain functions reading the environment; call them from the test thread.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace s3db::testing {

// The variable's value when set and non-empty.
std::optional<std::string> test_server_url(const char* env_var);

// True when S3DB_REQUIRE_SERVERS=1: missing servers are failures, not skips.
bool servers_required();

// "Set S3DB_TEST_RGW_URL (scripts/test-servers.sh start; source .run/servers.env)" — the text used
// by the skip/fail macro, exposed for parameterised suites that decide on their own.
std::string missing_server_message(const char* env_var);

// "t-<time>-<pid>-<random>/<suite>.<test>/" (for the running gtest test) — unique per run.
std::string unique_test_prefix();

// A process-wide random token (hex), stable for the process's lifetime.
const std::string& run_id();

}  // namespace s3db::testing

// Declares `std::string var` holding the server URL from env var `env_name`, or skips the current
// test (fails it when S3DB_REQUIRE_SERVERS=1). Must be used where GTEST_SKIP()/FAIL() may return.
#define S3DB_SERVER_URL_OR_SKIP(var, env_name)                                   \
  std::string var;                                                               \
  do {                                                                           \
    auto s3db_url_ = ::s3db::testing::test_server_url(env_name);                 \
    if (s3db_url_) {                                                             \
      var = *s3db_url_;                                                          \
    } else if (::s3db::testing::servers_required()) {                            \
      FAIL() << ::s3db::testing::missing_server_message(env_name)                \
             << " (S3DB_REQUIRE_SERVERS=1 makes this a failure)";                \
    } else {                                                                     \
      GTEST_SKIP() << ::s3db::testing::missing_server_message(env_name);        \
    }                                                                            \
  } while (0)
