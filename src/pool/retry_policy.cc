// exponential_backoff(): the default RetryPolicy (exponential growth, full jitter, patience with
// Throttled, Retry-After capped and jittered).
#include <s3db/operation_pool.h>

#include <algorithm>

namespace s3db {
namespace {

class ExponentialBackoff final : public RetryPolicy {
 public:
  explicit ExponentialBackoff(BackoffOptions o) : o_(o) {}

  int max_retries() const noexcept override { return o_.max_retries; }

  int max_retries_after(const Status& failure) const noexcept override {
    if (failure.code() != Code::kThrottled || o_.max_retries <= 0) return o_.max_retries;
    return std::max(o_.max_retries, o_.throttled_max_retries);
  }

  std::chrono::milliseconds delay(const Status& status, int attempt,
                                  std::uint64_t random) const noexcept override {
    if (auto ra = status.retry_after()) return after_retry_after(*ra, random);
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
  // Never earlier than the server asked (that would only earn another rejection) unless it asked
  // for more than the cap; spread upwards so that clients told the same instant do not return
  // together.
  std::chrono::milliseconds after_retry_after(std::chrono::milliseconds ra, std::uint64_t random) const noexcept {
    const std::int64_t r = std::clamp<std::int64_t>(ra.count(), 0, std::max<std::int64_t>(0, o_.retry_after_cap.count()));
    const double share = std::clamp(o_.retry_after_jitter, 0.0, 10.0);
    const auto spread = static_cast<std::int64_t>(static_cast<double>(r) * share);
    return std::chrono::milliseconds(r + static_cast<std::int64_t>(random % static_cast<std::uint64_t>(spread + 1)));
  }

  BackoffOptions o_;
};

}  // namespace

std::shared_ptr<const RetryPolicy> exponential_backoff(BackoffOptions options) {
  return std::make_shared<ExponentialBackoff>(options);
}

}  // namespace s3db
