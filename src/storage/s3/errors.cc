#include "storage/s3/errors.h"

#include <curl/curl.h>

#include <charconv>
#include <string>

namespace s3db::s3 {

namespace {

std::string context_of(const ErrorInfo& e) {
  std::string out("s3 ");
  out.append(e.operation);
  if (!e.key.empty()) out.append(" '").append(e.key).append("'");
  return out;
}

// "HTTP 503 SlowDown (request id X): message"
std::string detail_of(const ErrorInfo& e, std::string_view hint = {}) {
  std::string out;
  if (e.http_status != 0) out.append("HTTP ").append(std::to_string(e.http_status));
  if (!e.s3_code.empty()) {
    if (!out.empty()) out += ' ';
    out.append(e.s3_code);
  }
  if (e.curl_code != 0) {
    if (!out.empty()) out += ' ';
    out.append("curl error ").append(std::to_string(e.curl_code));
    std::string_view text = e.curl_error.empty()
                                ? std::string_view(curl_easy_strerror(static_cast<CURLcode>(e.curl_code)))
                                : e.curl_error;
    out.append(" (").append(text).append(")");
  }
  if (!e.request_id.empty()) out.append(" (request id ").append(e.request_id).append(")");
  if (!e.s3_message.empty()) out.append(": ").append(e.s3_message);
  if (!hint.empty()) out.append(" — ").append(hint);
  return out;
}

bool is_auth_code(std::string_view c) {
  return c == "SignatureDoesNotMatch" || c == "AccessDenied" || c == "InvalidAccessKeyId" ||
         c == "RequestTimeTooSkewed" || c == "AuthorizationHeaderMalformed" ||
         c == "InvalidToken" || c == "ExpiredToken" || c == "TokenRefreshRequired" ||
         c == "InvalidSecurity" || c == "AllAccessDisabled" || c == "AccountProblem";
}

std::string_view auth_hint(std::string_view code) {
  if (code == "RequestTimeTooSkewed") return "check the system clock (SigV4 allows 15 minutes)";
  if (code == "AuthorizationHeaderMalformed") return "check the region";
  if (code == "InvalidAccessKeyId") return "check the access key";
  if (code == "SignatureDoesNotMatch") return "check the secret key, region and clock";
  if (code == "InvalidToken" || code == "ExpiredToken") return "check or refresh the session token";
  return "check the credentials, region, clock and bucket permissions";
}

Status with_retry_after(Status s, const ErrorInfo& e) {
  if (e.retry_after) s.set_retry_after(*e.retry_after);
  return s;
}

Status map_curl(const ErrorInfo& e) {
  std::string ctx = context_of(e);
  switch (static_cast<CURLcode>(e.curl_code)) {
    case CURLE_OPERATION_TIMEDOUT:
      return Status::Timeout(ctx, detail_of(e, "transfer timed out"));
    case CURLE_ABORTED_BY_CALLBACK:
      return Status::Cancelled(ctx, detail_of(e, "transfer aborted"));
    case CURLE_PEER_FAILED_VERIFICATION:
      return Status::Unauthorized(
          ctx, detail_of(e, "TLS certificate verification failed: trust the server's CA with "
                            "ca_file=/path/ca.pem (verify_tls=false only for test servers)"));
    case CURLE_SSL_CACERT_BADFILE:
      return Status::InvalidArgument(ctx, detail_of(e, "cannot use the CA bundle given by ca_file"));
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return Status::InvalidArgument(ctx, detail_of(e, "check the endpoint URL"));
    case CURLE_OUT_OF_MEMORY:
      return Status::Internal(ctx, detail_of(e));
    default:
      return Status::Unavailable(ctx, detail_of(e));
  }
}

// The client read no more than the cap: a body that big is refused, whatever its content.
Status map_body_limit(const ErrorInfo& e) {
  const bool object = e.operation == "get" && e.http_status >= 200 && e.http_status <= 299;
  const std::string_view param = object ? "max_object_bytes" : "max_response_bytes";
  ErrorInfo shown = e;
  shown.curl_code = 0;  // curl's "failure writing output" would only hide the reason
  shown.curl_error = {};
  return Status::InvalidArgument(
      context_of(e), detail_of(shown, "response body larger than " + std::to_string(e.body_limit) +
                                          " bytes (" + std::string(param) + "): transfer stopped; raise " +
                                          std::string(param) + " in the connection string if this is expected"));
}

// S3 throttles a HEAD with a bare 503 (a HEAD answer has no body). Every other answer of S3's
// carries its XML <Code>: a bare 503 to a GET or a list comes from something in between — a proxy
// or balancer with no store behind it — and says "down", not "slow down".
bool bodiless(std::string_view operation) { return operation == "head"; }

}  // namespace

Status map_error(const ErrorInfo& e) {
  if (e.body_limit != 0) return map_body_limit(e);
  if (e.curl_code != CURLE_OK) return map_curl(e);
  const long h = e.http_status;
  const std::string_view c = e.s3_code;
  std::string ctx = context_of(e);

  if (c == "SlowDown" || h == 429 || (h == 503 && (!c.empty() || bodiless(e.operation)))) {
    return with_retry_after(Status::Throttled(ctx, detail_of(e)), e);
  }
  if (c == "RequestTimeout" || h == 408) return Status::Timeout(ctx, detail_of(e));
  if (e.condition == WriteCondition::kCreateOnly && (h == 412 || h == 409)) {
    return Status::AlreadyExists(ctx, detail_of(e, "the key exists (If-None-Match: *)"));
  }
  if (h == 412 || c == "PreconditionFailed" ||
      (e.condition == WriteCondition::kIfMatch && (h == 409 || h == 404))) {
    return Status::PreconditionFailed(ctx, detail_of(e, "the ETag did not match"));
  }
  if (h == 404 || c == "NoSuchKey" || c == "NoSuchBucket") {
    return Status::NotFound(ctx, detail_of(e, c == "NoSuchBucket" ? "the bucket does not exist"
                                                                  : std::string_view{}));
  }
  if (h == 401 || h == 403 || is_auth_code(c)) {
    return Status::Unauthorized(ctx, detail_of(e, auth_hint(c)));
  }
  if (c == "InternalError" || c == "ServiceUnavailable" ||
      (h >= 500 && h != 501 && h <= 599)) {
    return with_retry_after(Status::Unavailable(ctx, detail_of(e)), e);
  }
  if ((h >= 400 && h <= 499) || h == 501) return Status::InvalidArgument(ctx, detail_of(e));
  if (h >= 300 && h <= 399) {
    return Status::InvalidArgument(ctx, detail_of(e, "redirected: check the region and endpoint"));
  }
  return Status::Internal(ctx, detail_of(e, "unexpected response"));
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::int64_t now_unix_seconds) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  std::int64_t secs = 0;
  auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
  if (ec == std::errc() && ptr == value.data() + value.size()) {
    if (secs < 0) return std::nullopt;
    return std::chrono::milliseconds(secs * 1000);
  }
  std::string copy(value);
  time_t when = curl_getdate(copy.c_str(), nullptr);
  if (when < 0) return std::nullopt;
  std::int64_t delta = static_cast<std::int64_t>(when) - now_unix_seconds;
  return std::chrono::milliseconds(delta > 0 ? delta * 1000 : 0);
}

}  // namespace s3db::s3
