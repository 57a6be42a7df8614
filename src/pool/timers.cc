// pool::Timers: the indexed timer heap and the timer thread's rounds.
#include "pool/timers.h"

#include <algorithm>

#include "pool/engine.h"

namespace s3db::pool {

// ---- TimerHeap -------------------------------------------------------------------------------

void TimerHeap::push(TimerNode* n) {
  heap_.push_back(n);
  n->index = heap_.size() - 1;
  sift_up(n->index);
}

void TimerHeap::remove(TimerNode* n) {
  if (n->index == TimerNode::kNoIndex) return;
  const std::size_t i = n->index;
  TimerNode* last = heap_.back();
  heap_.pop_back();
  n->index = TimerNode::kNoIndex;
  if (last == n) return;
  place(i, last);
  sift_up(i);
  sift_down(last->index);
}

void TimerHeap::sift_up(std::size_t i) {
  TimerNode* n = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(n->when < heap_[parent]->when)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, n);
}

void TimerHeap::sift_down(std::size_t i) {
  TimerNode* n = heap_[i];
  const std::size_t size = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && heap_[child + 1]->when < heap_[child]->when) ++child;
    if (!(heap_[child]->when < n->when)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, n);
}

// ---- Timers ----------------------------------------------------------------------------------

void Timers::start() {
  p_.clock->watch(&cv_, &p_.mu);
  thread_ = std::thread([this] { thread_main(); });
}

void Timers::join() {
  {
    std::lock_guard<std::mutex> g(p_.mu);
    exit_ = true;  // the thread first completes whatever is still deferred
    cv_.notify_all();
  }
  thread_.join();
  p_.clock->unwatch(&cv_);
}

void Timers::arm_locked(TimerNode& n, TimePoint when, void* owner, TimerNode::Kind kind) {
  n.when = when;
  n.owner = owner;
  n.kind = kind;
  heap_.push(&n);
  if (heap_.top() == &n) cv_.notify_one();
}

void Timers::defer_locked(TaskBase* t, Status status) {
  deferred_.emplace_back(t, std::move(status));
  cv_.notify_one();
}

void Timers::schedule_backoff_locked(TaskBase* t, TimePoint when, int paid) {
  ++node(t).attempt;
  node(t).extra->retry_paid = paid;
  node(t).flags |= kInBackoff;
  arm_locked(node(t).extra->timer, when, t, TimerNode::kBackoff);
  ++backoffs_;
  p_.obs.count_retry();
}

void Timers::schedule_again_locked(TaskBase* t, TimePoint when) {
  p_.obs.count_again();
  const auto early = std::find(early_wakes_.begin(), early_wakes_.end(), node(t).id);
  if (early != early_wakes_.end()) {  // woken while it was still asking: no wait
    early_wakes_.erase(early);
    p_.enqueue_locked(t);
    return;
  }
  node(t).flags |= kInBackoff | kAgain;
  arm_locked(node(t).extra->timer, when, t, TimerNode::kBackoff);
  ++backoffs_;
}

void Timers::wake_locked(std::uint32_t id) {
  for (TimerNode* n : heap_.nodes()) {
    if (n->kind != TimerNode::kBackoff) continue;
    auto* t = static_cast<TaskBase*>(n->owner);
    if (node(t).id != id || !(node(t).flags & kAgain)) continue;
    heap_.remove(n);
    node(t).flags &= static_cast<std::uint8_t>(~(kInBackoff | kAgain));
    --backoffs_;
    p_.enqueue_locked(t);
    return;
  }
  if (early_wakes_.size() == kEarlyWakes) early_wakes_.erase(early_wakes_.begin());
  early_wakes_.push_back(id);
}

void Timers::take_backoffs_locked(std::vector<TaskBase*>& out) {
  std::vector<TimerNode*> backoffs;
  for (TimerNode* n : heap_.nodes()) {
    if (n->kind == TimerNode::kBackoff) backoffs.push_back(n);
  }
  for (TimerNode* n : backoffs) {
    heap_.remove(n);
    auto* t = static_cast<TaskBase*>(n->owner);
    node(t).flags = 0;
    out.push_back(t);
  }
  backoffs_ = 0;
}

void Timers::wait_locked(std::unique_lock<std::mutex>& lk, const TimePoint* until) {
  const TimerNode* top = heap_.top();
  const TimePoint next = top ? top->when : TimePoint::max();
  p_.clock->wait_until(lk, cv_, until ? std::min(next, *until) : next);
}

void Timers::thread_main() {
  ThreadDuty duty(&p_, 0, 0, /*timer=*/true);
  TimerScratch scratch;
  std::unique_lock<std::mutex> lk(p_.mu);
  for (;;) {
    if (round(lk, scratch)) continue;
    if (exit_) return;
    wait_locked(lk, nullptr);
  }
}

// Also run by a drain() called on the timer thread (from a completion it runs): other ops may need
// a timer to finish.
bool Timers::round(std::unique_lock<std::mutex>& lk, TimerScratch& scratch) {
  if (!deferred_.empty()) {
    auto batch = std::move(deferred_);
    deferred_.clear();
    lk.unlock();
    {
      ThreadDuty duty(&p_, batch.size(), 0);
      const TimePoint now = p_.clock->now();
      for (auto& [t, st] : batch) p_.finish(t, std::move(st), Duration{}, now, duty);
    }
    lk.lock();
    return true;
  }
  if (exit_) return false;
  const TimePoint now = p_.clock->now();
  TimerNode* top = heap_.top();
  if (!top || top->when > now) return false;
  bool any_expired = false;
  while ((top = heap_.top()) && top->when <= now) {
    heap_.remove(top);
    switch (top->kind) {
      case TimerNode::kAttempt: {
        auto* s = static_cast<RunSlot*>(top->owner);
        ++s->cancel_pending;  // released by release_cancels_locked() below
        scratch.to_cancel.push_back(s);
        break;
      }
      case TimerNode::kBackoff: {
        auto* t = static_cast<TaskBase*>(top->owner);
        node(t).flags &= static_cast<std::uint8_t>(~(kInBackoff | kAgain));
        --backoffs_;
        p_.enqueue_locked(t);  // a deadline already due is handled by this same loop
        break;
      }
      case TimerNode::kQueuedDeadline: {
        node(static_cast<TaskBase*>(top->owner)).flags |= kExpired;
        any_expired = true;
        break;
      }
      case TimerNode::kJoinDeadline: {
        auto* t = static_cast<TaskBase*>(top->owner);
        if (p_.dedup.expire_locked(t)) scratch.expired_joined.push_back(t);
        break;
      }
      case TimerNode::kBreaker: {
        if (auto moved = p_.guard.on_timer_locked(now)) scratch.breaker_moved = moved;
        break;
      }
      case TimerNode::kTuner: {
        scratch.tune_due = true;  // below, once the tuner has sampled without the mutex
        break;
      }
      case TimerNode::kSendRate: {
        p_.dispatch.kick_locked(1);  // a token is due: the queue head may start (chain wake-up)
        break;
      }
    }
  }
  // One sweep for every op that expired at this tick.
  if (any_expired) {
    p_.queue.remove_expired_locked(scratch.expired);
    p_.guard.remove_expired_locked(scratch.expired_parked);
  }
  if (!scratch.to_cancel.empty()) {
    lk.unlock();
    for (RunSlot* s : scratch.to_cancel) {
      s->ctx->cancel(s->deadline_is_op ? Status::Timeout("deadline passed")
                                       : Status::Timeout("attempt timed out"));
    }
    lk.lock();
    p_.dispatch.release_cancels_locked(scratch.to_cancel);
    scratch.to_cancel.clear();
  }
  if (!scratch.expired.empty() || !scratch.expired_parked.empty()) {
    // After the cancels are released: a completion here may drain(), which waits for those ops.
    lk.unlock();
    {
      ThreadDuty duty(&p_, scratch.expired.size() + scratch.expired_parked.size(), 0);
      for (TaskBase* t : scratch.expired) {
        p_.finish(t, Status::Timeout("deadline passed while queued"), Duration{}, now, duty);
      }
      for (TaskBase* t : scratch.expired_parked) {
        p_.finish(t, Status::Timeout("deadline passed while waiting for the circuit breaker"), Duration{}, now,
                  duty);
      }
    }
    scratch.expired.clear();
    scratch.expired_parked.clear();
    lk.lock();
  }
  if (!scratch.expired_joined.empty()) {  // after the cancels are released, like the above
    lk.unlock();
    {
      ThreadDuty duty(&p_, scratch.expired_joined.size(), 0);
      for (TaskBase* t : scratch.expired_joined) {
        p_.finish(t, Status::Timeout("deadline passed while waiting for a deduplicated operation"), Duration{},
                  now, duty);
      }
    }
    scratch.expired_joined.clear();
    lk.lock();
  }
  if (scratch.breaker_moved) {  // a listener may drain(): after the cancels are released, too
    const BreakerTransition moved = *scratch.breaker_moved;
    scratch.breaker_moved.reset();
    lk.unlock();
    p_.emit_breaker(moved);
    lk.lock();
  }
  if (scratch.tune_due) {
    scratch.tune_due = false;
    lk.unlock();
    const double sample = p_.tuner->sample();
    lk.lock();
    if (auto change = p_.tune_tick_locked(now, sample)) {
      lk.unlock();
      p_.obs.emit_change(*change);
      lk.lock();
    }
  }
  return true;
}

}  // namespace s3db::pool
