// Clock implementations: the process steady clock and the test ManualClock.
#include "s3db/clock.h"

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

namespace s3db {
namespace {

class SteadyClockImpl final : public Clock {
 public:
  TimePoint now() const override { return SteadyClock::now(); }
  void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint when) override {
    // condition_variable::wait_until with time_point::max() overflows inside libstdc++.
    if (when == TimePoint::max()) {
      cv.wait(lock);
    } else {
      cv.wait_until(lock, when);
    }
  }
};

}  // namespace

std::shared_ptr<Clock> steady_clock() {
  static const std::shared_ptr<Clock> clock = std::make_shared<SteadyClockImpl>();
  return clock;
}

// now is an atomic so that now() never takes a lock: callers read the time while holding their own
// mutexes, and advance() takes those mutexes (to notify without lost wake-ups) — a lock in now()
// would invert that order.
struct ManualClock::Impl {
  std::atomic<TimePoint::rep> now{std::chrono::duration_cast<Duration>(std::chrono::hours(1)).count()};
  std::mutex mu;  // guards watchers; held while notifying so unwatch() cannot race a notify
  std::vector<std::pair<std::condition_variable*, std::mutex*>> watchers;
};

ManualClock::ManualClock() : impl_(std::make_shared<Impl>()) {}

TimePoint ManualClock::now() const {
  return TimePoint(Duration(impl_->now.load(std::memory_order_acquire)));
}

void ManualClock::wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                             TimePoint when) {
  // Time only moves in advance(), which notifies every watched cv under its mutex: a plain wait
  // cannot miss the wake-up because the caller checked the time while holding `lock`.
  if (now() < when) cv.wait(lock);
}

void ManualClock::watch(std::condition_variable* cv, std::mutex* mu) {
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->watchers.emplace_back(cv, mu);
}

void ManualClock::unwatch(std::condition_variable* cv) {
  std::lock_guard<std::mutex> g(impl_->mu);
  auto& w = impl_->watchers;
  w.erase(std::remove_if(w.begin(), w.end(), [cv](const auto& p) { return p.first == cv; }), w.end());
}

void ManualClock::advance(Duration d) {
  std::lock_guard<std::mutex> g(impl_->mu);
  impl_->now.fetch_add(d.count(), std::memory_order_acq_rel);
  for (auto& [cv, mu] : impl_->watchers) {
    std::lock_guard<std::mutex> lg(*mu);
    cv->notify_all();
  }
}

}  // namespace s3db
