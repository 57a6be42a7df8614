// Internal: THE one place where S3 failures become Status.
//
// Contract: map_error() is a pure function of what a failed (or in-body-failed) S3 exchange gave:
// the operation, key, HTTP status, S3 <Code>/<Message>/<RequestId>, curl's result and the
// Retry-After header. Its message names operation, key, HTTP status, S3 code and request id,
// plus a hint for 403s; it never contains credentials (none are passed in).
//
// Table (first match wins)
//   response body over its cap (body_limit set) → InvalidArgument naming the limit and the
//         parameter that sets it: max_object_bytes for the 2xx body of an object's GET,
//         max_response_bytes for any other body (never retried: the same answer would come back)
//   curl: operation timed out (also the connect timeout and the low-speed limit) → Timeout; aborted by callback → Cancelled; TLS verification →
//         Unauthorized (hint: ca_file); unreadable ca_file or malformed URL → InvalidArgument;
//         anything else →
//         Unavailable (connection refused/reset, DNS, empty reply, partial transfer)
//   SlowDown, 429, 503 with an S3 <Code>, 503 to a HEAD (it has no body) → Throttled
//         (Retry-After kept)
//   503 WITHOUT an S3 <Code> to anything but a HEAD → Unavailable: S3 throttles with its XML
//         body; a bare 503 comes from something in between — a proxy whose backend died, or died
//         mid-request: to a write (put, copy, delete, delete_many) after the store may have
//         applied it, so the write loop must judge it as ambiguous, not as rejected before
//         processing; to a get or list it says the store is down (the breaker's business), not
//         that it asks for fewer requests (the send rate's)
//   RequestTimeout, 408 → Timeout
//   412 or 409 on a create-only PUT (If-None-Match: *) → AlreadyExists
//   412, 409 on an If-Match PUT, 404 on an If-Match PUT → PreconditionFailed
//   404, NoSuchKey, NoSuchBucket → NotFound
//   401, 403 and 400 auth codes (SignatureDoesNotMatch, AccessDenied, InvalidAccessKeyId,
//         RequestTimeTooSkewed, AuthorizationHeaderMalformed, …) → Unauthorized with a hint
//   InternalError, 500, 502, 504, other 5xx except 501 → Unavailable
//   other 4xx, 501, 3xx → InvalidArgument;  an error code inside a 200 body → by its code, else
//   Internal
#pragma once

#include <s3db/status.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace s3db::s3 {

enum class WriteCondition { kNone, kCreateOnly, kIfMatch };

struct ErrorInfo {
  std::string_view operation;   // "put", "get", "head", "delete", "delete_many", "copy", "list"
  std::string_view key;         // the object key (or prefix) the operation was about
  long http_status = 0;         // 0 when no response arrived
  std::string_view s3_code;     // <Code> from the error body, "" if none
  std::string_view s3_message;  // <Message>
  std::string_view request_id;  // x-amz-request-id or <RequestId>
  int curl_code = 0;            // CURLcode; 0 = CURLE_OK
  std::string_view curl_error;  // curl's error buffer
  std::optional<std::chrono::milliseconds> retry_after;
  WriteCondition condition = WriteCondition::kNone;
  std::uint64_t body_limit = 0;  // nonzero: the body exceeded this many bytes (transfer cut)
};

Status map_error(const ErrorInfo& info);

// Retry-After: delta-seconds or an HTTP-date relative to `now` (unix seconds). nullopt if absent
// or unparsable.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t now_unix_seconds);

}  // namespace s3db::s3
