// SigV4 checked against the worked examples AWS publishes for S3 (header-based auth,
// AKIAIOSFODNN7EXAMPLE, examplebucket, 20130524T000000Z): canonical request, string to sign,
// signing key and signature for GET object (Range), PUT object, GET lifecycle, GET bucket list.
#include "storage/s3/sigv4.h"

#include "core/encoding.h"
#include "storage/s3/digest.h"
#include "storage/s3/s3_request.h"

#include <gtest/gtest.h>

#include <chrono>

namespace s3db::s3 {
namespace {

constexpr std::string_view kDate = "20130524T000000Z";
constexpr std::string_view kEmpty = kEmptySha256;
const Credentials kCreds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};

std::chrono::system_clock::time_point example_time() {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1369353600));  // 2013-05-24Z
}

Params base_headers(std::string_view payload) {
  return {{"Host", "examplebucket.s3.amazonaws.com"},
          {"x-amz-content-sha256", std::string(payload)},
          {"x-amz-date", std::string(kDate)}};
}

std::string sts_hash(const std::string& sts) { return sts.substr(sts.rfind('\n') + 1); }

TEST(SigV4, AmzDateFormatsUtc) {
  EXPECT_EQ(amz_date(example_time()), kDate);
  EXPECT_EQ(credential_scope(kDate, "us-east-1"), "20130524/us-east-1/s3/aws4_request");
}

TEST(SigV4, SigningKeyMatchesPublishedValue) {
  EXPECT_EQ(encoding::to_hex(signing_key(kCreds.secret_key, "20130524", "us-east-1")),
            "dbb893acc010964918f1fd433add87c70e8b0db6be30c1fbeafefa5ec6ba8378");
}

TEST(SigV4, GetObjectWithRange) {
  SigningRequest r{"GET", "/test.txt", {}, base_headers(kEmpty), kEmpty};
  r.headers.emplace_back("Range", "bytes=0-9");
  const std::string expected_cr =
      "GET\n/test.txt\n\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "range:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n\n"
      "host;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  EXPECT_EQ(canonical_request(r), expected_cr);
  std::string sts = string_to_sign(kDate, credential_scope(kDate, "us-east-1"), expected_cr);
  EXPECT_EQ(sts,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(authorization(r, kCreds, "us-east-1", kDate),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, PutObjectWithEncodedKeyAndPayload) {
  const std::string body = "Welcome to Amazon S3.";
  const std::string hash = sha256_hex(body);
  EXPECT_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  std::string uri = "/" + encoding::percent_encode("test$file.text", encoding::kUnreservedAndSlash);
  EXPECT_EQ(uri, "/test%24file.text");
  SigningRequest r{"PUT", uri, {}, base_headers(hash), hash};
  r.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  r.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  const std::string cr = canonical_request(r);
  EXPECT_EQ(cr,
            "PUT\n/test%24file.text\n\n"
            "date:Fri, 24 May 2013 00:00:00 GMT\n"
            "host:examplebucket.s3.amazonaws.com\n"
            "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
            "x-amz-date:20130524T000000Z\n"
            "x-amz-storage-class:REDUCED_REDUNDANCY\n\n"
            "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(sts_hash(string_to_sign(kDate, credential_scope(kDate, "us-east-1"), cr)),
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(authorization(r, kCreds, "us-east-1", kDate),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4, GetBucketLifecycleBareParameterGetsEquals) {
  SigningRequest r{"GET", "/", {{"lifecycle", ""}}, base_headers(kEmpty), kEmpty};
  const std::string cr = canonical_request(r);
  EXPECT_EQ(cr.substr(0, cr.find("host:")), "GET\n/\nlifecycle=\n");
  EXPECT_EQ(sts_hash(string_to_sign(kDate, credential_scope(kDate, "us-east-1"), cr)),
            "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  std::string auth = authorization(r, kCreds, "us-east-1", kDate);
  EXPECT_EQ(auth.substr(auth.find("Signature=") + 10),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, ListObjectsSortsQuery) {
  // Given out of order: the canonical query must come out sorted.
  SigningRequest r{"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}}, base_headers(kEmpty), kEmpty};
  const std::string cr = canonical_request(r);
  EXPECT_EQ(cr.substr(0, cr.find("host:")), "GET\n/\nmax-keys=2&prefix=J\n");
  EXPECT_EQ(sts_hash(string_to_sign(kDate, credential_scope(kDate, "us-east-1"), cr)),
            "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  std::string auth = authorization(r, kCreds, "us-east-1", kDate);
  EXPECT_EQ(auth.substr(auth.find("Signature=") + 10),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, RequesterSignsTheGetExampleEndToEnd) {
  // The production path (URL building + header list + cached signing key) on the same example.
  S3Requester req(Endpoint{"https", "examplebucket.s3.amazonaws.com", ""}, "us-east-1", kCreds,
                  HttpOptions{});
  HttpRequest http = req.build(S3Call{"GET", "test.txt", {}, {{"range", "bytes=0-9"}}, {}},
                               example_time(), kEmpty);
  EXPECT_EQ(http.url, "https://examplebucket.s3.amazonaws.com/test.txt");
  bool found = false;
  for (const std::string& h : http.headers) {
    if (h.rfind("Authorization: ", 0) == 0) {
      found = true;
      EXPECT_NE(h.find("Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
                std::string::npos)
          << h;
    }
    EXPECT_EQ(h.find(kCreds.secret_key), std::string::npos) << "secret leaked into " << h;
    EXPECT_NE(h.rfind("Expect", 0), 0u) << "Expect must never be signed or sent by the signer";
  }
  EXPECT_TRUE(found);
  // The list example through the requester: the wire query is the sorted canonical one.
  HttpRequest list = req.build(S3Call{"GET", "", {{"prefix", "J"}, {"max-keys", "2"}}, {}, {}},
                               example_time(), kEmpty);
  EXPECT_EQ(list.url, "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J");
  EXPECT_NE(list.headers.back().find("34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"),
            std::string::npos);
}

TEST(SigV4, SessionTokenIsSentAndSigned) {
  Credentials with_token = kCreds;
  with_token.session_token = "TOKEN/with+chars";
  S3Requester req(Endpoint{"http", "127.0.0.1:7480", "/bucket"}, "us-east-1", with_token, {});
  HttpRequest http = req.build(S3Call{"GET", "k", {}, {}, {}}, example_time(), kEmpty);
  EXPECT_EQ(http.url, "http://127.0.0.1:7480/bucket/k");
  bool token = false;
  for (const std::string& h : http.headers) {
    if (h == "x-amz-security-token: TOKEN/with+chars") token = true;
  }
  EXPECT_TRUE(token);
  EXPECT_NE(http.headers.back().find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                                     "x-amz-security-token,"),
            std::string::npos);
}

TEST(SigV4, CanonicalHeadersTrimAndCollapse) {
  Params h{{"X-Amz-Meta-A", "  two  spaces  here "}, {"host", "h"}};
  EXPECT_EQ(canonical_headers(h), "host:h\nx-amz-meta-a:two spaces here\n");
  EXPECT_EQ(signed_headers(h), "host;x-amz-meta-a");
}

TEST(SigV4, CanonicalQueryEncodesEverythingButUnreserved) {
  Params q{{"prefix", "a b/c+d=é"}, {"continuation-token", "x/y=="}, {"delete", ""}};
  EXPECT_EQ(canonical_query(q),
            "continuation-token=x%2Fy%3D%3D&delete=&prefix=a%20b%2Fc%2Bd%3D%C3%A9");
}

}  // namespace
}  // namespace s3db::s3
