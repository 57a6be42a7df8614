// OperationPool public API: construction, submit/run entry points and lifecycle. The work itself
// is done by pool::Engine and its parts (engine.h).
#include <s3db/operation_pool.h>

#include <algorithm>
#include <optional>

#include "pool/engine.h"

namespace s3db {

using detail::TaskBase;
using pool::Engine;
using pool::InternalAccess;
using pool::node;

OperationPool::OperationPool(PoolOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Engine& p = *impl_;
  p.clock->watch(&p.drain_cv, &p.mu);
  p.timers.start();
  std::lock_guard<std::mutex> g(p.mu);
  p.arm_tuner_locked(p.start);
}

OperationPool::~OperationPool() {
  Engine& p = *impl_;
  stop();
  p.dispatch.shutdown_and_join();
  p.timers.join();  // after the workers: it completes whatever they left deferred
  p.clock->unwatch(&p.drain_cv);
}

const PoolOptions& OperationPool::options() const noexcept { return impl_->opts; }

// ---- submission --------------------------------------------------------------------------------

void OperationPool::submit_erased(detail::TaskBase* task, OpOptions& options) {
  Engine& p = *impl_;
  p.inflight.fetch_add(1, std::memory_order_seq_cst);
  p.prepare(task, options);
  if (options.bypass) {
    Status st;
    {
      pool::ThreadDuty duty(&p, 1, 0);
      st = p.run_bypass(task);
    }
    std::lock_guard<std::mutex> g(p.mu);
    p.timers.defer_locked(task, std::move(st));  // completion never runs inside submit()
    return;
  }
  p.submit_prepared(task);
}

namespace {

// The inline fast path: the caller took a slot (free slot, empty queue) and runs the op's first
// attempt here, on its own thread — no mutex, no allocation unless it retries. kGuarded: a breaker
// or a retry budget is on; a separate instantiation keeps them entirely off the unguarded path.
template <bool kGuarded>
void run_inline(Engine& p, TaskBase& task, int priority) {
  TaskBase* t = &task;
  pool::ThreadDuty duty(&p, 1, 1);
  node(t).priority = priority;
  node(t).id = p.next_id.fetch_add(1, std::memory_order_relaxed);
  OpContext ctx;
  InternalAccess::allow_again(ctx, node(t).id);
  const TimePoint t0 = p.clock->now();
  [[maybe_unused]] pool::BreakerTicket ticket;
  if constexpr (kGuarded) {
    if (p.guard.breaker()) {
      ticket = p.admit(t0);
      if (ticket.admission == pool::Admission::kRefused) {
        std::optional<Status> final_status;
        if (p.guard.waits_when_open()) {
          node(t).enqueued_ns = t0.time_since_epoch().count();  // its queue wait starts now
          std::lock_guard<std::mutex> g(p.mu);
          final_status = p.guard.wait_locked(t, ticket, t0);
        } else {
          final_status = p.guard.refusal(t0);
        }
        p.dispatch.release_slot();
        duty.slots = 0;
        if (final_status) {
          p.finish(t, std::move(*final_status), Duration{}, t0, duty);
          return;
        }
        duty.ops = 0;  // parked or queued: the pool's now
        detail::wait_done(task);
        return;
      }
    }
  }
  p.obs.record_queue_wait(0);
  if (p.obs.wants(PoolEvent::kTaskStarted)) p.obs.emit(pool::Observation::task_event(PoolEvent::kTaskStarted, t));
  Status st = InternalAccess::attempt(*t, ctx);
  const TimePoint t1 = p.clock->now();
  const Duration exec = t1 - t0;
  p.obs.record_attempt(
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(exec).count()));
  ctx.clear_on_cancel();
  const Code attempt_code = Engine::attempt_outcome(st, ctx);
  if constexpr (kGuarded) p.guard_outcome(t, ticket, attempt_code, t1);
  Engine::Decision d = p.decide(t, std::move(st), ctx, t1);
  std::optional<pool::ConcurrencyChange> change;
  if (p.tuner) {
    std::lock_guard<std::mutex> g(p.mu);
    change = p.dispatch.adapt_locked(attempt_code, exec, t1);
  }
  if (change) p.obs.emit_change(*change);
  if (!d.retry) {
    p.dispatch.release_slot();
    duty.slots = 0;
    p.finish(t, std::move(d.status), exec, t1, duty);
    return;
  }
  // A retry: the slot is released for the backoff and the next attempt goes through the queue.
  node(t).extra = pool::TaskExtra::create();
  p.emit_retry(t, d.status, exec, d.delay, d.again);
  {
    std::lock_guard<std::mutex> g(p.mu);
    if (p.stopped.load(std::memory_order_relaxed)) {
      d.retry = false;
      d.status = Status::Cancelled("pool stopped", d.status.to_string());
    } else {
      p.schedule_locked(t, d, t1);
      duty.ops = 0;  // the next attempt is the queue's
    }
  }
  p.dispatch.release_slot();
  duty.slots = 0;
  if (!d.retry) {
    p.finish(t, std::move(d.status), exec, t1, duty);
    return;
  }
  detail::wait_done(task);
}

}  // namespace

void OperationPool::run_erased(detail::TaskBase& task, OpOptions& options) {
  Engine& p = *impl_;
  TaskBase* t = &task;
  p.inflight.fetch_add(1, std::memory_order_seq_cst);
  const bool plain = !options.bypass && options.timeout.count() == 0 && options.deadline == TimePoint::max() &&
                     options.retries < 0 && !options.retryable && p.opts.default_timeout.count() == 0;
  if (plain && !p.paused.load(std::memory_order_acquire) && !p.stopped.load(std::memory_order_acquire) &&
      !p.pacing.load(std::memory_order_relaxed) && p.queue.queued() == 0 && p.dispatch.try_acquire_slot()) {
    if (p.guarded) run_inline<true>(p, task, options.priority);
    else run_inline<false>(p, task, options.priority);
    return;
  }
  p.prepare(t, options);
  if (options.bypass) {
    pool::ThreadDuty duty(&p, 1, 0);
    Status st = p.run_bypass(t);
    p.finish(t, std::move(st), Duration{}, p.clock->now(), duty);
    return;
  }
  p.submit_prepared(t);
  detail::wait_done(task);
}

// ---- lifecycle ---------------------------------------------------------------------------------

void OperationPool::pause() {
  Engine& p = *impl_;
  {
    std::lock_guard<std::mutex> g(p.mu);
    if (p.paused.exchange(true)) return;
  }
  p.obs.emit_simple(PoolEvent::kPaused);
}

void OperationPool::resume() {
  Engine& p = *impl_;
  {
    std::lock_guard<std::mutex> g(p.mu);
    if (!p.paused.exchange(false)) return;
    p.dispatch.kick_locked(p.queue.size_locked());
  }
  p.obs.emit_simple(PoolEvent::kResumed);
}

void OperationPool::drain() { (void)impl_->drain_until(nullptr); }

bool OperationPool::drain_for(Duration timeout) {
  const TimePoint until = impl_->clock->now() + timeout;
  return impl_->drain_until(&until);
}

void OperationPool::stop() {
  Engine& p = *impl_;
  std::vector<TaskBase*> rejected;
  std::vector<pool::RunSlot*> to_cancel;
  {
    std::lock_guard<std::mutex> g(p.mu);
    if (p.stopped.exchange(true, std::memory_order_seq_cst)) return;
    p.queue.take_all_locked(rejected);
    for (TaskBase* t : rejected) {
      if (pool::TaskExtra* e = node(t).extra) p.timers.disarm_locked(e->timer);
    }
    p.timers.take_backoffs_locked(rejected);  // ops waiting out a retry backoff are rejected too
    p.guard.take_parked_locked(rejected);     // and ops waiting for the circuit breaker
    p.dedup.take_joiners_locked(p.timers, rejected);  // and ops that joined a deduplicated op
    p.dispatch.hold_running_locked(to_cancel);
    p.queue.wake_room_waiters_locked();
    p.dispatch.wake_all_locked();
  }
  for (pool::RunSlot* s : to_cancel) s->ctx->cancel(Status::Cancelled("pool stopped"));
  if (!to_cancel.empty()) {
    std::lock_guard<std::mutex> g(p.mu);
    p.dispatch.release_cancels_locked(to_cancel);
  }
  const TimePoint now = p.clock->now();
  pool::ThreadDuty duty(&p, rejected.size(), 0);
  for (TaskBase* t : rejected) p.finish(t, Status::Cancelled("pool stopped"), Duration{}, now, duty);
  p.obs.emit_simple(PoolEvent::kStopped);
}

void OperationPool::wake(std::uint64_t op_id) {
  Engine& p = *impl_;
  if (op_id == 0 || op_id > UINT32_MAX) return;  // not an id of this pool's ops
  std::lock_guard<std::mutex> g(p.mu);
  p.timers.wake_locked(static_cast<std::uint32_t>(op_id));
}

void OperationPool::set_concurrency(int n) {
  Engine& p = *impl_;
  n = std::max(1, n);
  int old = 0;
  {
    std::lock_guard<std::mutex> g(p.mu);
    old = p.dispatch.set_limit_locked(n, p.clock->now());
  }
  if (old != n) p.obs.emit_change(pool::ConcurrencyChange{old, n, "set_concurrency"});
}

void OperationPool::on_cap_wait(std::function<void()> fn) { impl_->dispatch.set_cap_waiter(std::move(fn)); }

void OperationPool::set_cap(int n) {
  Engine& p = *impl_;
  std::lock_guard<std::mutex> g(p.mu);
  p.dispatch.set_cap_locked(n < 0 ? pool::Dispatch::kNoCap : n);
}

}  // namespace s3db
