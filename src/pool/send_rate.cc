// pool::SendRate: the rate learnt from throttling, and its token bucket (rules in send_rate.h).
//
// The growth after a decrease is the AWS SDKs' adaptive mode's (CUBIC: W + C·(t − K)³ with
// K = ∛(W·(1 − β)/C)), which stays near W for seconds before it probes past it. What differs:
// W is the rate the store *accepted* over the last window, not what the client sent (which counts
// the rejected requests too); a burst of throttles is one signal, not one per answer; throttles at
// the store's noise floor are no signal (a per-answer decrease lets a store that fails 10 % of
// requests at random drive the rate to its minimum); and pacing ends once the rate has doubled
// without a signal, so a client that was idle is never held to an old rate below its need.
#include "pool/send_rate.h"

#include <algorithm>
#include <cmath>

namespace s3db::pool {

namespace {

double seconds(Duration d) noexcept { return std::chrono::duration<double>(d).count(); }

}  // namespace

SendRate::SendRate(Duration window, TimePoint start) noexcept : throttles_(window, start) {}

void SendRate::roll(TimePoint now) noexcept {
  const std::int64_t ended = throttles_.roll(now);
  if (ended == 0) return;
  prev_accepted_ = ended == 1 ? accepted_ : 0;  // a quiet window in between: nothing accepted
  accepted_ = 0;
}

double SendRate::accepted_locked(TimePoint now) noexcept {
  roll(now);
  const double window = seconds(throttles_.window());
  const double into = std::clamp(seconds(now - throttles_.window_start()) / window, 0.0, 1.0);
  return (static_cast<double>(accepted_) + static_cast<double>(prev_accepted_) * (1.0 - into)) / window;
}

double SendRate::cubic_rate(TimePoint now) const noexcept {
  const double t = seconds(now - last_signal_) - k_s_;
  return std::max(kMinRate, last_max_ + kCubicScale * t * t * t);
}

double SendRate::rate_locked(TimePoint now) const noexcept { return pacing_ ? cubic_rate(now) : 0.0; }

bool SendRate::feedback_locked(Code code, TimePoint began, TimePoint now) noexcept {
  if (code == Code::kCancelled) return false;  // the store was not asked, or did not finish answering
  roll(now);
  throttles_.count(code == Code::kThrottled);
  if (code != Code::kThrottled) {
    ++accepted_;
    return false;
  }
  if (last_signal_ != TimePoint::min() && (last_signal_ >= throttles_.window_start() || began < last_signal_)) {
    return false;
  }
  if (!throttles_.above(kSignalSlack)) return false;

  const double accepted = accepted_locked(now);
  const double base = pacing_ ? std::min(accepted, cubic_rate(now)) : accepted;
  last_max_ = std::max(kMinRate, base);
  k_s_ = std::cbrt(last_max_ * (1.0 - kBackOff) / kCubicScale);
  last_signal_ = now;
  if (!pacing_) tokens_ = 0;
  pacing_ = true;
  refilled_ = now;
  tokens_ = std::min(tokens_, std::max(1.0, cubic_rate(now) * kBurstSeconds));
  ++signals_;
  return true;
}

bool SendRate::take_locked(TimePoint now, TimePoint& next) noexcept {
  if (!pacing_) return true;
  const double rate = cubic_rate(now);
  if (rate >= kOffAt * last_max_) {
    pacing_ = false;
    return true;
  }
  const double capacity = std::max(1.0, rate * kBurstSeconds);
  tokens_ = std::min(capacity, tokens_ + rate * seconds(now - refilled_));
  refilled_ = now;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return true;
  }
  const auto wait = std::chrono::duration<double>((1.0 - tokens_) / rate);
  next = now + std::max(Duration(std::chrono::microseconds(1)), std::chrono::ceil<Duration>(wait));
  return false;
}

}  // namespace s3db::pool
