// s3db/clock.h — the time source of the OperationPool (timeouts, deadlines, backoff, metrics).
//
// Contract
// - Clock is injectable so that timing behaviour is tested without sleeping: production code uses
//   steady_clock(); tests use ManualClock and advance() it.
// - wait_until() blocks the calling thread until the clock reaches `when` or notify() was called
//   (spurious wake-ups allowed; callers re-check their condition). It must be called with `lock`
//   held, and it releases the lock while waiting, like std::condition_variable::wait_until.
// - Thread safety: every member is safe to call from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace s3db {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;
using Duration = SteadyClock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // Waits on `cv` (with `lock` held) until `when` on this clock, or until `cv` is notified.
  virtual void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                          TimePoint when) = 0;
  // Registers a condition variable that must be woken whenever time jumps (ManualClock::advance).
  // The real clock ignores it. Unregister before `cv` is destroyed.
  virtual void watch(std::condition_variable* /*cv*/, std::mutex* /*mu*/) {}
  virtual void unwatch(std::condition_variable* /*cv*/) {}
};

// The process's steady clock (shared singleton).
std::shared_ptr<Clock> steady_clock();

// A clock that only moves when advance() is called. Starts at TimePoint{} + 1h so that
// "now - something" never underflows in tests.
class ManualClock final : public Clock {
 public:
  ManualClock();
  TimePoint now() const override;
  void wait_until(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                  TimePoint when) override;
  void watch(std::condition_variable* cv, std::mutex* mu) override;
  void unwatch(std::condition_variable* cv) override;
  // Moves time forward and wakes every watcher.
  void advance(Duration d);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace s3db
