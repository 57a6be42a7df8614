// https against a real TLS server: haproxy terminates TLS in front of Ceph RGW with a self-signed
// certificate made at server start (scripts/servers/haproxy.sh). Verification is on by default,
// so that certificate is refused — Unauthorized, not retried, with the hint — until the client
// trusts it through ca_file; then every operation works over TLS. A ca_file that cannot be read
// is InvalidArgument. Needs S3DB_TEST_TLS_URL and S3DB_TEST_TLS_CA (skips without them; fails
// with S3DB_REQUIRE_SERVERS=1).
#include <s3db/client.h>
#include <s3db/connection.h>
#include <s3db/storage_client.h>

#include "support/test_env.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>

namespace s3db {
namespace {

class CountingPuts final : public ForwardingClient {
 public:
  using ForwardingClient::ForwardingClient;
  Result<PutResult> put(const PutRequest& r, OpContext& c) override {
    ++puts;
    return ForwardingClient::put(r, c);
  }
  std::atomic<int> puts{0};
};

struct TlsClient {
  std::shared_ptr<CountingPuts> counter;
  std::shared_ptr<Client> client;
};

// `params` is appended to the TLS URL's query (e.g. "ca_file=/x.pem").
TlsClient open_tls(const std::string& url, const std::string& params) {
  auto conn = ConnectionOptions::FromUri(url + (params.empty() ? "" : "?" + params));
  EXPECT_TRUE(conn.ok()) << conn.status().to_string();
  if (!conn.ok()) return {};
  std::string prefix = testing::unique_test_prefix();
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  conn->prefix = prefix;
  auto storage = make_storage_client(*conn);
  EXPECT_TRUE(storage.ok()) << storage.status().to_string();
  if (!storage.ok()) return {};
  TlsClient t;
  t.counter = std::make_shared<CountingPuts>(std::shared_ptr<StorageClient>(std::move(storage).value()));
  ClientOptions o;
  o.pool.concurrency = 4;
  t.client = Client::wrap(t.counter, o);
  return t;
}

PutRequest small_put(const std::string& key) {
  PutRequest p;
  p.key = key;
  p.body = "over tls";
  p.metadata = {{"colour", "blue"}};
  return p;
}

TEST(Tls, SelfSignedCertificateIsRefusedByDefaultAndNotRetried) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_TLS_URL");
  TlsClient t = open_tls(url, "");
  ASSERT_TRUE(t.client);
  auto put = t.client->put(small_put("refused"));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), Code::kUnauthorized) << put.status().to_string();
  EXPECT_NE(put.status().to_string().find("ca_file"), std::string::npos) << put.status().to_string();
  EXPECT_EQ(t.counter->puts.load(), 1);  // a certificate problem is not worth a retry
}

TEST(Tls, TrustedThroughCaFileEveryOperationWorks) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_TLS_URL");
  S3DB_SERVER_URL_OR_SKIP(ca, "S3DB_TEST_TLS_CA");
  TlsClient t = open_tls(url, "ca_file=" + ca);
  ASSERT_TRUE(t.client);
  ASSERT_TRUE(t.client->put(small_put("a")).ok());
  auto got = t.client->get("a");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(got->body, "over tls");
  EXPECT_EQ(got->meta.metadata.at("colour"), "blue");
  auto listed = t.client->list_all("");
  ASSERT_TRUE(listed.ok()) << listed.status().to_string();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE(t.client->remove("a").ok());
  EXPECT_TRUE(t.client->head("a").status().is_not_found());
}

TEST(Tls, UnreadableCaFileIsInvalidArgument) {
  S3DB_SERVER_URL_OR_SKIP(url, "S3DB_TEST_TLS_URL");
  TlsClient t = open_tls(url, "ca_file=/nonexistent/s3db-ca.pem");
  ASSERT_TRUE(t.client);
  auto put = t.client->put(small_put("x"));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().code(), Code::kInvalidArgument) << put.status().to_string();
  EXPECT_EQ(t.counter->puts.load(), 1);
}

}  // namespace
}  // namespace s3db
