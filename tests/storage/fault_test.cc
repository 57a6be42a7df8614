// Faults injected by haproxy in front of Ceph RGW (scripts/test-servers.sh, docs/testing.md):
// the pool's retries turn S3 SlowDown answers and dropped connections into successes; with
// retries off every failure carries the code the retry layer keys on; a black-holed request ends
// as Timeout; a wrong secret fails once, never retried. Each test needs its frontend's URL in the
// environment and skips without it (fails with S3DB_REQUIRE_SERVERS=1).
#include <s3db/client.h>

#include "support/test_env.h"

#include <s3db/connection.h>
#include <s3db/storage_client.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace s3db {
namespace {

using namespace std::chrono_literals;

// A bound no healthy operation comes near; only there to keep a broken build from hanging.
constexpr auto kHangBound = 120s;

// Counts the attempts that reach the storage (the pool calls the client once per attempt).
class CountingClient final : public ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  Result<PutResult> put(const PutRequest& r, OpContext& c) override {
    ++puts;
    return ForwardingClient::put(r, c);
  }
  Result<Object> get(std::string_view k, OpContext& c) override {
    ++gets;
    return ForwardingClient::get(k, c);
  }
  std::atomic<int> puts{0};
  std::atomic<int> gets{0};
};

// The connection options of `url` with keys under `prefix` (each test its own prefix, so tests
// share the bucket without seeing each other's objects).
ConnectionOptions connection_for(const std::string& url, const std::string& prefix) {
  auto parsed = ConnectionOptions::FromUri(url);
  EXPECT_TRUE(parsed.ok()) << parsed.status().to_string();
  if (!parsed.ok()) return {};
  ConnectionOptions o = *parsed;
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  o.prefix = o.prefix.empty() ? p : o.prefix + "/" + p;
  return o;
}

std::shared_ptr<StorageClient> storage_for(const ConnectionOptions& o) {
  auto storage = make_storage_client(o);
  EXPECT_TRUE(storage.ok()) << storage.status().to_string();
  if (!storage.ok()) return nullptr;
  return std::shared_ptr<StorageClient>(std::move(*storage));
}

// Pool settings for these tests: short backoffs (the faults are random, not real overload, so
// waiting seconds would only slow the suite), many retries (30% faults: 0.3^21 per op is ~1e-11),
// and a per-attempt timeout so that nothing can hang.
ClientOptions retrying(int max_retries) {
  ClientOptions co;
  co.pool.concurrency = 16;
  co.pool.backoff.max_retries = max_retries;
  co.pool.backoff.base = 2ms;
  co.pool.backoff.throttled_base = 5ms;
  co.pool.backoff.cap = 100ms;
  co.pool.default_timeout = 30s;
  return co;
}

ClientOptions not_retrying() {
  ClientOptions co = retrying(0);
  return co;
}

PutRequest small_put(std::string key, int i) {
  PutRequest r;
  r.key = std::move(key);
  // ~200 bytes, different per object so a mixed-up write would show in the read-back.
  r.body = "object " + std::to_string(i) + " " + std::string(190, static_cast<char>('a' + i % 26));
  r.content_type = "text/plain";
  return r;
}

std::string key_of(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "obj-%05d", i);
  return buf;
}

struct FaultCase {
  const char* name;
  const char* env_var;
  Code code;             // what a failed attempt must report
  const char* s3_code;   // S3 <Code> the message names, when the server sent one
};

std::ostream& operator<<(std::ostream& os, const FaultCase& c) { return os << c.name; }

class RetriedFault : public ::testing::TestWithParam<FaultCase> {};

// 2,000 puts through the faulty frontend, retries on: every put succeeds, and RGW (reached
// directly) lists exactly the 2,000 objects with the bodies written.
TEST_P(RetriedFault, TwoThousandPutsAllSucceedAndAreListed) {
  const FaultCase& fc = GetParam();
  S3DB_SERVER_URL_OR_SKIP(fault_url, fc.env_var);
  S3DB_SERVER_URL_OR_SKIP(rgw_url, "S3DB_TEST_RGW_URL");
  const std::string prefix = testing::unique_test_prefix();
  auto faulty = Client::wrap(storage_for(connection_for(fault_url, prefix)), retrying(20));
  constexpr int kObjects = 2000;

  std::vector<Future<PutResult>> futures;
  futures.reserve(kObjects);
  for (int i = 0; i < kObjects; ++i) futures.push_back(faulty->put_async(small_put(key_of(i), i)));
  int failed = 0;
  for (int i = 0; i < kObjects; ++i) {
    ASSERT_TRUE(futures[i].wait_for(kHangBound)) << "put " << i << " never completed";
    auto r = futures[i].get();
    if (!r.ok() && ++failed <= 5) ADD_FAILURE() << "put " << key_of(i) << ": " << r.status().to_string();
  }
  EXPECT_EQ(failed, 0);
  const PoolStats stats = faulty->pool().stats();
  // The fault really happened (30% of ~2,000 first attempts) and was absorbed by retries.
  EXPECT_GT(stats.retries, 0u) << "no retries: is " << fc.env_var << " really a faulty frontend?";
  EXPECT_EQ(stats.errors, 0u);
  RecordProperty("retries", static_cast<int>(stats.retries));

  auto direct = Client::wrap(storage_for(connection_for(rgw_url, prefix)), retrying(3));
  auto listed = direct->list_all("");
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  std::set<std::string> keys;
  for (const auto& m : *listed) keys.insert(m.key);
  EXPECT_EQ(listed->size(), static_cast<std::size_t>(kObjects));
  std::set<std::string> expected;
  for (int i = 0; i < kObjects; ++i) expected.insert(key_of(i));
  EXPECT_EQ(keys, expected);
  for (int i : {0, 777, kObjects - 1}) {
    auto got = direct->get(key_of(i));
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(got->body, small_put(key_of(i), i).body);
  }

  // Leave the shared bucket as we found it.
  std::vector<std::string> all(expected.begin(), expected.end());
  auto removed = direct->remove_many(all);
  ASSERT_TRUE(removed.ok()) << removed.status().to_string();
  EXPECT_EQ(removed->deleted, all.size());
}

class UnretriedFault : public ::testing::TestWithParam<FaultCase> {};

// Retries off (pool max_retries 0 and OpOptions retries 0): some puts fail, each with exactly the
// fault's code (the one the retry layer keys on), and the pool retried nothing.
TEST_P(UnretriedFault, EveryFailureCarriesTheFaultsCode) {
  const FaultCase& fc = GetParam();
  S3DB_SERVER_URL_OR_SKIP(fault_url, fc.env_var);
  const std::string prefix = testing::unique_test_prefix();
  auto counting = std::make_shared<CountingClient>(storage_for(connection_for(fault_url, prefix)));
  auto client = Client::wrap(counting, not_retrying());
  constexpr int kPuts = 300;

  OpOptions once;
  once.retries = 0;
  std::vector<Future<PutResult>> futures;
  for (int i = 0; i < kPuts; ++i) futures.push_back(client->put_async(small_put(key_of(i), i), once));
  int ok = 0, failed = 0;
  for (int i = 0; i < kPuts; ++i) {
    ASSERT_TRUE(futures[i].wait_for(kHangBound)) << "put " << i << " never completed";
    auto r = futures[i].get();
    if (r.ok()) {
      ++ok;
      continue;
    }
    ++failed;
    const Status& s = r.status();
    EXPECT_EQ(s.code(), fc.code) << s.to_string();
    EXPECT_TRUE(s.retryable()) << s.to_string();
    if (fc.s3_code != nullptr) {
      EXPECT_NE(s.message().find(fc.s3_code), std::string::npos) << "message should name the S3 code: " << s.to_string();
      EXPECT_NE(s.message().find("503"), std::string::npos) << "message should name the HTTP status: " << s.to_string();
    }
  }
  // 30% faults over 300 puts: all-ok or all-failed has probability < 1e-40.
  EXPECT_GT(failed, 0);
  EXPECT_GT(ok, 0);
  EXPECT_EQ(ok + failed, kPuts);
  EXPECT_EQ(counting->puts.load(), kPuts) << "exactly one attempt per put";
  EXPECT_EQ(client->pool().stats().retries, 0u);
  RecordProperty("failed", failed);
}

const FaultCase kSlowDown{"SlowDown", "S3DB_TEST_FAULT_SLOWDOWN_URL", Code::kThrottled, "SlowDown"};
const FaultCase kDrop{"Drop", "S3DB_TEST_FAULT_DROP_URL", Code::kUnavailable, nullptr};

std::string case_name(const ::testing::TestParamInfo<FaultCase>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Faults, RetriedFault, ::testing::Values(kSlowDown, kDrop), case_name);
INSTANTIATE_TEST_SUITE_P(Faults, UnretriedFault, ::testing::Values(kSlowDown, kDrop), case_name);

// A request nobody answers ends as Timeout once its 2 s attempt timeout passes (the transfer is
// cancelled), not when a TCP timeout or the hang bound finally fires.
TEST(Faults, BlackholedRequestTimesOutAtItsAttemptTimeout) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_FAULT_BLACKHOLE_URL");
  auto client = Client::wrap(storage_for(connection_for(url, testing::unique_test_prefix())), retrying(3));
  OpOptions o;
  o.timeout = 2s;
  o.retries = 0;
  const auto start = std::chrono::steady_clock::now();
  auto f = client->put_async(small_put("never-answered", 1), o);
  ASSERT_TRUE(f.wait_for(kHangBound)) << "a black-holed put with a 2 s timeout never ended";
  const auto took = std::chrono::steady_clock::now() - start;
  auto r = f.get();
  EXPECT_EQ(r.status().code(), Code::kTimeout) << r.status().to_string();
  EXPECT_GE(took, 2s) << "the timeout fired before it was due";
  EXPECT_EQ(client->pool().stats().retries, 0u);
}

// The end-to-end deadline bounds the whole operation, retries included: with the pool free to
// retry, a black-holed get still ends as Timeout once the deadline passes.
TEST(Faults, BlackholedRequestWithRetriesEndsAtItsDeadline) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_FAULT_BLACKHOLE_URL");
  ClientOptions co = retrying(5);
  co.pool.default_timeout = 1s;  // each attempt times out, and would be retried...
  auto client = Client::wrap(storage_for(connection_for(url, testing::unique_test_prefix())), co);
  OpOptions o;
  const auto start = std::chrono::steady_clock::now();
  o.deadline = start + 2500ms;  // ...but the deadline ends it all
  auto f = client->get_async("never-answered", o);
  ASSERT_TRUE(f.wait_for(kHangBound)) << "a black-holed get with a 2.5 s deadline never ended";
  auto r = f.get();
  EXPECT_EQ(r.status().code(), Code::kTimeout) << r.status().to_string();
}

// A wrong secret: Unauthorized, from exactly one attempt, although the pool would retry up to 5
// times anything retryable.
TEST(Faults, WrongSecretIsUnauthorizedAfterExactlyOneAttempt) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_RGW_URL");
  ConnectionOptions o = connection_for(url, testing::unique_test_prefix());
  o.secret_key = "wrong" + o.secret_key;
  auto counting = std::make_shared<CountingClient>(storage_for(o));
  auto client = Client::wrap(counting, retrying(5));

  auto put = client->put(small_put("k", 1));
  EXPECT_EQ(put.status().code(), Code::kUnauthorized) << put.status().to_string();
  EXPECT_EQ(counting->puts.load(), 1);
  EXPECT_EQ(put.status().message().find(o.secret_key), std::string::npos) << "the secret leaked into the error";

  auto get = client->get("k");
  EXPECT_EQ(get.status().code(), Code::kUnauthorized) << get.status().to_string();
  EXPECT_EQ(counting->gets.load(), 1);
  EXPECT_EQ(client->pool().stats().retries, 0u);
}

// Added latency changes nothing but time: puts, gets and a listing all work through it.
TEST(Faults, LatencyFrontendServesEveryOperation) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_FAULT_LATENCY_URL");
  auto client = Client::wrap(storage_for(connection_for(url, testing::unique_test_prefix())), retrying(3));
  constexpr int kObjects = 20;
  std::vector<Future<PutResult>> puts;
  for (int i = 0; i < kObjects; ++i) puts.push_back(client->put_async(small_put(key_of(i), i)));
  for (auto& f : puts) {
    ASSERT_TRUE(f.wait_for(kHangBound));
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.status().to_string();
  }
  for (int i = 0; i < kObjects; i += 7) {
    auto got = client->get(key_of(i));
    ASSERT_TRUE(got.ok()) << got.status().to_string();
    EXPECT_EQ(got->body, small_put(key_of(i), i).body);
  }
  auto listed = client->list_all("");
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  EXPECT_EQ(listed->size(), static_cast<std::size_t>(kObjects));
  std::vector<std::string> keys;
  for (int i = 0; i < kObjects; ++i) keys.push_back(key_of(i));
  auto removed = client->remove_many(keys);
  ASSERT_TRUE(removed.ok()) << removed.status().to_string();
}

// A rate limit (503 SlowDown with Retry-After: 1 past N req/s): with retries, a burst of puts all
// get through eventually.
TEST(Faults, RateLimitedBurstSucceedsWithRetries) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_FAULT_RATELIMIT_URL");
  auto client = Client::wrap(storage_for(connection_for(url, testing::unique_test_prefix())), retrying(30));
  constexpr int kObjects = 150;
  std::vector<Future<PutResult>> puts;
  for (int i = 0; i < kObjects; ++i) puts.push_back(client->put_async(small_put(key_of(i), i)));
  int failed = 0;
  for (auto& f : puts) {
    ASSERT_TRUE(f.wait_for(kHangBound));
    auto r = f.get();
    if (!r.ok() && ++failed <= 5) ADD_FAILURE() << r.status().to_string();
  }
  EXPECT_EQ(failed, 0);
  RecordProperty("retries", static_cast<int>(client->pool().stats().retries));
  std::vector<std::string> keys;
  for (int i = 0; i < kObjects; ++i) keys.push_back(key_of(i));
  auto removed = client->remove_many(keys);
  EXPECT_TRUE(removed.ok()) << removed.status().to_string();
}

}  // namespace
}  // namespace s3db
