#include "s3db/storage_client.h"

#include "storage/s3/digest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>

namespace s3db {
namespace {

PutRequest req(std::string key, std::string body, Metadata md = {}) {
  PutRequest r;
  r.key = std::move(key);
  r.body = std::move(body);
  r.metadata = std::move(md);
  return r;
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(MetadataSizeTest, CountsKeysAndValuesAsSent) {
  EXPECT_EQ(metadata_size({}), 0u);
  EXPECT_EQ(metadata_size({{"ab", "cde"}}), 5u);
  // "日本" is 6 bytes of UTF-8, sent as "=?UTF-8?B?5pel5pys?=" (20 bytes); key bytes count as is.
  EXPECT_EQ(metadata_size({{"k", "日本"}, {"é", "x"}}), 1u + 20u + 2u + 1u);
}

class MemoryLimitTest : public ::testing::Test {
 protected:
  std::unique_ptr<StorageClient> client_ = make_memory_client({.enforce_metadata_limit = true});
  OpContext ctx_;
};

TEST_F(MemoryLimitTest, ExactlyAtTheLimitIsAccepted) {
  // "k" + 2047 ASCII bytes = 2048.
  auto r = client_->put(req("a", "x", {{"k", std::string(2047, 'v')}}), ctx_);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
}

TEST_F(MemoryLimitTest, OneByteOverIsRejectedNamingSizeAndLimit) {
  auto r = client_->put(req("a", "x", {{"k", std::string(2048, 'v')}}), ctx_);
  ASSERT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("2049 bytes"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("limit is 2048"), std::string::npos) << r.status().message();
  // Nothing was written.
  EXPECT_EQ(client_->head("a", ctx_).status().code(), Code::kNotFound);
}

TEST_F(MemoryLimitTest, NonAsciiValuesCountInTheirEncodedForm) {
  // A non-ASCII value travels RFC 2047-encoded: 12 bytes + base64. 762 × "é" = 1,524 bytes →
  // 12 + 2,032 = 2,044, key "k" = 1 → 2,045: fits. 763 × "é" = 1,526 bytes → 2,049: refused,
  // although its UTF-8 bytes (1,526) are far below 2,048 — S3 counts what it receives.
  EXPECT_TRUE(client_->put(req("a", "x", {{"k", repeat("é", 762)}}), ctx_).ok());
  auto over = client_->put(req("a", "x", {{"k", repeat("é", 763)}}), ctx_);
  EXPECT_EQ(over.status().code(), Code::kInvalidArgument);
  // Keys count too, in bytes: "日本" (6 bytes) + 2042 = 2048.
  EXPECT_TRUE(client_->put(req("b", "x", {{"日本", std::string(2042, 'v')}}), ctx_).ok());
  EXPECT_EQ(client_->put(req("b", "x", {{"日本", std::string(2043, 'v')}}), ctx_).status().code(),
            Code::kInvalidArgument);
  // Several entries add up.
  EXPECT_EQ(client_->put(req("c", "x", {{"a", std::string(1023, 'v')}, {"b", std::string(1024, 'v')}}), ctx_)
                .status()
                .code(),
            Code::kInvalidArgument);
}

TEST_F(MemoryLimitTest, CopyWithReplacedMetadataIsCheckedToo) {
  ASSERT_TRUE(client_->put(req("src", "x"), ctx_).ok());
  CopyRequest c;
  c.source_key = "src";
  c.dest_key = "dst";
  c.directive = MetadataDirective::kReplace;
  c.metadata = {{"k", std::string(3000, 'v')}};
  EXPECT_EQ(client_->copy(c, ctx_).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(client_->head("dst", ctx_).status().code(), Code::kNotFound);
}

TEST(MemoryClientTest, LimitEnforcedByDefaultLikeEveryOtherClient) {
  auto client = make_memory_client();
  OpContext ctx;
  EXPECT_EQ(client->put(req("a", "x", {{"k", std::string(5000, 'v')}}), ctx).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(client->kind(), "memory");
  // Tests that must store what S3 would refuse turn it off.
  auto lax = make_memory_client({.enforce_metadata_limit = false});
  auto r = lax->put(req("a", "x", {{"k", std::string(5000, 'v')}}), ctx);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(lax->head("a", ctx)->metadata.at("k").size(), 5000u);
}

TEST(MemoryClientTest, CancelledAttemptWritesNothing) {
  auto client = make_memory_client();
  OpContext ctx;
  ctx.cancel(Status::Timeout("attempt timed out"));
  auto r = client->put(req("a", "x"), ctx);
  EXPECT_EQ(r.status().code(), Code::kTimeout);
  OpContext fresh;
  EXPECT_EQ(client->head("a", fresh).status().code(), Code::kNotFound);
}

TEST(MemoryClientTest, IfMatchAcceptsQuotedEtags) {
  auto client = make_memory_client();
  OpContext ctx;
  auto v1 = client->put(req("a", "1"), ctx);
  ASSERT_TRUE(v1.ok());
  PutRequest r = req("a", "2");
  r.if_match = "\"" + v1->etag + "\"";
  EXPECT_TRUE(client->put(r, ctx).ok());
}

TEST(MemoryClientTest, CopyOntoItselfNeedsReplace) {
  auto client = make_memory_client();
  OpContext ctx;
  ASSERT_TRUE(client->put(req("a", "1"), ctx).ok());
  CopyRequest c;
  c.source_key = c.dest_key = "a";
  EXPECT_EQ(client->copy(c, ctx).status().code(), Code::kInvalidArgument);
}

TEST(MemoryClientTest, MalformedContinuationTokenRejected) {
  auto client = make_memory_client();
  OpContext ctx;
  ListRequest l;
  l.continuation_token = "not-a-token";
  EXPECT_EQ(client->list(l, ctx).status().code(), Code::kInvalidArgument);
}

TEST(MemoryClientTest, MultiCharacterDelimiterAndStartAfterPastTheEnd) {
  auto client = make_memory_client();
  OpContext ctx;
  for (const char* k : {"x--1--a", "x--1--b", "x--2", "y"}) ASSERT_TRUE(client->put(req(k, "v"), ctx).ok());
  ListRequest l;
  l.delimiter = "--";
  auto r = client->list(l, ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->common_prefixes, std::vector<std::string>{"x--"});
  ASSERT_EQ(r->objects.size(), 1u);
  EXPECT_EQ(r->objects[0].key, "y");
  l.start_after = "z";
  auto end = client->list(l, ctx);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end->objects.empty());
  EXPECT_TRUE(end->common_prefixes.empty());
}

// The index's order is brought up to date lazily (a sorted list plus the keys created since):
// a scan that lists pages while keys are created, removed and re-created between its pages must
// still see every key that was there before it started and was never removed exactly once, in
// byte order, and also every key created ahead of its position (this client answers each page
// from the store as it is then). Enough keys that both the lazy merge and the cursor over the
// not-yet-merged keys serve pages.
TEST(MemoryClientTest, ListPagesWhileKeysAreCreatedAndRemoved) {
  auto client = make_memory_client();
  OpContext ctx;
  std::mt19937 rng(13);
  auto key = [&] { return std::string("d/") + std::to_string(rng() % 1'000'000'000u); };
  std::set<std::string> before;
  while (before.size() < 20'000) {
    std::string k = key();
    ASSERT_TRUE(client->put(req(k, "v"), ctx).ok());
    before.insert(std::move(k));
  }
  ASSERT_TRUE(client->put(req("e", "outside the prefix"), ctx).ok());
  std::set<std::string> removed, created_ahead;
  std::vector<std::string> seen;
  ListRequest l;
  l.prefix = "d/";
  for (int page = 0; page < 100; ++page) {
    auto r = client->list(l, ctx);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    for (const auto& m : r->objects) seen.push_back(m.key);
    if (!r->truncated) break;
    l.continuation_token = r->next_continuation_token;
    const std::string& at = seen.back();
    for (int i = 0; i < 300; ++i) {  // new keys on both sides of the scan's position
      std::string k = key();
      ASSERT_TRUE(client->put(req(k, "new"), ctx).ok());
      if (k > at && (!before.contains(k) || removed.contains(k))) created_ahead.insert(k);
    }
    for (int i = 0; i < 100; ++i) {  // removals ahead of it, some created again
      auto it = before.upper_bound(key());
      if (it == before.end() || *it <= at || removed.contains(*it)) continue;
      ASSERT_TRUE(client->remove(*it, ctx).ok());
      removed.insert(*it);
      if (i % 4 == 0) {
        ASSERT_TRUE(client->put(req(*it, "again"), ctx).ok());
        created_ahead.insert(*it);
      }
    }
  }
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "a key was listed twice";
  const std::set<std::string> listed(seen.begin(), seen.end());
  for (const auto& k : before) {
    if (removed.contains(k) && !created_ahead.contains(k)) {
      EXPECT_FALSE(listed.contains(k)) << "removed ahead of the scan, still listed: " << k;
    } else {
      EXPECT_TRUE(listed.contains(k)) << "missed " << k;
    }
  }
  for (const auto& k : created_ahead) EXPECT_TRUE(listed.contains(k)) << "missed new " << k;
  EXPECT_FALSE(listed.contains("e"));
  EXPECT_GT(removed.size(), 500u);  // the scan did meet removals, and tombstones behind it
}

// A truncate's pattern: list the first page, remove it, list again from the start. Removed keys
// stay behind in the sorted list until it is merged; they must never be listed, read or counted.
TEST(MemoryClientTest, ListRemoveRepeatUntilEmpty) {
  auto client = make_memory_client();
  OpContext ctx;
  for (int i = 0; i < 12'000; ++i) ASSERT_TRUE(client->put(req(std::string("t/") + std::to_string(i), "v"), ctx).ok());
  ListRequest l;
  l.prefix = "t/";
  std::size_t removed = 0;
  for (int round = 0; round < 20; ++round) {
    auto r = client->list(l, ctx);
    ASSERT_TRUE(r.ok());
    if (r->objects.empty()) break;
    std::vector<std::string> keys;
    for (const auto& m : r->objects) keys.push_back(m.key);
    auto d = client->remove_many(keys, ctx);
    ASSERT_TRUE(d.ok());
    removed += d->deleted;
    for (const auto& k : keys) {
      ASSERT_EQ(client->head(k, ctx).status().code(), Code::kNotFound) << k;
    }
  }
  EXPECT_EQ(removed, 12'000u);
  auto r = client->list(l, ctx);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->objects.empty());
  // A removed key written again is listed once.
  ASSERT_TRUE(client->put(req("t/5", "back"), ctx).ok());
  auto back = client->list(l, ctx);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->objects.size(), 1u);
  EXPECT_EQ(back->objects[0].key, "t/5");
  EXPECT_EQ(back->objects[0].size, 4u);
}

// Writers on other threads create and remove keys while a scan pages through the same prefix
// (the client is shared by a pool's threads): every page is in order, pages never go back, and
// every key that stays put the whole time is listed exactly once. Run under ThreadSanitizer too.
TEST(MemoryClientTest, ListWhileOtherThreadsWrite) {
  auto client = make_memory_client();
  OpContext ctx;
  std::vector<std::string> stable;
  for (int i = 0; i < 3'000; ++i) {
    stable.push_back(std::string("c/") + std::to_string(i * 7) + "s");
    ASSERT_TRUE(client->put(req(stable.back(), "v"), ctx).ok());
  }
  std::sort(stable.begin(), stable.end());
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      OpContext wctx;
      for (int i = 0; i < 20'000 && !stop.load(); ++i) {
        const std::string k = std::string("c/") + std::to_string(i % 5'000 * 3) + "w" + std::to_string(w);
        if (i % 3 == 2) (void)client->remove(k, wctx);
        else (void)client->put(req(k, "w"), wctx);
      }
    });
  }
  std::vector<std::string> seen;
  ListRequest l;
  l.prefix = "c/";
  l.max_keys = 100;
  for (int page = 0; page < 1'000; ++page) {
    auto r = client->list(l, ctx);
    ASSERT_TRUE(r.ok());
    for (const auto& m : r->objects) seen.push_back(m.key);
    if (!r->truncated) break;
    l.continuation_token = r->next_continuation_token;
  }
  stop = true;
  for (auto& t : writers) t.join();
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());
  std::vector<std::string> stable_seen;
  for (const auto& k : seen) if (k.back() == 's') stable_seen.push_back(k);
  EXPECT_EQ(stable_seen, stable);
}

}  // namespace
}  // namespace s3db
