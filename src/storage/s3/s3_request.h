// Internal: addresses, signs and sends one S3 request (the layer between S3Client's operations
// and the HTTP transport).
//
// Contract
// - Thread-safe: send() may run on many threads at once; the only shared mutable state is the
//   cached SigV4 signing key (per UTC day, under a mutex) and the transport's handle list.
// - Addressing: path-style (scheme://host/bucket/key) for custom endpoints and dotted AWS
//   buckets, virtual-hosted (scheme://bucket.s3.region.amazonaws.com/key) for AWS.
// - Every request carries host, x-amz-date, x-amz-content-sha256 (hex SHA-256 of the body) and
//   x-amz-security-token when a session token is set; all of them plus the caller's headers are
//   signed (SigV4, region from the options, service "s3").
// - Hedged reads (with a hedge budget): a GET of an object, a HEAD and a LIST (a GET of the
//   bucket) go through the Hedger (hedging.h) and may send one duplicate; nothing else does.
#pragma once

#include <s3db/connection.h>
#include <s3db/status.h>

#include "storage/s3/hedging.h"
#include "storage/s3/http.h"
#include "storage/s3/sigv4.h"

#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace s3db::s3 {

struct Endpoint {
  std::string scheme;       // "http" | "https"
  std::string host;         // Host header value, with ":port" when one was given
  std::string bucket_path;  // "/bucket" (path-style) or "" (virtual-hosted)
};

// Resolves where requests go for `options` (bucket, endpoint, region, path_style).
// InvalidArgument for an endpoint that is not http(s)://host[:port].
Result<Endpoint> resolve_endpoint(const ConnectionOptions& options);

struct S3Call {
  std::string_view method;
  std::string key;       // full object key (prefix included); empty = the bucket itself
  Params query;
  Params headers;        // extra headers, all signed (content-type, x-amz-meta-*, if-*, …)
  std::string_view body;
  std::uint64_t max_body_bytes = 0;  // cap of a 2xx body (HttpRequest::max_body_bytes); 0 = the default
};

class S3Requester {
 public:
  // hedge_budget: duplicates per read at most (ConnectionOptions::hedge_budget); 0 = no hedging.
  S3Requester(Endpoint endpoint, std::string region, Credentials credentials, HttpOptions http,
              double hedge_budget = 0);

  HttpResponse send(const S3Call& call, OpContext& ctx);
  // The signed request line and headers send() would use at `now` (tests, debugging).
  HttpRequest build(const S3Call& call, std::chrono::system_clock::time_point now,
                    std::string_view payload_hash);

  HedgeStats hedge_stats() const { return hedger_ ? hedger_->stats() : HedgeStats{}; }

  const Endpoint& endpoint() const noexcept { return endpoint_; }
  const std::string& region() const noexcept { return region_; }

 private:
  std::string key_for(std::string_view date8);

  Endpoint endpoint_;
  std::string region_;
  Credentials credentials_;
  HttpTransport transport_;
  std::unique_ptr<Hedger> hedger_;  // null: no hedging
  std::mutex key_mu_;
  std::string key_date_, signing_key_;
};

}  // namespace s3db::s3
