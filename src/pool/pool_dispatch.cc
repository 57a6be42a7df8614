// The pool's engine: slots, workers, the timer thread, retry decisions and completion.
#include <algorithm>

#include "pool/pool_impl.h"

namespace s3db {

using detail::TaskBase;
using detail::TaskExtra;
using detail::TimerNode;
using pool::RunSlot;

namespace {
std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

std::uint64_t OperationPool::Impl::next_random() noexcept {
  return splitmix64(rng_counter.fetch_add(1, std::memory_order_relaxed));
}

// ---- slots -------------------------------------------------------------------------------------

bool OperationPool::Impl::try_acquire_slot() noexcept {
  int a = active.load(std::memory_order_relaxed);
  for (;;) {
    if (a >= limit.load(std::memory_order_relaxed)) return false;
    if (active.compare_exchange_weak(a, a + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) return true;
  }
}

void OperationPool::Impl::release_slot() noexcept {
  // seq_cst pairs with enqueue_locked(): either we see the queued op, or its kick sees our slot.
  active.fetch_sub(1, std::memory_order_seq_cst);
  if (queued.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> g(mu);
    kick_locked(1);
  }
}

// Moves lock-free submissions into the priority queue, in submission order.
void OperationPool::Impl::drain_inbox_locked() {
  TaskBase* list = inbox.exchange(nullptr, std::memory_order_seq_cst);
  TaskBase* ordered = nullptr;
  while (list) {  // the stack holds newest first: reverse it
    TaskBase* next = list->next_;
    list->next_ = ordered;
    ordered = list;
    list = next;
  }
  while (ordered) {
    TaskBase* next = ordered->next_;
    ordered->pool_flags_ |= pool::kQueued;
    queue.push(ordered);  // already counted in `queued` by the submitter
    ordered = next;
  }
}

// After stop(): completes every queued op (inbox included) with Cancelled, on the timer thread.
void OperationPool::Impl::reject_queued_locked() {
  drain_inbox_locked();
  std::size_t n = 0;
  while (TaskBase* t = queue.pop()) {
    t->pool_flags_ = 0;
    if (t->extra_) timers.remove(&t->extra_->timer);
    defer_locked(t, Status::Cancelled("pool stopped"));
    ++n;
  }
  queued.fetch_sub(n, std::memory_order_seq_cst);
}

// Wakes (or starts) up to `wanted` workers for queued work that has free slots.
void OperationPool::Impl::kick_locked(std::size_t wanted) {
  drain_inbox_locked();
  if (shutdown || paused.load(std::memory_order_relaxed) || stopped.load(std::memory_order_relaxed) ||
      queue.empty()) {
    return;
  }
  const int free_slots = limit.load(std::memory_order_seq_cst) - active.load(std::memory_order_seq_cst);
  if (free_slots <= 0) {
    saturated = true;
    return;
  }
  const std::size_t target = std::min({wanted, static_cast<std::size_t>(free_slots), queue.size()});
  // Workers already searching will take this work (and wake the next one if more is queued).
  while (static_cast<std::size_t>(searching.load(std::memory_order_relaxed)) < target) {
    searching.fetch_add(1, std::memory_order_seq_cst);
    if (idle.load(std::memory_order_relaxed) > signalled) {
      ++signalled;
      work_cv.notify_one();
    } else {
      // A free slot but no idle thread: every worker is either inside a slot (fewer than the
      // limit) or outside one, running a completion that may block (e.g. a then() callback that
      // submits and waits). Start a thread rather than wait for it. Threads therefore never exceed
      // limit + the number of completions blocked at once.
      workers.emplace_back([this] { worker_main(/*searcher=*/true); });
    }
  }
}

void OperationPool::Impl::enqueue_locked(TaskBase* t) {
  t->pool_flags_ |= pool::kQueued;
  queue.push(t);
  queued.fetch_add(1, std::memory_order_seq_cst);
  if (t->extra_ && t->extra_->deadline != TimePoint::max()) {
    TimerNode& n = t->extra_->timer;
    n.when = t->extra_->deadline;
    n.owner = t;
    n.kind = TimerNode::kQueuedDeadline;
    timers.push(&n);
    if (timers.top() == &n) timer_cv.notify_one();
  }
  kick_locked(1);
}

void OperationPool::Impl::defer_locked(TaskBase* t, Status status) {
  deferred.emplace_back(t, std::move(status));
  timer_cv.notify_one();
}

TaskBase* OperationPool::Impl::try_pop_locked(RunSlot& slot) {
  drain_inbox_locked();
  if (paused.load(std::memory_order_relaxed) || stopped.load(std::memory_order_relaxed) || queue.empty()) {
    return nullptr;
  }
  if (!try_acquire_slot()) {
    saturated = true;
    return nullptr;
  }
  TaskBase* t = queue.pop();
  queued.fetch_sub(1, std::memory_order_seq_cst);
  t->pool_flags_ &= static_cast<std::uint8_t>(~pool::kQueued);
  if (t->extra_) timers.remove(&t->extra_->timer);
  if (space_waiters > 0) space_cv.notify_one();
  register_locked(slot, t, clock->now());
  return t;
}

// Makes the attempt cancellable: running list (stop()) and, when it has one, its deadline timer.
void OperationPool::Impl::register_locked(RunSlot& slot, TaskBase* t, TimePoint now) {
  slot.task = t;
  slot.prev = nullptr;
  slot.next = running;
  if (running) running->prev = &slot;
  running = &slot;
  slot.linked = true;

  TimePoint deadline = op_deadline(t);
  slot.deadline_is_op = true;
  const auto timeout = attempt_timeout(t);
  if (timeout.count() > 0 && now + timeout < deadline) {
    deadline = now + timeout;
    slot.deadline_is_op = false;
  }
  slot.ctx->reset_for_attempt(t->attempt_, deadline);
  if (deadline != TimePoint::max()) {
    slot.timer.when = deadline;
    slot.timer.owner = &slot;
    slot.timer.kind = TimerNode::kAttempt;
    timers.push(&slot.timer);
    if (timers.top() == &slot.timer) timer_cv.notify_one();
  }
}

void OperationPool::Impl::unregister_locked(std::unique_lock<std::mutex>& lk, RunSlot& slot) {
  timers.remove(&slot.timer);
  if (slot.linked) {
    if (slot.prev) slot.prev->next = slot.next;
    else running = slot.next;
    if (slot.next) slot.next->prev = slot.prev;
    slot.linked = false;
  }
  // A timer or stop() may be inside ctx->cancel() right now: the context must outlive that call.
  cancel_cv.wait(lk, [&] { return slot.cancel_pending == 0; });
  slot.task = nullptr;
}

// ---- retry decision ----------------------------------------------------------------------------

OperationPool::Impl::Decision OperationPool::Impl::decide(TaskBase* t, Status st, const OpContext& ctx,
                                                           TimePoint now) {
  Decision d;
  if (st.ok()) return d;  // success stands even if a cancel arrived after the work was done
  if (ctx.cancelled()) st = ctx.cancel_status();  // the op's own error is a symptom of the cancel
  d.status = std::move(st);
  const Status& s = d.status;
  if (s.code() == Code::kCancelled) return d;
  bool retryable = false;
  if (t->extra_ && t->extra_->retryable) {
    try {
      retryable = t->extra_->retryable(s);
    } catch (...) {
      retryable = false;
    }
  } else {
    retryable = s.retryable();
  }
  if (!retryable) return d;
  const int max_retries =
      (t->extra_ && t->extra_->retries >= 0) ? t->extra_->retries : policy->max_retries();
  if (t->attempt_ > max_retries) return d;
  const TimePoint deadline = op_deadline(t);
  if (now >= deadline) {
    if (s.code() != Code::kTimeout) d.status = Status::Timeout("deadline passed", s.to_string());
    return d;
  }
  const Duration delay = policy->delay(s, t->attempt_, next_random());
  if (deadline != TimePoint::max() && now + delay >= deadline) {
    d.status = Status::Timeout("deadline would pass during retry backoff", s.to_string());
    return d;
  }
  if (stopped.load(std::memory_order_acquire)) {
    // It would have retried: the stop, not this attempt's error, is why the op ends here.
    d.status = Status::Cancelled("pool stopped", s.to_string());
    return d;
  }
  d.retry = true;
  d.delay = delay;
  return d;
}

void OperationPool::Impl::emit_retry(const TaskBase* t, const Status& status, Duration exec, Duration delay) {
  if (!wants(PoolEvent::kTaskRetry)) return;
  EventInfo e = task_event(PoolEvent::kTaskRetry, t);
  e.duration = exec;
  e.retry_delay = delay;
  e.status = &status;
  emit(e);
}

void OperationPool::Impl::schedule_backoff_locked(TaskBase* t, TimePoint when) {
  ++t->attempt_;
  t->pool_flags_ |= pool::kInBackoff;
  TimerNode& n = t->extra_->timer;
  n.when = when;
  n.owner = t;
  n.kind = TimerNode::kBackoff;
  timers.push(&n);
  if (timers.top() == &n) timer_cv.notify_one();
  ++backoff_count;
  retries.fetch_add(1, std::memory_order_relaxed);
}

// ---- completion --------------------------------------------------------------------------------

void OperationPool::Impl::finish(TaskBase* t, Status status, Duration last_exec, TimePoint now,
                                 pool::ThreadDuty& duty) {
  const bool ok = status.ok();
  TaskExtra::destroy(std::exchange(t->extra_, nullptr));
  processed.fetch_add(1, std::memory_order_relaxed);
  if (!ok) {
    errors.fetch_add(1, std::memory_order_relaxed);
    errors_by_code[static_cast<int>(status.code())].fetch_add(1, std::memory_order_relaxed);
  }
  throughput.tick(ns_since_start(now) / 1'000'000'000);
  const PoolEvent ev = ok ? PoolEvent::kTaskCompleted : PoolEvent::kTaskError;
  if (wants(ev)) {
    EventInfo e = task_event(ev, t);
    e.duration = last_exec;
    e.status = ok ? nullptr : &status;
    emit(e);
  }
  if (!ok) t->fail(std::move(status));
  t->complete();  // t may be gone from here on
  const std::size_t left = inflight.fetch_sub(1, std::memory_order_seq_cst) - 1;
  --duty.ops;
  // seq_cst pairs with drain_until(): either it sees `left`, or we see its exclusion and wake it.
  if (left == 0) on_idle();
  else if (left <= drain_excluded.load(std::memory_order_seq_cst)) wake_drainers();
}

void OperationPool::Impl::on_idle() {
  wake_drainers();
  if (wants(PoolEvent::kDrained)) emit_simple(PoolEvent::kDrained);
}

void OperationPool::Impl::wake_drainers() {
  if (drain_waiters.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard<std::mutex> g(mu);
  drain_cv.notify_all();
  if (timer_drains > 0) timer_cv.notify_all();  // a drain on the timer thread waits there
}

// ---- workers -----------------------------------------------------------------------------------

// A worker holds `mu` except while it runs an attempt. It takes its next task in the critical
// section that releases its slot, so a busy worker costs one lock round per task and never sleeps
// while it can run queued work.
void OperationPool::Impl::worker_main(bool searcher) {
  OpContext ctx;
  RunSlot slot;
  slot.ctx = &ctx;
  pool::ThreadDuty duty(this, 0, 0);
  std::unique_lock<std::mutex> lk(mu);
  TaskBase* t = nullptr;
  for (;;) {
    if (!t) t = try_pop_locked(slot);
    if (searcher) {
      searcher = false;
      // seq_cst pairs with submit's lock-free path: a submitter that saw us searching skipped its
      // wake-up, so after this decrement we look at the inbox again (try_pop drains it) — either
      // we see its op or it sees no searcher and wakes someone.
      searching.fetch_sub(1, std::memory_order_seq_cst);
      if (!t) continue;
      if (queued.load(std::memory_order_seq_cst) > 0) kick_locked(1);  // chain wake-up
    }
    if (!t) {
      if (shutdown) return;
      idle.fetch_add(1, std::memory_order_relaxed);
      work_cv.wait(lk);
      idle.fetch_sub(1, std::memory_order_relaxed);
      if (signalled > 0) {
        --signalled;
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
TaskBase* OperationPool::Impl::run_attempt(TaskBase* t, RunSlot& slot, std::unique_lock<std::mutex>& lk,
                                           pool::ThreadDuty& duty) {
  if (lk.owns_lock()) lk.unlock();
  duty.ops = 1;  // t, in its slot
  duty.slots = 1;
  OpContext& ctx = *slot.ctx;
  TimePoint now = clock->now();
  Duration wait{};  // queue wait of a first attempt (a retry's wait is its backoff, not counted)
  if (t->attempt_ == 1) {
    wait = now - TimePoint(Duration(t->enqueued_ns_));
    queue_wait.record(static_cast<std::uint64_t>(std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count())));
  }
  if (wants(PoolEvent::kTaskStarted)) {
    EventInfo e = task_event(PoolEvent::kTaskStarted, t);
    e.queue_wait = wait;
    emit(e);
  }

  Status st;
  Duration exec{};
  if (now >= op_deadline(t)) {
    st = Status::Timeout("deadline passed before the operation started");
  } else if (ctx.cancelled()) {
    st = ctx.cancel_status();  // stop() reached the attempt before it began
  } else {
    st = t->attempt(ctx);
    const TimePoint end = clock->now();
    exec = end - now;
    const auto ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(exec).count());
    execution.record(ns);
    busy_ns.fetch_add(ns, std::memory_order_relaxed);
    now = end;
  }
  ctx.clear_on_cancel();
  const Code attempt_code = ctx.cancelled() && !st.ok() ? ctx.cancel_status().code() : st.code();
  Decision d = decide(t, std::move(st), ctx, now);
  TaskExtra* fresh = (d.retry && !t->extra_) ? TaskExtra::create() : nullptr;

  if (d.retry) emit_retry(t, d.status, exec, d.delay);
  pool::lock_spin(lk);
  unregister_locked(lk, slot);
  std::optional<pool::ConcurrencyChange> change;
  if (opts.adaptive.enabled) change = feedback_locked(attempt_code, exec, now);
  if (d.retry && stopped.load(std::memory_order_relaxed)) {
    d.retry = false;
    d.status = Status::Cancelled("pool stopped", d.status.to_string());
  }
  if (d.retry) {
    if (fresh) t->extra_ = std::exchange(fresh, nullptr);
    schedule_backoff_locked(t, now + d.delay);
  }
  active.fetch_sub(1, std::memory_order_seq_cst);  // our own pop below reuses the slot if it can
  TaskBase* next = try_pop_locked(slot);
  // This thread now owes t's completion (unless it retries) and `next`, whose slot it holds.
  duty.ops = (d.retry ? 0 : 1) + (next ? 1 : 0);
  duty.slots = next ? 1 : 0;
  lk.unlock();
  TaskExtra::destroy(fresh);
  if (change) emit_change(*change);
  if (!d.retry) finish(t, std::move(d.status), exec, now, duty);
  if (!next) pool::lock_spin(lk);
  return next;
}

// ---- timer thread ------------------------------------------------------------------------------

void OperationPool::Impl::timer_main() {
  pool::ThreadDuty duty(this, 0, 0, /*timer=*/true);
  pool::TimerScratch scratch;
  std::unique_lock<std::mutex> lk(mu);
  for (;;) {
    if (timer_round(lk, scratch)) continue;
    if (timer_exit) return;
    TimerNode* top = timers.top();
    clock->wait_until(lk, timer_cv, top ? top->when : TimePoint::max());
  }
}

// One round of the timer thread's work, entered and left with `lk` held: the deferred completions,
// else the timers that are due. False when there was nothing to do. Also run by a drain() called
// on the timer thread (from a completion it runs): other ops may need a timer to finish.
bool OperationPool::Impl::timer_round(std::unique_lock<std::mutex>& lk, pool::TimerScratch& scratch) {
  if (!deferred.empty()) {
    auto batch = std::move(deferred);
    deferred.clear();
    lk.unlock();
    {
      pool::ThreadDuty duty(this, batch.size(), 0);
      const TimePoint now = clock->now();
      for (auto& [t, st] : batch) finish(t, std::move(st), Duration{}, now, duty);
    }
    lk.lock();
    return true;
  }
  if (timer_exit) return false;
  const TimePoint now = clock->now();
  TimerNode* top = timers.top();
  if (!top || top->when > now) return false;
  bool any_expired = false;
  while ((top = timers.top()) && top->when <= now) {
    timers.remove(top);
    switch (top->kind) {
      case TimerNode::kAttempt: {
        auto* s = static_cast<RunSlot*>(top->owner);
        ++s->cancel_pending;
        scratch.to_cancel.push_back(s);
        break;
      }
      case TimerNode::kBackoff: {
        auto* t = static_cast<TaskBase*>(top->owner);
        t->pool_flags_ &= static_cast<std::uint8_t>(~pool::kInBackoff);
        --backoff_count;
        enqueue_locked(t);  // a deadline already due is handled by this same loop
        break;
      }
      case TimerNode::kQueuedDeadline: {
        static_cast<TaskBase*>(top->owner)->pool_flags_ |= pool::kExpired;
        any_expired = true;
        break;
      }
    }
  }
  if (any_expired) {
    queue.remove_expired(scratch.expired);  // one sweep for every op that expired at this tick
    queued.fetch_sub(scratch.expired.size(), std::memory_order_seq_cst);
    for (TaskBase* t : scratch.expired) t->pool_flags_ = 0;
    if (space_waiters > 0) space_cv.notify_all();
  }
  if (!scratch.to_cancel.empty()) {
    lk.unlock();
    for (RunSlot* s : scratch.to_cancel) {
      s->ctx->cancel(s->deadline_is_op ? Status::Timeout("deadline passed")
                                       : Status::Timeout("attempt timed out"));
    }
    lk.lock();
    for (RunSlot* s : scratch.to_cancel) --s->cancel_pending;
    scratch.to_cancel.clear();
    cancel_cv.notify_all();
  }
  if (!scratch.expired.empty()) {
    // After the cancels are released: a completion here may drain(), which waits for those ops.
    lk.unlock();
    {
      pool::ThreadDuty duty(this, scratch.expired.size(), 0);
      for (TaskBase* t : scratch.expired) finish(t, Status::Timeout("deadline passed while queued"), Duration{}, now, duty);
    }
    scratch.expired.clear();
    lk.lock();
  }
  return true;
}

}  // namespace s3db
