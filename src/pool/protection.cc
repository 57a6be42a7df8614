// pool::Protection: the breaker's refusals, the ops parked until it may admit them, its timer.
#include "pool/protection.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "core/iso8601.h"
#include "pool/engine.h"

namespace s3db::pool {

namespace {

CircuitBreakerOptions usable(CircuitBreakerOptions o) {
  o.half_open_probes = std::max(1, o.half_open_probes);  // 0 would never close it again
  o.open_timeout = std::max(o.open_timeout, std::chrono::milliseconds(0));
  return o;
}

}  // namespace

Protection::Protection(Engine& pool, const PoolOptions& o)
    : p_(pool),
      breaker_(o.breaker.enabled ? std::make_unique<CircuitBreaker>(usable(o.breaker)) : nullptr),
      budget_(o.retry_budget.enabled ? std::make_unique<RetryBudget>(o.retry_budget) : nullptr),
      waits_(o.breaker.enabled && o.breaker.wait_when_open) {}

Status Protection::refusal(TimePoint now) const {
  const BreakerSnapshot s = breaker_->snapshot(now);
  if (s.state != BreakerState::kOpen) {
    return Status::Unavailable("circuit half-open", "its probes are in flight; the store is not trusted yet");
  }
  // The pool's clock says how long is left; the wall clock says when that is, for a reader.
  const Duration left = s.open_until - now;
  const auto wall = std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(left);
  char in[48];
  std::snprintf(in, sizeof in, " (in %.1f s)", std::chrono::duration<double>(left).count());
  Status st = Status::Unavailable("circuit open until " + core::iso8601_utc(wall) + in,
                                  "the store failed too often; not sent");
  st.set_retry_after(std::chrono::ceil<std::chrono::milliseconds>(left));
  return st;
}

std::optional<Status> Protection::wait_locked(TaskBase* t, const BreakerTicket& ticket, TimePoint now) {
  if (p_.stopped.load(std::memory_order_relaxed)) return Status::Cancelled("pool stopped", "waiting for the circuit breaker");
  const BreakerSnapshot s = breaker_->snapshot(now);
  if (s.generation != ticket.generation) {  // it moved since it refused: ask again
    p_.enqueue_locked(t);
    return std::nullopt;
  }
  const TimePoint deadline = Engine::op_deadline(t);
  if (s.state == BreakerState::kOpen && deadline <= s.open_until) {
    // Nothing but time moves an open circuit: waiting could only end at the deadline.
    return Status::Timeout("deadline comes before the circuit half-opens", refusal(now).message());
  }
  park_locked(t);
  if (s.state == BreakerState::kOpen) arm_timer_locked(s.open_until);
  return std::nullopt;
}

void Protection::park_locked(TaskBase* t) {
  node(t).next = nullptr;
  node(t).flags |= kParked;
  if (tail_) node(tail_).next = t;
  else head_ = t;
  tail_ = t;
  TaskExtra* e = node(t).extra;
  if (e && e->deadline != TimePoint::max()) p_.timers.arm_locked(e->timer, e->deadline, t, TimerNode::kQueuedDeadline);
}

void Protection::requeue_parked_locked() {
  TaskBase* t = std::exchange(head_, nullptr);
  tail_ = nullptr;
  while (t) {
    TaskBase* next = node(t).next;
    node(t).flags &= static_cast<std::uint8_t>(~kParked);
    if (TaskExtra* e = node(t).extra) p_.timers.disarm_locked(e->timer);
    p_.enqueue_locked(t);  // behind what is already queued, like a retry
    t = next;
  }
}

void Protection::arm_timer_locked(TimePoint when) {
  if (timer_.index != TimerNode::kNoIndex && timer_.when == when) return;
  p_.timers.disarm_locked(timer_);
  p_.timers.arm_locked(timer_, when, nullptr, TimerNode::kBreaker);
}

void Protection::moved_locked(const BreakerTransition& m) {
  if (m.to == BreakerState::kOpen) {
    arm_timer_locked(breaker_->open_until());
    return;
  }
  p_.timers.disarm_locked(timer_);
  requeue_parked_locked();
}

std::optional<BreakerTransition> Protection::on_timer_locked(TimePoint now) {
  std::optional<BreakerTransition> moved = breaker_->half_open_if_due(now);
  requeue_parked_locked();
  return moved;
}

void Protection::take_parked_locked(std::vector<TaskBase*>& out) {
  for (TaskBase* t = std::exchange(head_, nullptr); t;) {
    TaskBase* next = node(t).next;
    node(t).next = nullptr;
    node(t).flags = 0;
    if (TaskExtra* e = node(t).extra) p_.timers.disarm_locked(e->timer);
    out.push_back(t);
    t = next;
  }
  tail_ = nullptr;
  p_.timers.disarm_locked(timer_);
}

void Protection::remove_expired_locked(std::vector<TaskBase*>& out) {
  TaskBase* prev = nullptr;
  for (TaskBase* t = head_; t;) {
    TaskBase* next = node(t).next;
    if (node(t).flags & kExpired) {
      if (prev) node(prev).next = next;
      else head_ = next;
      if (tail_ == t) tail_ = prev;
      node(t).next = nullptr;
      node(t).flags = 0;
      out.push_back(t);
    } else {
      prev = t;
    }
    t = next;
  }
}

}  // namespace s3db::pool
