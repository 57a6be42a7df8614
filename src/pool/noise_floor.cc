// pool::NoiseFloor: per-window failure shares and their floor (rules in noise_floor.h).
#include "pool/noise_floor.h"

#include <algorithm>
#include <cmath>

namespace s3db::pool {

NoiseFloor::NoiseFloor(Duration window, TimePoint start) noexcept
    : window_(window > Duration::zero() ? window : Duration(std::chrono::seconds(1))), window_start_(start) {}

std::int64_t NoiseFloor::roll(TimePoint now) noexcept {
  if (now - window_start_ < window_) return 0;
  if (attempts_ >= kVolume) {
    shares_[shares_next_] = static_cast<double>(failed_) / static_cast<double>(attempts_);
    shares_next_ = (shares_next_ + 1) % kWindows;
    shares_n_ = std::min(shares_n_ + 1, kWindows);
  }
  const auto ended = (now - window_start_) / window_;
  window_start_ += ended * window_;
  attempts_ = failed_ = 0;
  return ended;
}

double NoiseFloor::floor() const noexcept {
  if (shares_n_ == 0) return 0;
  std::array<double, kWindows> s = shares_;
  const auto mid = s.begin() + static_cast<std::ptrdiff_t>((shares_n_ - 1) / 2);
  std::nth_element(s.begin(), mid, s.begin() + static_cast<std::ptrdiff_t>(shares_n_));
  return *mid;
}

bool NoiseFloor::above(double slack) const noexcept {
  const double expected = floor() * static_cast<double>(attempts_);
  return static_cast<double>(failed_) >= std::max(2.0 * expected, expected + 3.0 * std::sqrt(expected)) + slack;
}

}  // namespace s3db::pool
