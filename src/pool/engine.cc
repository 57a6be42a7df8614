// pool::Engine: submission, the retry decision, completion and drain — what spans the parts.
#include "pool/engine.h"

#include <algorithm>
#include <random>

#include "core/process_memory.h"

namespace s3db::pool {

namespace {

// concurrency ≥ 1; with adaptive tuning, 1 ≤ min ≤ max and concurrency within them (0: the
// memory-based start value).
PoolOptions normalised(PoolOptions o) {
  int n = std::max(1, o.concurrency);
  if (o.adaptive.enabled && o.concurrency == 0) {
    const AdaptiveOptions& a = o.adaptive;
    n = start_concurrency(a, a.memory_usage ? a.memory_usage() : core::resident_bytes(),
                          a.memory_limit > 0 ? a.memory_limit : core::memory_limit_bytes());
  }
  if (o.adaptive.enabled) {
    o.adaptive.min_concurrency = std::max(1, o.adaptive.min_concurrency);
    o.adaptive.max_concurrency = std::max(o.adaptive.min_concurrency, o.adaptive.max_concurrency);
    n = std::clamp(n, o.adaptive.min_concurrency, o.adaptive.max_concurrency);
  }
  o.concurrency = n;
  return o;
}

std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace

Engine::Engine(PoolOptions options)
    : memory_start(options.adaptive.enabled && options.concurrency == 0),
      opts(normalised(std::move(options))),
      clock(opts.clock ? opts.clock : steady_clock()),
      policy(opts.retry_policy ? opts.retry_policy : exponential_backoff(opts.backoff)),
      start(clock->now()),
      guarded(opts.breaker.enabled || opts.retry_budget.enabled),
      obs(start, *clock),
      tuner(opts.adaptive.enabled ? make_tuner(opts.adaptive, start, memory_start ? opts.concurrency : 0) : nullptr),
      send_rate(opts.adaptive.enabled && opts.adaptive.tuner == TunerKind::kAimd && opts.adaptive.send_rate
                    ? std::make_unique<SendRate>(opts.adaptive.window, start)
                    : nullptr),
      timers(*this),
      guard(*this, opts),
      dispatch(*this, tuner ? tuner->initial_limit(opts.concurrency) : opts.concurrency) {
  rng_counter.store(std::random_device{}());
}

std::uint64_t Engine::next_random() noexcept {
  return splitmix64(rng_counter.fetch_add(1, std::memory_order_relaxed));
}

// ---- submission --------------------------------------------------------------------------------

void Engine::prepare(TaskBase* t, OpOptions& o) {
  detail::TaskNode& n = node(t);
  n.priority = o.priority;
  n.id = next_id.fetch_add(1, std::memory_order_relaxed);
  n.enqueued_ns = clock->now().time_since_epoch().count();
  if (o.timeout.count() > 0 || o.deadline != TimePoint::max() || o.retries >= 0 || o.retryable) {
    TaskExtra* e = TaskExtra::create();
    e->timeout = o.timeout;
    e->deadline = o.deadline;
    e->retries = o.retries;
    e->retryable = std::move(o.retryable);
    n.extra = e;
  }
}

void Engine::submit_prepared(TaskBase* t) {
  if (!node(t).extra && opts.max_queue == 0) {
    // Lock-free path. seq_cst throughout: it pairs with stop() (either stop() sees this op in the
    // inbox or we see `stopped`) and with idle workers / releasing slots (either they see the op
    // or we see them and take the mutex to wake them).
    queue.push_inbox(t);
    if (stopped.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> g(mu);
      reject_queued_locked();
      return;
    }
    // No wake-up while a worker is searching: it drains the inbox after it stops searching (see
    // Dispatch::worker_main). None when every slot is busy: the holder drains the inbox when it
    // lets go.
    const bool slot_free = dispatch.has_free_slot();
    if (slot_free && !dispatch.searching()) {
      std::unique_lock<std::mutex> lk(mu, std::defer_lock);
      lock_spin(lk);
      dispatch.kick_locked(1);
    }
    // Saturation (what lets adaptive AIMD raise the limit) means an op had to wait for a slot;
    // one submitted while a slot was free says nothing of the kind.
    if (!slot_free && tuner && dispatch.active() >= dispatch.limit()) tuner->note_saturated();  // not the cap
    if (!slot_free) dispatch.note_cap_wait();
    return;
  }
  std::unique_lock<std::mutex> lk(mu, std::defer_lock);
  lock_spin(lk);
  for (;;) {
    if (stopped.load(std::memory_order_relaxed)) {
      timers.defer_locked(t, Status::Cancelled("pool stopped"));
      return;
    }
    if (opts.max_queue == 0 || queue.size_locked() < opts.max_queue) break;
    if (opts.when_full == QueueFullPolicy::kReject) {
      timers.defer_locked(t, Status::Throttled("operation pool queue full", "max_queue reached"));
      return;
    }
    queue.wait_for_room(lk);
  }
  enqueue_locked(t);
  const bool slot_free = dispatch.has_free_slot();
  lk.unlock();
  if (!slot_free) dispatch.note_cap_wait();
}

// Bypass: the op runs on the calling thread now, outside the limit; it is still cancellable by
// its timeout/deadline and by stop().
Status Engine::run_bypass(TaskBase* t) {
  OpContext ctx;
  RunSlot slot;
  slot.ctx = &ctx;
  TimePoint now = clock->now();
  {
    std::lock_guard<std::mutex> g(mu);
    dispatch.register_locked(slot, t, now);
    InternalAccess::allow_again(ctx, 0);  // nothing to run it again: the caller's thread is the op's
  }
  Status st;
  if (now >= op_deadline(t)) {
    st = Status::Timeout("deadline passed before the operation started");
  } else {
    st = InternalAccess::attempt(*t, ctx);
    const TimePoint end = clock->now();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(end - now).count();
    obs.record_bypass_attempt(static_cast<std::uint64_t>(ns));
  }
  ctx.clear_on_cancel();
  if (!st.ok() && ctx.cancelled()) st = ctx.cancel_status();
  std::unique_lock<std::mutex> lk(mu);
  dispatch.unregister_locked(lk, slot);
  return st;
}

void Engine::enqueue_locked(TaskBase* t) {
  queue.push_locked(t);
  TaskExtra* e = node(t).extra;
  if (e && e->deadline != TimePoint::max()) timers.arm_locked(e->timer, e->deadline, t, TimerNode::kQueuedDeadline);
  dispatch.kick_locked(1);
}

void Engine::reject_queued_locked() {
  queue.drain_inbox_locked();
  while (TaskBase* t = queue.pop_locked()) {
    node(t).flags = 0;
    if (TaskExtra* e = node(t).extra) timers.disarm_locked(e->timer);
    timers.defer_locked(t, Status::Cancelled("pool stopped"));
  }
}

// ---- retry decision ----------------------------------------------------------------------------

Engine::Decision Engine::decide_failed(TaskBase* t, Status st, const OpContext& ctx, TimePoint now) {
  Decision d;
  if (ctx.cancelled()) {
    st = ctx.cancel_status();  // the op's own error is a symptom of the cancel
  } else if (InternalAccess::asked_again(ctx)) {
    return decide_again(t, std::move(st), InternalAccess::again_delay(ctx), now);
  }
  d.status = std::move(st);
  const Status& s = d.status;
  if (s.code() == Code::kCancelled) return d;
  const TaskExtra* e = node(t).extra;
  bool retryable = false;
  if (e && e->retryable) {
    try {
      retryable = e->retryable(s);
    } catch (...) {
      retryable = false;
    }
  } else {
    retryable = s.retryable();
  }
  if (!retryable) return d;
  const int attempt = node(t).attempt;
  const int max_retries = (e && e->retries >= 0) ? e->retries : policy->max_retries_after(s);
  if (attempt > max_retries) return d;
  const TimePoint deadline = op_deadline(t);
  if (now >= deadline) {
    if (s.code() != Code::kTimeout) d.status = Status::Timeout("deadline passed", s.to_string());
    return d;
  }
  const Duration delay = policy->delay(s, attempt, next_random());
  if (deadline != TimePoint::max() && now + delay >= deadline) {
    d.status = Status::Timeout("deadline would pass during retry backoff", s.to_string());
    return d;
  }
  if (stopped.load(std::memory_order_acquire)) {
    // It would have retried: the stop, not this attempt's error, is why the op ends here.
    d.status = Status::Cancelled("pool stopped", s.to_string());
    return d;
  }
  if (RetryBudget* budget = guard.budget()) {
    // Last: tokens are spent only on a retry that will happen.
    d.paid = budget->try_take(s.code());
    if (d.paid == 0) {
      d.status = s.with_context("retry budget spent, not retried");
      return d;
    }
  }
  d.retry = true;
  d.delay = delay;
  return d;
}

Engine::Decision Engine::decide_again(const TaskBase* t, Status st, Duration delay, TimePoint now) {
  Decision d;
  d.status = std::move(st);
  const TimePoint deadline = op_deadline(t);
  const bool until_woken = delay == Duration::max();
  if (now >= deadline || (!until_woken && deadline != TimePoint::max() && delay >= deadline - now)) {
    // A pause that cannot end before the deadline only postpones the Timeout: report it now.
    d.status = Status::Timeout("deadline comes before the operation's pause ends", d.status.to_string());
    return d;
  }
  if (stopped.load(std::memory_order_acquire)) {
    d.status = Status::Cancelled("pool stopped", d.status.to_string());
    return d;
  }
  d.retry = true;
  d.again = true;
  // Waiting until woken: the backoff timer stands at the deadline (then the queue's deadline
  // check ends the op with Timeout), or nowhere (never fires; stop() still finds it).
  d.delay = until_woken ? (deadline == TimePoint::max() ? Duration::max() : deadline - now) : delay;
  return d;
}

void Engine::schedule_locked(TaskBase* t, const Decision& d, TimePoint now) {
  if (!d.again) {
    timers.schedule_backoff_locked(t, now + d.delay, d.paid);
    return;
  }
  timers.schedule_again_locked(t, d.delay == Duration::max() ? TimePoint::max() : now + d.delay);
}

// ---- protection ------------------------------------------------------------------------------

BreakerTicket Engine::admit(TimePoint now) {
  BreakerTicket ticket = guard.breaker()->admit(now);
  if (ticket.moved) breaker_moved(*ticket.moved);
  return ticket;
}

void Engine::guard_outcome(const TaskBase* t, const BreakerTicket& ticket, Code code, TimePoint now) {
  if (CircuitBreaker* breaker = guard.breaker()) {
    if (auto moved = breaker->record(code, ticket.generation, now)) breaker_moved(*moved);
  }
  if (RetryBudget* budget = guard.budget(); budget && code == Code::kOk) {
    const TaskExtra* e = node(t).extra;
    budget->on_success(e ? e->retry_paid : 0);
  }
}

void Engine::breaker_moved(const BreakerTransition& m) {
  {
    std::unique_lock<std::mutex> lk(mu, std::defer_lock);
    lock_spin(lk);
    guard.moved_locked(m);
  }
  emit_breaker(m);
}

void Engine::emit_breaker(const BreakerTransition& m) {
  guard.events.publish(m, [this](const BreakerTransition& due) {
    if (!obs.wants(PoolEvent::kBreakerChanged)) return;
    EventInfo e{};
    e.event = PoolEvent::kBreakerChanged;
    e.breaker_from = due.from;
    e.breaker_to = due.to;
    if (due.to == BreakerState::kOpen) e.open_until = due.open_until;
    obs.emit(e);
  });
}

void Engine::emit_retry(const TaskBase* t, const Status& status, Duration exec, Duration delay, bool again) {
  if (!obs.wants(PoolEvent::kTaskRetry)) return;
  EventInfo e = Observation::task_event(PoolEvent::kTaskRetry, t);
  e.duration = exec;
  e.retry_delay = delay;
  e.status = &status;
  if (again) e.reason = "run_again";  // not a failure: the op asked to wait (OpContext)
  obs.emit(e);
}

// ---- completion --------------------------------------------------------------------------------

void Engine::finish(TaskBase* t, Status status, Duration last_exec, TimePoint now, ThreadDuty& duty) {
  // The op's last word comes first: events, metrics, joiners and the caller all see the same.
  if (!status.ok()) status = InternalAccess::last_word(*t, std::move(status));
  const Code code = status.code();
  const bool ok = code == Code::kOk;
  if (TaskExtra* e = node(t).extra; e && e->dedup) finish_joiners(t, status, now);
  TaskExtra::destroy(std::exchange(node(t).extra, nullptr));
  obs.count_completion(code, now);
  const PoolEvent ev = ok ? PoolEvent::kTaskCompleted : PoolEvent::kTaskError;
  if (obs.wants(ev)) {
    EventInfo e = Observation::task_event(ev, t);
    e.duration = last_exec;
    e.status = ok ? nullptr : &status;
    obs.emit(e);
  }
  if (!ok) InternalAccess::fail(*t, std::move(status));
  InternalAccess::complete(*t);  // t may be gone from here on
  const std::size_t left = inflight.fetch_sub(1, std::memory_order_seq_cst) - 1;
  --duty.ops;
  // seq_cst pairs with drain_until(): either it sees `left`, or we see its exclusion and wake it.
  if (left == 0) on_idle();
  else if (left <= drain_excluded.load(std::memory_order_seq_cst)) wake_drainers();
}

void Engine::on_idle() {
  wake_drainers();
  if (obs.wants(PoolEvent::kDrained)) obs.emit_simple(PoolEvent::kDrained);
}

// ---- tuning ------------------------------------------------------------------------------------

void Engine::arm_tuner_locked(TimePoint now) {
  if (tuner && tuner->interval() > Duration::zero()) {
    timers.arm_locked(tuner_timer, now + tuner->interval(), nullptr, TimerNode::kTuner);
  }
}

std::optional<ConcurrencyChange> Engine::tune_tick_locked(TimePoint now, double sample) {
  auto change = tuner->tick_locked(now, dispatch.limit(), sample);
  if (change) dispatch.set_limit_locked(change->new_value, now);
  arm_tuner_locked(now);
  return change;
}

bool Engine::take_send_token_locked(TimePoint now) {
  TimePoint next{};
  const bool took = send_rate->take_locked(now, next);
  if (!send_rate->pacing()) {
    pacing.store(false, std::memory_order_relaxed);
    timers.disarm_locked(send_rate_timer);
    return true;
  }
  if (took) return true;
  if (send_rate_timer.index == TimerNode::kNoIndex || next < send_rate_timer.when) {
    timers.disarm_locked(send_rate_timer);
    timers.arm_locked(send_rate_timer, next, nullptr, TimerNode::kSendRate);
  }
  return false;
}

// ---- drain -------------------------------------------------------------------------------------

void Engine::wake_drainers() {
  if (drain_waiters.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard<std::mutex> g(mu);
  notify_drains_locked();
}

void Engine::notify_drains_locked() {
  drain_cv.notify_all();
  timers.wake_drains_locked();  // a drain on the timer thread waits there
}

// Waits until every op is complete — but for the ops the calling thread itself owes the pool
// (ThreadDuty: drain() called from an op, a completion or a listener) and those owed by other
// threads waiting in drain() the same way: none of them can finish before these drains return.
// The caller's slots are lent to queued work meanwhile. On the timer thread the wait keeps serving
// timers and deferred completions, which the other ops may need.
bool Engine::drain_until(const TimePoint* until) {
  const ThreadDuty::Totals me = ThreadDuty::of(this);
  drain_waiters.fetch_add(1, std::memory_order_seq_cst);
  if (me.ops > 0) drain_excluded.fetch_add(me.ops, std::memory_order_seq_cst);
  bool drained = false;
  {
    std::unique_lock<std::mutex> lk(mu);
    if (me.ops > 0) {
      notify_drains_locked();  // our exclusion may be what another such drain waits for
      dispatch.lend_slots_locked(me.slots);
    }
    if (me.timer) timers.enter_drain_locked();
    TimerScratch scratch;  // used on the timer thread only
    for (;;) {
      const std::size_t excluded = me.ops > 0 ? drain_excluded.load(std::memory_order_seq_cst) : 0;
      if (inflight.load(std::memory_order_seq_cst) <= excluded) {
        drained = true;
        break;
      }
      if (until && clock->now() >= *until) break;
      if (me.timer) {
        if (timers.round(lk, scratch)) continue;
        timers.wait_locked(lk, until);
      } else if (until) {
        clock->wait_until(lk, drain_cv, *until);
      } else {
        drain_cv.wait(lk);
      }
    }
    if (me.timer) timers.leave_drain_locked();
    if (me.ops > 0) dispatch.reclaim_slots_locked(me.slots);
  }
  if (me.ops > 0) drain_excluded.fetch_sub(me.ops, std::memory_order_seq_cst);
  drain_waiters.fetch_sub(1, std::memory_order_seq_cst);
  return drained;
}

}  // namespace s3db::pool
