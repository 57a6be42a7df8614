// The one S3 → Status mapping (errors.h), table by table.
#include "storage/s3/errors.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

namespace s3db::s3 {
namespace {

struct Row {
  long http;
  const char* code;
  int curl;
  WriteCondition cond;
  Code expected;
};

ErrorInfo info_of(const Row& r) {
  ErrorInfo e;
  e.operation = "put";
  e.key = "users/id=1";
  e.http_status = r.http;
  e.s3_code = r.code;
  e.curl_code = r.curl;
  e.condition = r.cond;
  e.request_id = "tx000-REQ";
  return e;
}

TEST(S3Errors, MappingTable) {
  using W = WriteCondition;
  const Row rows[] = {
      {503, "SlowDown", 0, W::kNone, Code::kThrottled},
      {503, "ServiceUnavailable", 0, W::kNone, Code::kThrottled},
      {503, "", 0, W::kNone, Code::kUnavailable},  // a bare 503 to a PUT: see BareServiceUnavailable...
      {429, "", 0, W::kNone, Code::kThrottled},
      {200, "SlowDown", 0, W::kNone, Code::kThrottled},  // an error inside a 200 body
      {500, "InternalError", 0, W::kNone, Code::kUnavailable},
      {502, "", 0, W::kNone, Code::kUnavailable},
      {504, "", 0, W::kNone, Code::kUnavailable},
      {200, "InternalError", 0, W::kNone, Code::kUnavailable},
      {400, "RequestTimeout", 0, W::kNone, Code::kTimeout},
      {408, "", 0, W::kNone, Code::kTimeout},
      {404, "NoSuchKey", 0, W::kNone, Code::kNotFound},
      {404, "NoSuchBucket", 0, W::kNone, Code::kNotFound},
      {404, "", 0, W::kNone, Code::kNotFound},  // HEAD: no body
      {412, "PreconditionFailed", 0, W::kNone, Code::kPreconditionFailed},
      {412, "PreconditionFailed", 0, W::kIfMatch, Code::kPreconditionFailed},
      {404, "NoSuchKey", 0, W::kIfMatch, Code::kPreconditionFailed},  // If-Match on a missing key
      {409, "ConditionalRequestConflict", 0, W::kIfMatch, Code::kPreconditionFailed},
      {412, "PreconditionFailed", 0, W::kCreateOnly, Code::kAlreadyExists},
      {409, "ConditionalRequestConflict", 0, W::kCreateOnly, Code::kAlreadyExists},
      {403, "SignatureDoesNotMatch", 0, W::kNone, Code::kUnauthorized},
      {403, "AccessDenied", 0, W::kNone, Code::kUnauthorized},
      {403, "InvalidAccessKeyId", 0, W::kNone, Code::kUnauthorized},
      {403, "RequestTimeTooSkewed", 0, W::kNone, Code::kUnauthorized},
      {400, "AuthorizationHeaderMalformed", 0, W::kNone, Code::kUnauthorized},
      {401, "", 0, W::kNone, Code::kUnauthorized},
      {400, "InvalidArgument", 0, W::kNone, Code::kInvalidArgument},
      {400, "KeyTooLongError", 0, W::kNone, Code::kInvalidArgument},
      {409, "BucketAlreadyExists", 0, W::kNone, Code::kInvalidArgument},
      {501, "NotImplemented", 0, W::kNone, Code::kInvalidArgument},
      {301, "PermanentRedirect", 0, W::kNone, Code::kInvalidArgument},
      {200, "WeirdNewCode", 0, W::kNone, Code::kInternal},
      {0, "", CURLE_OPERATION_TIMEDOUT, W::kNone, Code::kTimeout},
      {0, "", CURLE_COULDNT_CONNECT, W::kNone, Code::kUnavailable},
      {0, "", CURLE_COULDNT_RESOLVE_HOST, W::kNone, Code::kUnavailable},
      {0, "", CURLE_GOT_NOTHING, W::kNone, Code::kUnavailable},
      {0, "", CURLE_RECV_ERROR, W::kNone, Code::kUnavailable},
      {0, "", CURLE_SEND_ERROR, W::kNone, Code::kUnavailable},
      {0, "", CURLE_PARTIAL_FILE, W::kNone, Code::kUnavailable},
      {0, "", CURLE_ABORTED_BY_CALLBACK, W::kNone, Code::kCancelled},
      {0, "", CURLE_PEER_FAILED_VERIFICATION, W::kNone, Code::kUnauthorized},
      {0, "", CURLE_URL_MALFORMAT, W::kNone, Code::kInvalidArgument},
      // A transport failure wins over whatever status a half-read response had.
      {200, "", CURLE_RECV_ERROR, W::kCreateOnly, Code::kUnavailable},
  };
  for (const Row& r : rows) {
    Status s = map_error(info_of(r));
    EXPECT_EQ(code_name(s.code()), code_name(r.expected))
        << "http " << r.http << " code '" << r.code << "' curl " << r.curl << " → "
        << s.to_string();
  }
}

TEST(S3Errors, MessageNamesOperationKeyStatusCodeAndRequestId) {
  ErrorInfo e;
  e.operation = "get";
  e.key = "resource=users/data/id=42";
  e.http_status = 503;
  e.s3_code = "SlowDown";
  e.s3_message = "Please reduce your request rate.";
  e.request_id = "tx0000abc";
  Status s = map_error(e);
  const std::string& m = s.message();
  EXPECT_NE(m.find("get"), std::string::npos) << m;
  EXPECT_NE(m.find("resource=users/data/id=42"), std::string::npos) << m;
  EXPECT_NE(m.find("503"), std::string::npos) << m;
  EXPECT_NE(m.find("SlowDown"), std::string::npos) << m;
  EXPECT_NE(m.find("tx0000abc"), std::string::npos) << m;
  EXPECT_NE(m.find("Please reduce"), std::string::npos) << m;
}

TEST(S3Errors, UnauthorizedCarriesAHint) {
  ErrorInfo e;
  e.operation = "put";
  e.key = "k";
  e.http_status = 403;
  e.s3_code = "SignatureDoesNotMatch";
  Status s = map_error(e);
  EXPECT_EQ(s.code(), Code::kUnauthorized);
  EXPECT_NE(s.message().find("secret"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("clock"), std::string::npos) << s.message();
  EXPECT_FALSE(s.retryable());
  e.s3_code = "RequestTimeTooSkewed";
  EXPECT_NE(map_error(e).message().find("clock"), std::string::npos);
}

// A proxy whose backend died while processing a PUT answers 503 without an S3 body, after the
// store may have applied the write: the write loop must treat it as ambiguous (Unavailable), or an
// import reports AlreadyExists for a record it stored and an update may apply twice (seen when
// radosgw was killed behind haproxy mid-import: 20 of 3,000 lines). Reads stay Throttled.
TEST(S3Errors, BareServiceUnavailableIsThrottlingOnlyForAHead) {
  for (const char* op : {"put", "copy", "delete", "delete_many"}) {
    ErrorInfo e = info_of({503, "", 0, WriteCondition::kNone, Code::kOk});
    e.operation = op;
    EXPECT_EQ(map_error(e).code(), Code::kUnavailable) << op;
    e.s3_code = "SlowDown";
    EXPECT_EQ(map_error(e).code(), Code::kThrottled) << op << " with an S3 SlowDown body";
  }
  for (const char* op : {"get", "list"}) {  // S3 answers these with XML: a bare 503 is a proxy's
    ErrorInfo e = info_of({503, "", 0, WriteCondition::kNone, Code::kOk});
    e.operation = op;
    EXPECT_EQ(map_error(e).code(), Code::kUnavailable) << op;
    e.s3_code = "SlowDown";
    EXPECT_EQ(map_error(e).code(), Code::kThrottled) << op << " with an S3 SlowDown body";
  }
  ErrorInfo head = info_of({503, "", 0, WriteCondition::kNone, Code::kOk});
  head.operation = "head";
  EXPECT_EQ(map_error(head).code(), Code::kThrottled) << "S3 throttles a HEAD without a body";
  ErrorInfo e = info_of({503, "", 0, WriteCondition::kNone, Code::kOk});
  e.retry_after = std::chrono::milliseconds(2000);
  EXPECT_EQ(map_error(e).retry_after(), std::chrono::milliseconds(2000)) << "Retry-After kept as Unavailable";
}

TEST(S3Errors, ThrottledKeepsRetryAfter) {
  ErrorInfo e;
  e.operation = "put";
  e.http_status = 503;
  e.s3_code = "SlowDown";
  e.retry_after = std::chrono::milliseconds(3000);
  Status s = map_error(e);
  ASSERT_EQ(s.code(), Code::kThrottled);
  ASSERT_TRUE(s.retry_after().has_value());
  EXPECT_EQ(s.retry_after()->count(), 3000);
  EXPECT_TRUE(s.retryable());
  e.retry_after.reset();
  EXPECT_FALSE(map_error(e).retry_after().has_value());
}

TEST(S3Errors, CurlErrorTextIsIncluded) {
  ErrorInfo e;
  e.operation = "head";
  e.key = "k";
  e.curl_code = CURLE_COULDNT_CONNECT;
  e.curl_error = "Failed to connect to 127.0.0.1 port 9 after 0 ms: Connection refused";
  Status s = map_error(e);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("Connection refused"), std::string::npos) << s.message();
  EXPECT_TRUE(s.retryable());
}

// A body cut at its cap: InvalidArgument (never retried) naming the cap and the parameter that
// sets it — the object's own cap for a 2xx GET, the response cap for everything else.
TEST(S3Errors, BodyOverItsCapNamesTheLimit) {
  ErrorInfo e;
  e.operation = "list";
  e.key = "users/";
  e.http_status = 200;
  e.curl_code = CURLE_WRITE_ERROR;
  e.body_limit = 65536;
  Status s = map_error(e);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.to_string();
  EXPECT_FALSE(s.retryable());
  EXPECT_NE(s.message().find("65536 bytes (max_response_bytes)"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("curl"), std::string::npos) << s.message();

  e.operation = "get";
  e.body_limit = 1000;
  s = map_error(e);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("1000 bytes (max_object_bytes)"), std::string::npos) << s.message();

  e.http_status = 404;  // an error body is no object, whatever the operation
  e.body_limit = 4096;
  s = map_error(e);
  EXPECT_NE(s.message().find("4096 bytes (max_response_bytes)"), std::string::npos) << s.message();
}

TEST(S3Errors, ParseRetryAfter) {
  EXPECT_EQ(parse_retry_after("5", 0)->count(), 5000);
  EXPECT_EQ(parse_retry_after(" 0 ", 0)->count(), 0);
  EXPECT_FALSE(parse_retry_after("", 0).has_value());
  EXPECT_FALSE(parse_retry_after("soon", 0).has_value());
  // HTTP-date: 1369353600 = Fri, 24 May 2013 00:00:00 GMT.
  EXPECT_EQ(parse_retry_after("Fri, 24 May 2013 00:00:10 GMT", 1369353600)->count(), 10000);
  EXPECT_EQ(parse_retry_after("Fri, 24 May 2013 00:00:00 GMT", 1369353700)->count(), 0);
}

}  // namespace
}  // namespace s3db::s3
