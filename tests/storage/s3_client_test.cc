// S3Client against real servers (Ceph RGW, s3rver, haproxy fault frontends): the S3-specific
// behaviour the shared conformance suite does not pin down — RGW's answers to conditional
// writes, UTF-8 metadata round trips, odd keys, cancellation of a hung transfer, auth and
// connection failures, concurrent use of one client. Skipped without servers (see test_env.h).
#include "storage/s3/s3_client.h"

#include "support/test_env.h"

#include <s3db/connection.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

namespace s3db::s3 {
namespace {

// A client on `url` whose keys live under a prefix unique to this test.
std::unique_ptr<StorageClient> client_for(const std::string& url, std::string* secret = nullptr) {
  auto opts = ConnectionOptions::FromUri(url);
  EXPECT_TRUE(opts.ok()) << opts.status().to_string();
  if (!opts.ok()) return nullptr;
  ConnectionOptions o = *opts;
  std::string unique = testing::unique_test_prefix();
  while (!unique.empty() && unique.back() == '/') unique.pop_back();
  o.prefix = o.prefix.empty() ? unique : o.prefix + "/" + unique;
  if (secret) o.secret_key = *secret;
  auto client = make_s3_client(o);
  EXPECT_TRUE(client.ok()) << client.status().to_string();
  return client.ok() ? std::move(*client) : nullptr;
}

PutRequest put_of(std::string key, std::string body, Metadata meta = {}) {
  PutRequest r;
  r.key = std::move(key);
  r.body = std::move(body);
  r.metadata = std::move(meta);
  return r;
}

TEST(S3ClientRgw, RoundTripWithUtf8MetadataAndContentType) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_RGW_URL");
  auto c = client_for(url);
  ASSERT_TRUE(c);
  OpContext ctx;
  PutRequest r = put_of("doc/é k+=x", "hello body",
                        {{"ascii", "plain value"}, {"utf8", "café ✓ 日本"}, {"spaces", " a  b "},
                         {"empty", ""}});
  r.content_type = "application/json";
  auto put = c->put(r, ctx);
  ASSERT_TRUE(put.ok()) << put.status().to_string();
  EXPECT_EQ(put->etag.size(), 32u) << put->etag;  // MD5 hex, quotes stripped

  auto got = c->get("doc/é k+=x", ctx);
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->body, "hello body");
  EXPECT_EQ(got->meta.etag, put->etag);
  EXPECT_EQ(got->meta.content_type, "application/json");
  EXPECT_EQ(got->meta.metadata, r.metadata);

  auto head = c->head("doc/é k+=x", ctx);
  ASSERT_TRUE(head.ok()) << head.status().to_string();
  EXPECT_EQ(head->size, 10u);
  EXPECT_EQ(head->metadata, r.metadata);
  EXPECT_GT(head->last_modified_ms, 1600000000000);
}

TEST(S3ClientRgw, ConditionalWrites) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_RGW_URL");
  auto c = client_for(url);
  ASSERT_TRUE(c);
  OpContext ctx;
  PutRequest create = put_of("cond", "v1");
  create.if_none_match = true;
  auto first = c->put(create, ctx);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  auto again = c->put(create, ctx);
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists) << again.status().to_string();

  PutRequest update = put_of("cond", "v2");
  update.if_match = "0123456789abcdef0123456789abcdef";
  auto stale = c->put(update, ctx);
  EXPECT_EQ(stale.status().code(), Code::kPreconditionFailed) << stale.status().to_string();
  update.if_match = first->etag;
  auto fresh = c->put(update, ctx);
  ASSERT_TRUE(fresh.ok()) << fresh.status().to_string();
  EXPECT_EQ(c->get("cond", ctx)->body, "v2");
  // A quoted ETag (as HTTP writes it) works too.
  update.body = "v3";
  update.if_match = "\"" + fresh->etag + "\"";
  EXPECT_TRUE(c->put(update, ctx).ok());

  PutRequest missing = put_of("never-written", "x");
  missing.if_match = first->etag;
  EXPECT_EQ(c->put(missing, ctx).status().code(), Code::kPreconditionFailed);
}

TEST(S3ClientRgw, MissingKeysAndDeletes) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_RGW_URL");
  auto c = client_for(url);
  ASSERT_TRUE(c);
  OpContext ctx;
  EXPECT_EQ(c->get("nope", ctx).status().code(), Code::kNotFound);
  auto head = c->head("nope", ctx);
  EXPECT_EQ(head.status().code(), Code::kNotFound);
  EXPECT_NE(head.status().message().find("nope"), std::string::npos);
  EXPECT_TRUE(c->remove("nope", ctx).ok());
  ASSERT_TRUE(c->put(put_of("gone", "x"), ctx).ok());
  EXPECT_TRUE(c->remove("gone", ctx).ok());
  EXPECT_EQ(c->get("gone", ctx).status().code(), Code::kNotFound);
  EXPECT_EQ(c->get("", ctx).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(c->get(std::string(1025, 'k'), ctx).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(c->get("bad\xFFutf8", ctx).status().code(), Code::kInvalidArgument);
}

TEST(S3ClientRgw, ListDecodesOddKeysAndPaginates) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_RGW_URL");
  auto c = client_for(url);
  ASSERT_TRUE(c);
  OpContext ctx;
  const std::vector<std::string> keys = {"a b", "a+b", "a=b", "a%20b", "dir/x", "dir/y",
                                         "ключ", "z~!*'()"};
  for (const auto& k : keys) ASSERT_TRUE(c->put(put_of(k, k), ctx).ok()) << k;

  std::vector<std::string> seen;
  ListRequest lr;
  lr.max_keys = 3;
  for (int page = 0; page < 10; ++page) {
    auto p = c->list(lr, ctx);
    ASSERT_TRUE(p.ok()) << p.status().to_string();
    for (auto& o : p->objects) seen.push_back(o.key);
    if (!p->truncated) break;
    lr.continuation_token = p->next_continuation_token;
  }
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(seen, sorted);

  ListRequest delim;
  delim.delimiter = "/";
  auto d = c->list(delim, ctx);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->common_prefixes, std::vector<std::string>{"dir/"});
  EXPECT_EQ(d->objects.size(), keys.size() - 2);

  ListRequest after;
  after.start_after = "dir/x";
  after.prefix = "dir/";
  auto a = c->list(after, ctx);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->objects.size(), 1u);
  EXPECT_EQ(a->objects[0].key, "dir/y");
  EXPECT_EQ(a->objects[0].size, 5u);
}

TEST(S3ClientRgw, CopyAndDeleteMany) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_RGW_URL");
  auto c = client_for(url);
  ASSERT_TRUE(c);
  OpContext ctx;
  PutRequest src = put_of("src key+é", "payload", {{"m", "1"}});
  src.content_type = "text/plain";
  ASSERT_TRUE(c->put(src, ctx).ok());

  CopyRequest keep{"src key+é", "copy1", MetadataDirective::kCopy, {}, {}};
  ASSERT_TRUE(c->copy(keep, ctx).ok());
  auto h1 = c->head("copy1", ctx);
  ASSERT_TRUE(h1.ok());
  EXPECT_EQ(h1->metadata, (Metadata{{"m", "1"}}));
  EXPECT_EQ(h1->content_type, "text/plain");

  CopyRequest replace{"src key+é", "copy2", MetadataDirective::kReplace, {{"n", "ü"}}, {}};
  auto copied = c->copy(replace, ctx);
  ASSERT_TRUE(copied.ok()) << copied.status().to_string();
  auto h2 = c->head("copy2", ctx);
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(h2->metadata, (Metadata{{"n", "ü"}}));
  EXPECT_EQ(h2->content_type, "text/plain");  // kept although REPLACE
  EXPECT_EQ(c->get("copy2", ctx)->body, "payload");

  CopyRequest missing{"absent", "copy3", MetadataDirective::kCopy, {}, {}};
  EXPECT_EQ(c->copy(missing, ctx).status().code(), Code::kNotFound);

  std::vector<std::string> keys = {"src key+é", "copy1", "copy2", "never-existed", ""};
  auto del = c->remove_many(keys, ctx);
  ASSERT_TRUE(del.ok()) << del.status().to_string();
  EXPECT_EQ(del->deleted, 4u);
  ASSERT_EQ(del->failed.size(), 1u);  // the empty key
  EXPECT_EQ(del->failed[0].second.code(), Code::kInvalidArgument);
  auto rest = c->list(ListRequest{}, ctx);
  ASSERT_TRUE(rest.ok());
  EXPECT_TRUE(rest->objects.empty());
}

TEST(S3ClientRgw, ConcurrentUseOfOneClient) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_RGW_URL");
  auto c = client_for(url);
  ASSERT_TRUE(c);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      OpContext ctx;
      for (int i = 0; i < 20; ++i) {
        std::string key = "c/" + std::to_string(t) + "-" + std::to_string(i);
        if (!c->put(put_of(key, key), ctx).ok()) ++failures;
        auto got = c->get(key, ctx);
        if (!got.ok() || got->body != key) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(S3ClientRgw, WrongSecretIsUnauthorized) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_RGW_URL");
  std::string wrong = "definitely-not-the-secret-0123456789";
  auto c = client_for(url, &wrong);
  ASSERT_TRUE(c);
  OpContext ctx;
  auto r = c->put(put_of("k", "v"), ctx);
  EXPECT_EQ(r.status().code(), Code::kUnauthorized) << r.status().to_string();
  EXPECT_EQ(r.status().message().find(wrong), std::string::npos);
  EXPECT_NE(r.status().message().find("403"), std::string::npos) << r.status().to_string();
}

// A client of an endpoint nobody serves: port 9 (discard) is not served on this machine's loopback.
ConnectionOptions unserved_endpoint() {
  ConnectionOptions o;
  o.kind = StorageKind::kS3;
  o.bucket = "b";
  o.endpoint = "http://127.0.0.1:9";
  o.path_style = true;
  o.access_key = "AK";
  o.secret_key = "SK";
  return o;
}

TEST(S3ClientNet, ConnectionRefusedIsUnavailable) {
  auto c = make_s3_client(unserved_endpoint());
  ASSERT_TRUE(c.ok());
  OpContext ctx;
  auto r = (*c)->get("k", ctx);
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().to_string();
  EXPECT_TRUE(r.status().retryable());
}

TEST(S3ClientNet, KeysCountTheConnectionsPrefixAndAreCheckedBeforeSending) {
  // A request that was sent would fail Unavailable instead.
  ConnectionOptions o = unserved_endpoint();
  o.prefix = std::string(1000, 'p');  // keys go to "<prefix>/<key>": 1001 bytes before the key
  auto c = make_s3_client(o);
  ASSERT_TRUE(c.ok());
  OpContext ctx;
  EXPECT_EQ((*c)->get(std::string(23, 'k'), ctx).status().code(), Code::kUnavailable);  // 1024: sent
  auto r = (*c)->get(std::string(24, 'k'), ctx);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument) << r.status().to_string();
  EXPECT_NE(r.status().message().find("1025 with the connection's prefix"), std::string::npos)
      << r.status().to_string();
  EXPECT_EQ((*c)->head("\xC0\xAF", ctx).status().code(), Code::kInvalidArgument);  // overlong '/'
}

TEST(S3ClientNet, CancellingAHungTransferAbortsIt) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_FAULT_BLACKHOLE_URL");
  auto c = client_for(url);
  ASSERT_TRUE(c);
  OpContext ctx;
  auto pending = std::async(std::launch::async, [&] { return c->get("k", ctx).status(); });
  // The black hole never answers: only the cancellation can end this call.
  EXPECT_EQ(pending.wait_for(std::chrono::milliseconds(300)), std::future_status::timeout);
  ctx.cancel(Status::Timeout("test", "attempt timeout"));
  ASSERT_EQ(pending.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the transfer kept running after cancellation";
  Status s = pending.get();
  EXPECT_EQ(s.code(), Code::kTimeout) << s.to_string();
  EXPECT_NE(s.message().find("s3 get"), std::string::npos) << s.to_string();

  OpContext stopped;
  stopped.cancel(Status::Cancelled("pool", "stopped"));
  EXPECT_EQ(c->get("k", stopped).status().code(), Code::kCancelled);
}

TEST(S3ClientNet, FactoryRejectsUnusableOptions) {
  ConnectionOptions o;
  o.kind = StorageKind::kS3;
  o.bucket = "b";
  EXPECT_EQ(make_s3_client(o).status().code(), Code::kInvalidArgument);  // no credentials
  o.access_key = "AK";
  o.secret_key = "SK";
  o.endpoint = "ftp://host";
  EXPECT_EQ(make_s3_client(o).status().code(), Code::kInvalidArgument);
  o.endpoint = "http://host:1/path";
  EXPECT_EQ(make_s3_client(o).status().code(), Code::kInvalidArgument);
  o.endpoint = "";
  auto aws = make_s3_client(o);
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ((*aws)->describe(), "s3://b at https://b.s3.us-east-1.amazonaws.com (us-east-1)");
  EXPECT_EQ((*aws)->describe().find("SK"), std::string::npos);
}

}  // namespace
}  // namespace s3db::s3
