// exponential_backoff(): the default RetryPolicy (exponential growth, full jitter, Retry-After).
#include <s3db/operation_pool.h>

#include <algorithm>

namespace s3db {
namespace {

class ExponentialBackoff final : public RetryPolicy {
 public:
  explicit ExponentialBackoff(BackoffOptions o) : o_(o) {}

  int max_retries() const noexcept override { return o_.max_retries; }

  std::chrono::milliseconds delay(const Status& status, int attempt,
                                  std::uint64_t random) const noexcept override {
    // A server-provided Retry-After replaces the computed delay: the server knows best when it
    // will accept the request again, and jittering below it would only earn another rejection.
    if (auto ra = status.retry_after()) return *ra;
    const auto base = status.code() == Code::kThrottled ? o_.throttled_base : o_.base;
    const std::int64_t cap = std::max<std::int64_t>(0, o_.cap.count());
    std::int64_t ceiling = std::max<std::int64_t>(0, base.count());
    // Double (attempt - 1) times, stopping at the cap (no overflow for large attempt numbers).
    for (int i = 1; i < attempt && ceiling < cap; ++i) ceiling *= 2;
    ceiling = std::min(ceiling, cap);
    // Full jitter: uniform in [0, ceiling].
    return std::chrono::milliseconds(static_cast<std::int64_t>(random % static_cast<std::uint64_t>(ceiling + 1)));
  }

 private:
  BackoffOptions o_;
};

}  // namespace

std::shared_ptr<const RetryPolicy> exponential_backoff(BackoffOptions options) {
  return std::make_shared<ExponentialBackoff>(options);
}

}  // namespace s3db
