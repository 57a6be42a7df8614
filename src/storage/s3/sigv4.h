// Internal: AWS Signature Version 4 for S3 (header-based auth), computed by the project with
// OpenSSL instead of curl's built-in signer (curl 7.88 mis-signs some query strings).
//
// Contract: pure functions of their inputs (the time is passed in), thread-safe. The secret key
// only enters signing_key(); nothing here logs or returns it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace s3db::s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // sent and signed as x-amz-security-token when not empty
};

using Params = std::vector<std::pair<std::string, std::string>>;  // name/value, not encoded

struct SigningRequest {
  std::string_view method;         // "GET", "PUT", ...
  std::string_view canonical_uri;  // the path exactly as sent, already URI-encoded ("/b/k%20x")
  Params query;                    // decoded names/values; a bare "?delete" is {"delete", ""}
  Params headers;                  // every header to sign (any case), including host,
                                   // x-amz-date and x-amz-content-sha256
  std::string_view payload_hash;   // hex SHA-256 of the body (x-amz-content-sha256)
};

// "20130524T000000Z" for a UTC time.
std::string amz_date(std::chrono::system_clock::time_point t);

// Sorted by name then value, names and values AWS-encoded, every parameter with '='.
std::string canonical_query(const Params& query);
// Lower-case names sorted, values trimmed with inner runs of spaces collapsed.
std::string canonical_headers(const Params& headers);
std::string signed_headers(const Params& headers);  // "host;range;x-amz-date"
std::string canonical_request(const SigningRequest& request);

// scope = "20130524/us-east-1/s3/aws4_request"
std::string credential_scope(std::string_view amz_date, std::string_view region,
                             std::string_view service = "s3");
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);
std::string signing_key(std::string_view secret, std::string_view date8, std::string_view region,
                        std::string_view service = "s3");  // raw 32 bytes

// The Authorization header value: "AWS4-HMAC-SHA256 Credential=…,SignedHeaders=…,Signature=…".
// `amz_date` must be the value of the x-amz-date header in request.headers.
std::string authorization(const SigningRequest& request, const Credentials& credentials,
                          std::string_view region, std::string_view amz_date);

}  // namespace s3db::s3
