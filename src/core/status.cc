#include "s3db/status.h"

namespace s3db {

std::string_view code_name(Code code) noexcept {
  switch (code) {
    case Code::kOk: return "OK";
    case Code::kNotFound: return "NotFound";
    case Code::kAlreadyExists: return "AlreadyExists";
    case Code::kPreconditionFailed: return "PreconditionFailed";
    case Code::kInvalidArgument: return "InvalidArgument";
    case Code::kUnauthorized: return "Unauthorized";
    case Code::kThrottled: return "Throttled";
    case Code::kUnavailable: return "Unavailable";
    case Code::kTimeout: return "Timeout";
    case Code::kCancelled: return "Cancelled";
    case Code::kInternal: return "Internal";
    case Code::kUnknownOutcome: return "UnknownOutcome";
  }
  return "Unknown";
}

namespace {
std::string join(std::string_view context, std::string_view detail) {
  std::string out(context);
  if (!detail.empty()) {
    if (!out.empty()) out += ": ";
    out += detail;
  }
  return out;
}
}  // namespace

#define S3DB_STATUS_BUILDER(Name)                                              \
  Status Status::Name(std::string_view context, std::string_view detail) {    \
    return Status(Code::k##Name, join(context, detail));                      \
  }
S3DB_STATUS_BUILDER(NotFound)
S3DB_STATUS_BUILDER(AlreadyExists)
S3DB_STATUS_BUILDER(PreconditionFailed)
S3DB_STATUS_BUILDER(InvalidArgument)
S3DB_STATUS_BUILDER(Unauthorized)
S3DB_STATUS_BUILDER(Throttled)
S3DB_STATUS_BUILDER(Unavailable)
S3DB_STATUS_BUILDER(Timeout)
S3DB_STATUS_BUILDER(Cancelled)
S3DB_STATUS_BUILDER(Internal)
S3DB_STATUS_BUILDER(UnknownOutcome)
#undef S3DB_STATUS_BUILDER

Status Status::with_context(std::string_view context) const {
  if (ok()) return *this;
  Status out(code_, join(context, message_));
  out.retry_after_ms_ = retry_after_ms_;
  return out;
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  std::string out(code_name(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace s3db
