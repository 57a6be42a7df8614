// OpContext: the per-attempt view of an op, and its cancellation hand-shake with the pool's timer.
#include <s3db/op_context.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace s3db {

struct OpContext::CancelState {
  std::mutex mu;
  std::condition_variable cv;
  std::function<void()> fn;
  Status reason;
  bool running = false;     // fn is executing on `runner`
  std::thread::id runner;
};

OpContext::OpContext() noexcept = default;

OpContext::~OpContext() { delete cancel_.load(std::memory_order_acquire); }

OpContext::CancelState* OpContext::cancel_state() {
  CancelState* s = cancel_.load(std::memory_order_acquire);
  if (s) return s;
  auto* fresh = new CancelState;
  if (cancel_.compare_exchange_strong(s, fresh, std::memory_order_acq_rel)) return fresh;
  delete fresh;  // another thread installed one first
  return s;
}

Status OpContext::cancel_status() const {
  if (!cancelled()) return Status();
  CancelState* s = cancel_.load(std::memory_order_acquire);
  std::lock_guard<std::mutex> g(s->mu);
  return s->reason;
}

void OpContext::on_cancel(std::function<void()> fn) {
  CancelState* s = cancel_state();
  std::unique_lock<std::mutex> lk(s->mu);
  if (cancelled_.load(std::memory_order_relaxed)) {
    lk.unlock();
    if (fn) fn();
    return;
  }
  s->fn = std::move(fn);
}

void OpContext::clear_on_cancel() noexcept {
  CancelState* s = cancel_.load(std::memory_order_acquire);
  if (!s) return;
  std::unique_lock<std::mutex> lk(s->mu);
  s->fn = nullptr;
  // Wait for a callback in flight, unless it is this very thread (clear from inside the callback).
  if (s->running && s->runner != std::this_thread::get_id()) {
    s->cv.wait(lk, [s] { return !s->running; });
  }
}

void OpContext::cancel(Status reason) {
  CancelState* s = cancel_state();
  std::function<void()> fn;
  {
    std::lock_guard<std::mutex> g(s->mu);
    if (cancelled_.load(std::memory_order_relaxed)) return;  // the first reason wins
    s->reason = std::move(reason);
    cancelled_.store(true, std::memory_order_release);
    fn = std::move(s->fn);
    s->fn = nullptr;
    if (!fn) return;
    s->running = true;
    s->runner = std::this_thread::get_id();
  }
  try {
    fn();
  } catch (...) {  // a cancel callback must not break the cancelling (timer) thread
  }
  std::lock_guard<std::mutex> g(s->mu);
  s->running = false;
  s->cv.notify_all();
}

bool OpContext::run_again_after(Duration delay) noexcept {
  if (op_id_ == 0) return false;
  again_ = std::max(delay, Duration::zero());
  return true;
}

bool OpContext::run_again_when_woken() noexcept { return run_again_after(Duration::max()); }

void OpContext::reset_for_attempt(int attempt, TimePoint deadline) noexcept {
  attempt_ = attempt;
  deadline_ = deadline;
  again_ = kNotAsked;
  if (CancelState* s = cancel_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> g(s->mu);
    s->fn = nullptr;
    s->reason = Status();
  }
  cancelled_.store(false, std::memory_order_release);
}

}  // namespace s3db
