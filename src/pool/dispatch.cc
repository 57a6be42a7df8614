// pool::Dispatch: slots, workers and the attempts they run.
#include "pool/dispatch.h"

#include <algorithm>

#include "pool/engine.h"

namespace s3db::pool {

// ---- slots -------------------------------------------------------------------------------------

void Dispatch::release_slot() noexcept {
  // seq_cst pairs with the queue's count: either we see the queued op, or its kick sees our slot.
  active_.fetch_sub(1, std::memory_order_seq_cst);
  if (p_.queue.queued() > 0) {
    std::lock_guard<std::mutex> g(p_.mu);
    kick_locked(1);
  }
}

void Dispatch::lend_slots_locked(std::size_t n) {
  active_.fetch_sub(static_cast<int>(n), std::memory_order_seq_cst);
  if (n > 0) kick_locked(n);
}

void Dispatch::reclaim_slots_locked(std::size_t n) noexcept {
  active_.fetch_add(static_cast<int>(n), std::memory_order_seq_cst);
}

void Dispatch::kick_locked(std::size_t wanted) {
  p_.queue.drain_inbox_locked();
  if (shutdown_ || p_.paused.load(std::memory_order_relaxed) || p_.stopped.load(std::memory_order_relaxed) ||
      p_.queue.empty_locked()) {
    return;
  }
  const int free_slots = effective_limit() - active_.load(std::memory_order_seq_cst);
  if (free_slots <= 0) {
    note_saturated_locked();
    return;
  }
  const std::size_t target = std::min({wanted, static_cast<std::size_t>(free_slots), p_.queue.size_locked()});
  // Workers already searching will take this work (and wake the next one if more is queued).
  while (static_cast<std::size_t>(searching_.load(std::memory_order_relaxed)) < target) {
    searching_.fetch_add(1, std::memory_order_seq_cst);
    if (idle_.load(std::memory_order_relaxed) > signalled_) {
      ++signalled_;
      work_cv_.notify_one();
    } else {
      // A free slot but no idle thread: every worker is either inside a slot (fewer than the
      // limit) or outside one, running a completion that may block (e.g. a then() callback that
      // submits and waits). Start a thread rather than wait for it. Threads therefore never exceed
      // limit + the number of completions blocked at once.
      workers_.emplace_back([this] { worker_main(/*searcher=*/true); });
    }
  }
}

int Dispatch::set_limit_locked(int n, TimePoint now) {
  const int old = limit_.load(std::memory_order_relaxed);
  if (n == old) return old;
  p_.obs.limit_changed_locked(old, now);
  limit_.store(n, std::memory_order_seq_cst);
  if (n > old) kick_locked(static_cast<std::size_t>(n - old));
  return old;
}

void Dispatch::note_saturated_locked() {
  // Only the limit's saturation: a cap that binds says nothing about what the store takes.
  if (p_.tuner && active_.load(std::memory_order_relaxed) >= limit_.load(std::memory_order_relaxed)) {
    p_.tuner->note_saturated();
  }
}

void Dispatch::set_cap_waiter(std::function<void()> fn) {
  std::lock_guard<std::mutex> g(cap_waiter_mu_);
  cap_waiter_ = std::move(fn);
  cap_waiter_armed_.store(static_cast<bool>(cap_waiter_), std::memory_order_seq_cst);
}

void Dispatch::call_cap_waiter() {
  std::lock_guard<std::mutex> g(cap_waiter_mu_);
  if (cap_waiter_) cap_waiter_();
}

void Dispatch::set_cap_locked(int n) {
  if (!cap_waiter_armed_.load(std::memory_order_relaxed)) {
    std::lock_guard<std::mutex> g(cap_waiter_mu_);  // ordered after the pool's mutex, never before
    cap_waiter_armed_.store(static_cast<bool>(cap_waiter_), std::memory_order_seq_cst);
  }
  const int old = cap_.load(std::memory_order_relaxed);
  if (n == old) return;
  const int before = effective_limit();
  cap_.store(n, std::memory_order_seq_cst);
  const int after = effective_limit();
  if (after > before) kick_locked(static_cast<std::size_t>(after - std::max(before, 0)));
}

std::optional<ConcurrencyChange> Dispatch::adapt_locked(Code code, Duration latency, TimePoint now) {
  if (p_.send_rate && p_.send_rate->feedback_locked(code, now - latency, now)) {
    p_.pacing.store(true, std::memory_order_relaxed);
  }
  std::optional<ConcurrencyChange> change =
      p_.tuner->feedback_locked(code, latency, now, limit_.load(std::memory_order_relaxed));
  if (change) set_limit_locked(change->new_value, now);
  return change;
}

// ---- the running list --------------------------------------------------------------------------

TaskBase* Dispatch::try_pop_locked(RunSlot& slot) {
  p_.queue.drain_inbox_locked();
  if (p_.paused.load(std::memory_order_relaxed) || p_.stopped.load(std::memory_order_relaxed) ||
      p_.queue.empty_locked()) {
    return nullptr;
  }
  if (!try_acquire_slot()) {
    note_saturated_locked();
    return nullptr;
  }
  const TimePoint now = p_.clock->now();
  if (p_.pacing.load(std::memory_order_relaxed) && !p_.take_send_token_locked(now)) {
    // The head waits for its token (the timer kicks then); nothing behind it skips ahead.
    active_.fetch_sub(1, std::memory_order_seq_cst);
    return nullptr;
  }
  TaskBase* t = p_.queue.pop_locked();
  if (TaskExtra* e = node(t).extra) p_.timers.disarm_locked(e->timer);
  p_.queue.wake_room_waiter_locked();
  register_locked(slot, t, now);
  return t;
}

void Dispatch::register_locked(RunSlot& slot, TaskBase* t, TimePoint now) {
  slot.task = t;
  slot.prev = nullptr;
  slot.next = running_;
  if (running_) running_->prev = &slot;
  running_ = &slot;
  slot.linked = true;

  TimePoint deadline = Engine::op_deadline(t);
  slot.deadline_is_op = true;
  const auto timeout = p_.attempt_timeout(t);
  if (timeout.count() > 0 && now + timeout < deadline) {
    deadline = now + timeout;
    slot.deadline_is_op = false;
  }
  InternalAccess::reset_for_attempt(*slot.ctx, node(t).attempt, deadline);
  InternalAccess::allow_again(*slot.ctx, node(t).id);
  if (deadline != TimePoint::max()) p_.timers.arm_locked(slot.timer, deadline, &slot, TimerNode::kAttempt);
}

void Dispatch::unregister_locked(std::unique_lock<std::mutex>& lk, RunSlot& slot) {
  p_.timers.disarm_locked(slot.timer);
  if (slot.linked) {
    if (slot.prev) slot.prev->next = slot.next;
    else running_ = slot.next;
    if (slot.next) slot.next->prev = slot.prev;
    slot.linked = false;
  }
  // A timer or stop() may be inside ctx->cancel() right now: the context must outlive that call.
  cancel_cv_.wait(lk, [&] { return slot.cancel_pending == 0; });
  slot.task = nullptr;
}

void Dispatch::hold_running_locked(std::vector<RunSlot*>& out) {
  for (RunSlot* s = running_; s; s = s->next) {
    ++s->cancel_pending;
    out.push_back(s);
  }
}

void Dispatch::release_cancels_locked(const std::vector<RunSlot*>& slots) {
  for (RunSlot* s : slots) --s->cancel_pending;
  cancel_cv_.notify_all();
}

// ---- workers -----------------------------------------------------------------------------------

void Dispatch::shutdown_and_join() {
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> g(p_.mu);
    shutdown_ = true;
    work_cv_.notify_all();
  }
  // Workers finish their (cancelled) attempts; none is spawned after shutdown is set.
  for (;;) {
    {
      std::lock_guard<std::mutex> g(p_.mu);
      workers.swap(workers_);
    }
    if (workers.empty()) break;
    for (auto& w : workers) w.join();
    workers.clear();
  }
}

// A worker holds the mutex except while it runs an attempt. It takes its next task in the critical
// section that releases its slot, so a busy worker costs one lock round per task and never sleeps
// while it can run queued work.
void Dispatch::worker_main(bool searcher) {
  OpContext ctx;
  RunSlot slot;
  slot.ctx = &ctx;
  ThreadDuty duty(&p_, 0, 0);
  std::unique_lock<std::mutex> lk(p_.mu);
  TaskBase* t = nullptr;
  for (;;) {
    if (!t) t = try_pop_locked(slot);
    if (searcher) {
      searcher = false;
      // seq_cst pairs with submit's lock-free path: a submitter that saw us searching skipped its
      // wake-up, so after this decrement we look at the inbox again (try_pop drains it) — either
      // we see its op or it sees no searcher and wakes someone.
      searching_.fetch_sub(1, std::memory_order_seq_cst);
      if (!t) continue;
      if (p_.queue.queued() > 0) kick_locked(1);  // chain wake-up
    }
    if (!t) {
      if (shutdown_) return;
      idle_.fetch_add(1, std::memory_order_relaxed);
      work_cv_.wait(lk);
      idle_.fetch_sub(1, std::memory_order_relaxed);
      if (signalled_ > 0) {
        --signalled_;
        searcher = true;  // whoever consumes a signal does the searching it was sent for
      }
      continue;
    }
    t = run_attempt(t, slot, lk, duty);
  }
}

// Runs one registered attempt of `t`, settles it (retry or finish) and returns the next task this
// worker already popped and registered, if any. Entered with or without `lk` held; returns with
// `lk` held only when there is no next task (the worker then goes looking or to sleep).
TaskBase* Dispatch::run_attempt(TaskBase* t, RunSlot& slot, std::unique_lock<std::mutex>& lk, ThreadDuty& duty) {
  if (lk.owns_lock()) lk.unlock();
  duty.ops = 1;  // t, in its slot
  duty.slots = 1;
  OpContext& ctx = *slot.ctx;
  TimePoint now = p_.clock->now();
  const bool late = now >= Engine::op_deadline(t);
  const bool due = !late && !ctx.cancelled();  // the attempt will run
  BreakerTicket ticket;
  if (due && p_.guard.breaker()) {
    ticket = p_.admit(now);
    if (ticket.admission == Admission::kRefused) return refuse(t, slot, lk, duty, ticket, now);
  }
  Duration wait{};  // queue wait of a first attempt (a retry's wait is its backoff, not counted)
  if (node(t).attempt == 1) {
    wait = now - TimePoint(Duration(node(t).enqueued_ns));
    p_.obs.record_queue_wait(static_cast<std::uint64_t>(
        std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count())));
  }
  if (p_.obs.wants(PoolEvent::kTaskStarted)) {
    EventInfo e = Observation::task_event(PoolEvent::kTaskStarted, t);
    e.queue_wait = wait;
    p_.obs.emit(e);
  }

  Status st;
  Duration exec{};
  if (late) {
    st = Status::Timeout("deadline passed before the operation started");
  } else if (!due) {
    st = ctx.cancel_status();  // stop() reached the attempt before it began
  } else {
    st = InternalAccess::attempt(*t, ctx);
    const TimePoint end = p_.clock->now();
    exec = end - now;
    p_.obs.record_attempt(
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(exec).count()));
    now = end;
  }
  ctx.clear_on_cancel();
  const Code attempt_code = Engine::attempt_outcome(st, ctx);
  if (due && p_.guarded) p_.guard_outcome(t, ticket, attempt_code, now);
  Engine::Decision d = p_.decide(t, std::move(st), ctx, now);
  TaskExtra* fresh = (d.retry && !node(t).extra) ? TaskExtra::create() : nullptr;

  if (d.retry) p_.emit_retry(t, d.status, exec, d.delay, d.again);
  lock_spin(lk);
  unregister_locked(lk, slot);
  std::optional<ConcurrencyChange> change;
  if (p_.tuner) change = adapt_locked(attempt_code, exec, now);
  if (d.retry && p_.stopped.load(std::memory_order_relaxed)) {
    d.retry = false;
    d.status = Status::Cancelled("pool stopped", d.status.to_string());
  }
  if (d.retry) {
    if (fresh) node(t).extra = std::exchange(fresh, nullptr);
    p_.schedule_locked(t, d, now);
  }
  TaskBase* next = hand_over_locked(slot, duty, /*owes_t=*/!d.retry);
  lk.unlock();
  TaskExtra::destroy(fresh);
  if (change) p_.obs.emit_change(*change);
  if (!d.retry) p_.finish(t, std::move(d.status), exec, now, duty);
  if (!next) lock_spin(lk);
  return next;
}

// The breaker refused the attempt of `t`: it fails at once, or (wait_when_open) waits, parked out
// of the queue and without a slot, until the circuit may admit it. Same hand-over as run_attempt.
TaskBase* Dispatch::refuse(TaskBase* t, RunSlot& slot, std::unique_lock<std::mutex>& lk, ThreadDuty& duty,
                           const BreakerTicket& ticket, TimePoint now) {
  std::optional<Status> final_status;
  if (!p_.guard.waits_when_open()) final_status = p_.guard.refusal(now);
  lock_spin(lk);
  unregister_locked(lk, slot);
  if (p_.guard.waits_when_open()) final_status = p_.guard.wait_locked(t, ticket, now);
  TaskBase* next = hand_over_locked(slot, duty, /*owes_t=*/final_status.has_value());
  lk.unlock();
  if (final_status) p_.finish(t, std::move(*final_status), Duration{}, now, duty);
  if (!next) lock_spin(lk);
  return next;
}

TaskBase* Dispatch::hand_over_locked(RunSlot& slot, ThreadDuty& duty, bool owes_t) {
  active_.fetch_sub(1, std::memory_order_seq_cst);  // our own pop below reuses the slot if it can
  TaskBase* next = try_pop_locked(slot);
  // This thread now owes t's completion (unless someone else took it over) and `next`, whose slot
  // it holds.
  duty.ops = (owes_t ? 1 : 0) + (next ? 1 : 0);
  duty.slots = next ? 1 : 0;
  return next;
}

}  // namespace s3db::pool
