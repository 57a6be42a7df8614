// pool::NoiseFloor — tells a failure that is news from one a store always has: the share of
// attempts that failed (one kind: throttled, or unavailable/timed out) in each window, and the
// floor those shares settle at.
//
// A store that fails 10 % of requests at any load (a flaky link, a proxy's random 503s) gives a
// tuner a failure in every window; a tuner that reads each as "overloaded" drives the limit or
// the rate to its minimum for nothing. The floor is the (lower) median share of the last kWindows
// windows with at least kVolume attempts: a burst in one window neither raises it nor hides a
// steady share. A window's failures are news when they reach
//     max(2·e, e + 3·√e) + slack,   e = floor × the window's attempts so far
// — twice the floor, and three binomial standard deviations above it (the check runs at every
// failure of the window, so a small count early in it must not pass by chance). With a floor of
// 0 that is `slack` failures, so on a healthy store the first failures are news at once.
//
// Windows are aligned to the start time and advance with the time passed in (any clock). Not
// thread-safe: the owner's lock (the pool mutex) guards it.
#pragma once

#include <s3db/operation_pool.h>

#include <array>
#include <cstdint>

namespace s3db::pool {

class NoiseFloor {
 public:
  static constexpr std::size_t kWindows = 8;
  static constexpr std::uint64_t kVolume = 20;

  NoiseFloor(Duration window, TimePoint start) noexcept;

  // Moves to the window holding `now`: how many windows ended (0: still the same one).
  std::int64_t roll(TimePoint now) noexcept;
  // One attempt of the current window (roll() first), failed or not.
  void count(bool failed) noexcept {
    ++attempts_;
    if (failed) ++failed_;
  }
  // The current window's failures are news (see above).
  bool above(double slack) const noexcept;
  double floor() const noexcept;
  TimePoint window_start() const noexcept { return window_start_; }
  Duration window() const noexcept { return window_; }

 private:
  const Duration window_;
  TimePoint window_start_;
  std::uint64_t attempts_ = 0, failed_ = 0;
  std::array<double, kWindows> shares_{};  // failed share of recent windows (ring)
  std::size_t shares_n_ = 0, shares_next_ = 0;
};

}  // namespace s3db::pool
