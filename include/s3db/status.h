// s3db/status.h — the error model of the whole library.
//
// Contract
// - Status is a small value type: a closed Code, a message "(context): detail", and an optional
//   retry-after hint carried from the server (S3's Retry-After). An OK Status never allocates.
// - Whether a failure may be retried is derived from its Code only (retryable()), never from
//   message text: Throttled, Unavailable and Timeout are retryable; everything else is not.
//   UnknownOutcome is never retryable: the write it reports may already have been applied, and
//   only the caller can decide (after reading) whether to write again.
// - Result<T> holds either a T or a non-OK Status. Accessing value() of a failed Result throws
//   std::logic_error naming the Status (a programming error, not an operational one).
// - Thread safety: plain values; distinct objects may be used from distinct threads freely.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace s3db {

enum class Code : std::uint8_t {
  kOk = 0,
  kNotFound,            // missing key / resource / record
  kAlreadyExists,       // conditional create lost (If-None-Match: *), duplicate id
  kPreconditionFailed,  // If-Match failed (someone else wrote first)
  kInvalidArgument,     // bad input: URI, schema violation, oversize metadata, 4xx
  kUnauthorized,        // 403: bad key/secret, signature mismatch, access denied
  kThrottled,           // 503 SlowDown / 429: back off (retryable)
  kUnavailable,         // 5xx, connection refused/reset (retryable)
  kTimeout,             // attempt timeout or deadline passed (retryable per attempt)
  kCancelled,           // pool stopped / caller cancelled
  kInternal,            // a bug or an unexpected condition
  kUnknownOutcome,      // a write that may or may not have been applied (the request failed
                        // ambiguously and its effect could not be verified): read to find out
};
inline constexpr int kCodeCount = 12;

// "NotFound", "Throttled", ... (stable names, used in metrics labels and JSON output).
std::string_view code_name(Code code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() noexcept { return Status(); }
  // Builders: message is "context: detail" (or just context when detail is empty).
  static Status NotFound(std::string_view context, std::string_view detail = {});
  static Status AlreadyExists(std::string_view context, std::string_view detail = {});
  static Status PreconditionFailed(std::string_view context, std::string_view detail = {});
  static Status InvalidArgument(std::string_view context, std::string_view detail = {});
  static Status Unauthorized(std::string_view context, std::string_view detail = {});
  static Status Throttled(std::string_view context, std::string_view detail = {});
  static Status Unavailable(std::string_view context, std::string_view detail = {});
  static Status Timeout(std::string_view context, std::string_view detail = {});
  static Status Cancelled(std::string_view context, std::string_view detail = {});
  static Status Internal(std::string_view context, std::string_view detail = {});
  static Status UnknownOutcome(std::string_view context, std::string_view detail = {});

  bool ok() const noexcept { return code_ == Code::kOk; }
  Code code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  bool retryable() const noexcept {
    return code_ == Code::kThrottled || code_ == Code::kUnavailable || code_ == Code::kTimeout;
  }

  bool is_not_found() const noexcept { return code_ == Code::kNotFound; }
  bool is_already_exists() const noexcept { return code_ == Code::kAlreadyExists; }
  bool is_precondition_failed() const noexcept { return code_ == Code::kPreconditionFailed; }

  // Server-provided minimum wait before a retry (Retry-After); overrides computed backoff.
  std::optional<std::chrono::milliseconds> retry_after() const noexcept {
    if (retry_after_ms_ < 0) return std::nullopt;
    return std::chrono::milliseconds(retry_after_ms_);
  }
  Status& set_retry_after(std::chrono::milliseconds d) noexcept {
    retry_after_ms_ = d.count() < 0 ? 0 : d.count();
    return *this;
  }

  // Prepends context: "outer: inner message". Keeps code and retry-after.
  Status with_context(std::string_view context) const;

  // "NotFound: get users/id=1: ..." or "OK".
  std::string to_string() const;

  friend bool operator==(const Status& a, const Status& b) noexcept { return a.code_ == b.code_; }

 private:
  Code code_ = Code::kOk;
  std::int64_t retry_after_ms_ = -1;
  std::string message_;
};

class BadResultAccess : public std::logic_error {
 public:
  explicit BadResultAccess(const Status& s) : std::logic_error("Result has no value: " + s.to_string()) {}
};

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "use Status directly");

 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Status::Internal("Result constructed from an OK Status without a value");
  }

  bool ok() const noexcept { return value_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  const Status& status() const noexcept { return status_; }

  T& value() & { check(); return *value_; }
  const T& value() const& { check(); return *value_; }
  T&& value() && { check(); return std::move(*value_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  template <class U>
  T value_or(U&& fallback) const& { return ok() ? *value_ : static_cast<T>(std::forward<U>(fallback)); }

 private:
  void check() const { if (!value_) throw BadResultAccess(status_); }
  std::optional<T> value_;
  Status status_;
};

// Propagation helpers (kept as macros because they must return from the caller).
#define S3DB_RETURN_IF_ERROR(expr)            \
  do {                                        \
    ::s3db::Status s3db_status_ = (expr);     \
    if (!s3db_status_.ok()) return s3db_status_; \
  } while (0)

}  // namespace s3db
