// pool::SendRate — the request rate a throttling store accepts, learnt from its Throttled answers,
// and the token bucket that paces attempts to it (AdaptiveOptions::send_rate, with auto tuning).
//
// Why a rate and not only a concurrency limit: S3 throttles by request rate (SlowDown: "reduce
// your request rate"). In-flight = rate × latency, so a concurrency limit sets the rate only
// through a latency that varies; at 60 ms one slot more or less is 16 requests/s, and each tooth
// of the sawtooth is a throttled burst. A rate is steady whatever the latency.
//
//   state     | attempts are            | moves on
//   ----------+-------------------------+--------------------------------------------------------
//   off       | not paced (the default: | a throttle signal → pacing at kBackOff × the accepted
//             | nothing learnt yet)     | rate of the last window
//   pacing    | started when a token is | a throttle signal → kBackOff × min(rate, accepted);
//             | there (queue order is   | otherwise the rate grows as a cubic of the time since
//             | kept: the queue head    | the last decrease (flat near the rate it was throttled
//             | waits, nothing skips)   | at, then probing past it); at kOffAt × that rate
//             |                         | without a signal → off (the store stopped throttling)
//
// A throttle signal — not every Throttled answer:
// - at most one per window (`window`, AdaptiveOptions::window), and only from an attempt that
//   started after the last decrease (answers to requests sent before it say nothing new);
// - above the store's noise floor (pool/noise_floor.h, slack 2): a store that throttles 10 % of
//   requests at any rate (a fault, not a limit) gets a decrease or two, then hardly any, and the
//   rate climbs back and turns pacing off. Under a real limit, paced windows are clean, the floor
//   is 0, and two throttles in a window are a signal.
// The accepted rate: attempts that were not throttled (any answer of the store, errors included)
// over the last window, sliding (the current window plus the last one, weighted by the part of it
// still inside the last `window`). In the pool's first window that is what was accepted so far,
// per window: a lower bound. Extrapolating from the time so far is worse — a limiter that counts
// over a second lets a burst through early in it (150 in the first 0.56 s at 150/s), and pacing
// to the burst's rate overshoots by two thirds; a store that throttles at random a few requests
// in pays with a few seconds of low pacing instead, until the rate doubles and pacing ends.
//
// Locking: every member runs under the pool mutex (Engine::mu). Pure: time comes in as arguments,
// so tests drive it with any clock.
#pragma once

#include <s3db/operation_pool.h>

#include <cstdint>

#include "pool/noise_floor.h"

namespace s3db::pool {

class SendRate {
 public:
  static constexpr double kBackOff = 0.8;      // rate after a signal, × what the store accepted
  static constexpr double kCubicScale = 0.4;   // growth: kCubicScale × (t − K)³ requests/s
  static constexpr double kOffAt = 2.0;        // pacing ends at kOffAt × the rate last throttled at
  static constexpr double kMinRate = 1.0;      // requests/s: pacing never stops the pool
  static constexpr double kBurstSeconds = 0.01;  // bucket capacity: 10 ms of the rate (≥ 1 token)
  static constexpr double kSignalSlack = 2;      // throttles in a window that signal on a clean store

  SendRate(Duration window, TimePoint start) noexcept;

  // An attempt that began at `began` ended at `now` with `code` (Cancelled: ignored). True when
  // this was a throttle signal (pacing started or its rate dropped).
  bool feedback_locked(Code code, TimePoint began, TimePoint now) noexcept;

  bool pacing() const noexcept { return pacing_; }
  // With pacing on: takes a token (true), or says when the next one is due (false, `next`).
  // Turns pacing off (and returns true) once the rate reached kOffAt × the rate last throttled at.
  bool take_locked(TimePoint now, TimePoint& next) noexcept;
  // The rate attempts are paced to now (requests/s); 0 while off.
  double rate_locked(TimePoint now) const noexcept;
  // The accepted rate over the last window, sliding (requests/s).
  double accepted_locked(TimePoint now) noexcept;
  std::uint64_t signals() const noexcept { return signals_; }

 private:
  void roll(TimePoint now) noexcept;
  double cubic_rate(TimePoint now) const noexcept;

  NoiseFloor throttles_;  // its windows are the accepted counters' too
  std::uint64_t accepted_ = 0, prev_accepted_ = 0;  // the window now filling, and the last one
  // Pacing.
  bool pacing_ = false;
  TimePoint last_signal_ = TimePoint::min();
  double last_max_ = 0;   // the rate the store last throttled at (W)
  double k_s_ = 0;        // seconds the cubic takes to climb back to last_max_
  double tokens_ = 0;
  TimePoint refilled_{};
  std::uint64_t signals_ = 0;
};

}  // namespace s3db::pool
