// coord::RateGate: local schedule or fed reservoir (rules in rate_gate.h).
#include "coord/rate_gate.h"

#include <algorithm>
#include <chrono>

namespace s3db::coord {

namespace {

using Seconds = std::chrono::duration<double>;

SteadyClock::duration interval_of(double rate) {
  return std::chrono::duration_cast<SteadyClock::duration>(Seconds(1.0 / rate));
}

}  // namespace

RateGate::RateGate(double rate) : rate_(rate) {}

Status RateGate::take(OpContext& ctx) {
  std::unique_lock<std::mutex> lk(mu_);
  return fed_ ? take_fed(lk, ctx) : take_local(lk, ctx);
}

// Virtual scheduling: next_ is when the following token is due; a burst of b tokens may be due
// before it (a tolerance of b − 1 intervals).
Status RateGate::take_local(std::unique_lock<std::mutex>& lk, OpContext& ctx) {
  const auto now = SteadyClock::now();
  const auto interval = interval_of(rate_);
  const double burst = std::max(1.0, rate_ * kBurst);
  const auto tolerance = std::chrono::duration_cast<SteadyClock::duration>(interval * (burst - 1));
  const auto base = std::max(next_, now);
  const auto due = std::max(now, base - tolerance);
  if (due > ctx.deadline()) return Status::Timeout("rate cap", "no token before the attempt's deadline");
  next_ = base + interval;
  ++stats_.requests;
  if (due <= now) return Status::OK();
  ++stats_.waits;
  Status st = wait_until(lk, ctx, due, [] { return false; });
  stats_.wait_s += Seconds(SteadyClock::now() - now).count();
  return st.code() == Code::kTimeout ? Status::OK() : st;  // reaching `due` is the grant
}

Status RateGate::take_fed(std::unique_lock<std::mutex>& lk, OpContext& ctx) {
  if (tokens_ == 0) {
    const auto began = SteadyClock::now();
    ++stats_.waits;
    const bool first = ++waiting_ == 1;
    if (first && on_starved_) on_starved_();
    // wait_until() lets go of the lock at its end: another request may have taken the token it
    // saw, so wait again until one is still there when this one holds the lock.
    Status st;
    while (st.ok() && tokens_ == 0 && fed_) st = wait_until(lk, ctx, ctx.deadline(), [&] { return tokens_ > 0 || !fed_; });
    --waiting_;
    stats_.wait_s += Seconds(SteadyClock::now() - began).count();
    if (!fed_) return take_local(lk, ctx);  // Redis went away meanwhile
    if (!st.ok()) return st.code() == Code::kTimeout ? Status::Timeout("rate cap", "no token before the attempt's deadline") : st;
  }
  --tokens_;
  ++taken_since_want_;
  ++stats_.requests;
  return Status::OK();
}

// Waits until done(), `until` (Timeout) or the attempt's cancellation (its status). The cancel
// callback takes mu_, so it is registered and cleared with mu_ released.
Status RateGate::wait_until(std::unique_lock<std::mutex>& lk, OpContext& ctx, SteadyClock::time_point until,
                            const std::function<bool()>& done) {
  lk.unlock();
  ctx.on_cancel([this] {
    std::lock_guard<std::mutex> g(mu_);
    cv_.notify_all();
  });
  lk.lock();
  Status st;
  while (!done()) {
    if (ctx.cancelled()) {
      st = ctx.cancel_status();
      break;
    }
    if (until == SteadyClock::time_point::max()) {
      cv_.wait(lk);
    } else if (cv_.wait_until(lk, until) == std::cv_status::timeout && !done()) {
      st = Status::Timeout("rate cap", "waited until the attempt's deadline");
      break;
    }
  }
  lk.unlock();
  ctx.clear_on_cancel();
  lk.lock();
  return st;
}

void RateGate::set_local(double rate) {
  std::lock_guard<std::mutex> g(mu_);
  fed_ = false;
  rate_ = rate;
  next_ = SteadyClock::now();
  tokens_ = 0;
  cv_.notify_all();
}

void RateGate::set_on_starved(std::function<void()> fn) {
  std::lock_guard<std::mutex> g(mu_);
  on_starved_ = std::move(fn);
}

void RateGate::set_fed() {
  std::lock_guard<std::mutex> g(mu_);
  fed_ = true;
  tokens_ = 0;
  taken_since_want_ = 0;
  cv_.notify_all();
}

int RateGate::want() {
  std::lock_guard<std::mutex> g(mu_);
  if (!fed_) return 0;
  const std::int64_t w = waiting_ + static_cast<std::int64_t>(taken_since_want_) - tokens_;
  taken_since_want_ = 0;
  return static_cast<int>(std::clamp<std::int64_t>(w, 0, 1 << 20));
}

void RateGate::feed(int n) {
  if (n <= 0) return;
  std::lock_guard<std::mutex> g(mu_);
  if (!fed_) return;  // fell back meanwhile: these tokens are lost, never over-spent
  tokens_ += n;
  cv_.notify_all();
}

RateGateStats RateGate::stats() const {
  std::lock_guard<std::mutex> g(mu_);
  return stats_;
}

}  // namespace s3db::coord
