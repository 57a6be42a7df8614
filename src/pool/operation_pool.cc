// OperationPool public API: construction, submit/run entry points and lifecycle.
#include <s3db/operation_pool.h>

#include <algorithm>
#include <random>

#include "pool/pool_impl.h"

namespace s3db {

using detail::TaskBase;
using detail::TaskExtra;
using pool::RunSlot;

OperationPool::Impl::Impl(PoolOptions o)
    : opts(std::move(o)),
      clock(opts.clock ? opts.clock : steady_clock()),
      policy(opts.retry_policy ? opts.retry_policy : exponential_backoff(opts.backoff)),
      start(clock->now()) {
  int n = std::max(1, opts.concurrency);
  if (opts.adaptive.enabled) {
    opts.adaptive.min_concurrency = std::max(1, opts.adaptive.min_concurrency);
    opts.adaptive.max_concurrency = std::max(opts.adaptive.min_concurrency, opts.adaptive.max_concurrency);
    n = std::clamp(n, opts.adaptive.min_concurrency, opts.adaptive.max_concurrency);
  }
  opts.concurrency = n;
  limit.store(n);
  capacity_since = start;
  window_start = start;
  rng_counter.store(std::random_device{}());
}

OperationPool::OperationPool(PoolOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& p = *impl_;
  p.clock->watch(&p.timer_cv, &p.mu);
  p.clock->watch(&p.drain_cv, &p.mu);
  p.timer_thread = std::thread([&p] { p.timer_main(); });
}

OperationPool::~OperationPool() {
  Impl& p = *impl_;
  stop();
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> g(p.mu);
    p.shutdown = true;
    p.work_cv.notify_all();
  }
  // Workers finish their (cancelled) attempts; none is spawned after shutdown is set.
  for (;;) {
    {
      std::lock_guard<std::mutex> g(p.mu);
      workers.swap(p.workers);
    }
    if (workers.empty()) break;
    for (auto& w : workers) w.join();
    workers.clear();
  }
  {
    std::lock_guard<std::mutex> g(p.mu);
    p.timer_exit = true;  // the timer thread first completes whatever is still deferred
    p.timer_cv.notify_all();
  }
  p.timer_thread.join();
  p.clock->unwatch(&p.timer_cv);
  p.clock->unwatch(&p.drain_cv);
}

const PoolOptions& OperationPool::options() const noexcept { return impl_->opts; }

// ---- submission --------------------------------------------------------------------------------

void OperationPool::Impl::prepare(TaskBase* t, OpOptions& o) {
  t->priority_ = o.priority;
  t->id_ = next_id.fetch_add(1, std::memory_order_relaxed);
  t->enqueued_ns_ = clock->now().time_since_epoch().count();
  if (o.timeout.count() > 0 || o.deadline != TimePoint::max() || o.retries >= 0 || o.retryable) {
    TaskExtra* e = TaskExtra::create();
    e->timeout = o.timeout;
    e->deadline = o.deadline;
    e->retries = o.retries;
    e->retryable = std::move(o.retryable);
    t->extra_ = e;
  }
}

void OperationPool::Impl::submit_prepared(TaskBase* t) {
  if (!t->extra_ && opts.max_queue == 0) {
    // Lock-free path. seq_cst throughout: it pairs with stop() (either stop() sees this op in the
    // inbox or we see `stopped`) and with idle workers / releasing slots (either they see the op
    // or we see them and take the mutex to wake them).
    queued.fetch_add(1, std::memory_order_seq_cst);
    TaskBase* head = inbox.load(std::memory_order_relaxed);
    do {
      t->next_ = head;
    } while (!inbox.compare_exchange_weak(head, t, std::memory_order_seq_cst, std::memory_order_relaxed));
    if (stopped.load(std::memory_order_seq_cst)) {
      std::lock_guard<std::mutex> g(mu);
      reject_queued_locked();
      return;
    }
    // No wake-up while a worker is searching: it drains the inbox after it stops searching (see
    // worker_main). None when every slot is busy: the holder drains the inbox when it lets go.
    const bool slot_free = active.load(std::memory_order_seq_cst) < limit.load(std::memory_order_seq_cst);
    if (slot_free && searching.load(std::memory_order_seq_cst) == 0) {
      std::unique_lock<std::mutex> lk(mu, std::defer_lock);
      pool::lock_spin(lk);
      kick_locked(1);
    }
    // Saturation (what lets adaptive AIMD raise the limit) means an op had to wait for a slot;
    // one submitted while a slot was free says nothing of the kind.
    if (!slot_free) saturated.store(true, std::memory_order_relaxed);
    return;
  }
  std::unique_lock<std::mutex> lk(mu, std::defer_lock);
  pool::lock_spin(lk);
  for (;;) {
    if (stopped.load(std::memory_order_relaxed)) {
      defer_locked(t, Status::Cancelled("pool stopped"));
      return;
    }
    if (opts.max_queue == 0 || queue.size() < opts.max_queue) break;
    if (opts.when_full == QueueFullPolicy::kReject) {
      defer_locked(t, Status::Throttled("operation pool queue full", "max_queue reached"));
      return;
    }
    ++space_waiters;
    space_cv.wait(lk);
    --space_waiters;
  }
  enqueue_locked(t);
}

// Bypass: the op runs on the calling thread now, outside the limit; it is still cancellable by
// its timeout/deadline and by stop().
Status OperationPool::Impl::run_bypass(TaskBase* t) {
  OpContext ctx;
  RunSlot slot;
  slot.ctx = &ctx;
  TimePoint now = clock->now();
  {
    std::lock_guard<std::mutex> g(mu);
    register_locked(slot, t, now);
  }
  Status st;
  if (now >= op_deadline(t)) {
    st = Status::Timeout("deadline passed before the operation started");
  } else {
    st = t->attempt(ctx);
    const TimePoint end = clock->now();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(end - now).count();
    execution.record(static_cast<std::uint64_t>(ns));
  }
  ctx.clear_on_cancel();
  if (!st.ok() && ctx.cancelled()) st = ctx.cancel_status();
  std::unique_lock<std::mutex> lk(mu);
  unregister_locked(lk, slot);
  return st;
}

void OperationPool::submit_erased(detail::TaskBase* task, OpOptions options) {
  Impl& p = *impl_;
  p.inflight.fetch_add(1, std::memory_order_seq_cst);
  p.prepare(task, options);
  if (options.bypass) {
    Status st;
    {
      pool::ThreadDuty duty(&p, 1, 0);
      st = p.run_bypass(task);
    }
    std::lock_guard<std::mutex> g(p.mu);
    p.defer_locked(task, std::move(st));  // completion never runs inside submit()
    return;
  }
  p.submit_prepared(task);
}

void OperationPool::run_erased(detail::TaskBase& task, OpOptions options) {
  Impl& p = *impl_;
  TaskBase* t = &task;
  p.inflight.fetch_add(1, std::memory_order_seq_cst);
  const bool plain = !options.bypass && options.timeout.count() == 0 && options.deadline == TimePoint::max() &&
                     options.retries < 0 && !options.retryable && p.opts.default_timeout.count() == 0;
  if (plain && !p.paused.load(std::memory_order_acquire) && !p.stopped.load(std::memory_order_acquire) &&
      p.queued.load(std::memory_order_seq_cst) == 0 && p.try_acquire_slot()) {
    // Fast path: a free slot and an empty queue — run inline, no mutex, no allocation.
    pool::ThreadDuty duty(&p, 1, 1);
    t->priority_ = options.priority;
    t->id_ = p.next_id.fetch_add(1, std::memory_order_relaxed);
    OpContext ctx;
    const TimePoint t0 = p.clock->now();
    p.queue_wait.record(0);
    if (p.wants(PoolEvent::kTaskStarted)) p.emit(Impl::task_event(PoolEvent::kTaskStarted, t));
    Status st = t->attempt(ctx);
    const TimePoint t1 = p.clock->now();
    const Duration exec = t1 - t0;
    const auto ns = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(exec).count());
    p.execution.record(ns);
    p.busy_ns.fetch_add(ns, std::memory_order_relaxed);
    ctx.clear_on_cancel();
    const Code attempt_code = st.code();
    Impl::Decision d = p.decide(t, std::move(st), ctx, t1);
    std::optional<pool::ConcurrencyChange> change;
    if (p.opts.adaptive.enabled) {
      std::lock_guard<std::mutex> g(p.mu);
      change = p.feedback_locked(attempt_code, exec, t1);
    }
    if (change) p.emit_change(*change);
    if (!d.retry) {
      p.release_slot();
      duty.slots = 0;
      p.finish(t, std::move(d.status), exec, t1, duty);
      return;
    }
    // A retry: the slot is released for the backoff and the next attempt goes through the queue.
    t->extra_ = TaskExtra::create();
    p.emit_retry(t, d.status, exec, d.delay);
    {
      std::lock_guard<std::mutex> g(p.mu);
      if (p.stopped.load(std::memory_order_relaxed)) {
        d.retry = false;
        d.status = Status::Cancelled("pool stopped", d.status.to_string());
      } else {
        p.schedule_backoff_locked(t, t1 + d.delay);
        duty.ops = 0;  // the next attempt is the queue's
      }
    }
    p.release_slot();
    duty.slots = 0;
    if (!d.retry) {
      p.finish(t, std::move(d.status), exec, t1, duty);
      return;
    }
    detail::wait_done(task);
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
  Impl& p = *impl_;
  {
    std::lock_guard<std::mutex> g(p.mu);
    if (p.paused.exchange(true)) return;
  }
  p.emit_simple(PoolEvent::kPaused);
}

void OperationPool::resume() {
  Impl& p = *impl_;
  {
    std::lock_guard<std::mutex> g(p.mu);
    if (!p.paused.exchange(false)) return;
    p.kick_locked(p.queue.size());
  }
  p.emit_simple(PoolEvent::kResumed);
}

void OperationPool::drain() { (void)impl_->drain_until(nullptr); }

bool OperationPool::drain_for(Duration timeout) {
  const TimePoint until = impl_->clock->now() + timeout;
  return impl_->drain_until(&until);
}

// Waits until every op is complete — but for the ops the calling thread itself owes the pool
// (pool::ThreadDuty: drain() called from an op, a completion or a listener) and those owed by
// other threads waiting in drain() the same way: none of them can finish before these drains
// return. The caller's slots are lent to queued work meanwhile. On the timer thread the wait keeps
// serving timers and deferred completions, which the other ops may need.
bool OperationPool::Impl::drain_until(const TimePoint* until) {
  const pool::ThreadDuty::Totals me = pool::ThreadDuty::of(this);
  drain_waiters.fetch_add(1, std::memory_order_seq_cst);
  if (me.ops > 0) drain_excluded.fetch_add(me.ops, std::memory_order_seq_cst);
  bool drained = false;
  {
    std::unique_lock<std::mutex> lk(mu);
    if (me.ops > 0) {
      drain_cv.notify_all();  // our exclusion may be what another such drain waits for
      if (timer_drains > 0) timer_cv.notify_all();
      active.fetch_sub(static_cast<int>(me.slots), std::memory_order_seq_cst);
      if (me.slots > 0) kick_locked(me.slots);
    }
    if (me.timer) ++timer_drains;
    pool::TimerScratch scratch;  // used on the timer thread only
    for (;;) {
      const std::size_t excluded = me.ops > 0 ? drain_excluded.load(std::memory_order_seq_cst) : 0;
      if (inflight.load(std::memory_order_seq_cst) <= excluded) {
        drained = true;
        break;
      }
      if (until && clock->now() >= *until) break;
      if (me.timer) {
        if (timer_round(lk, scratch)) continue;
        const detail::TimerNode* top = timers.top();
        const TimePoint next = top ? top->when : TimePoint::max();
        clock->wait_until(lk, timer_cv, until ? std::min(next, *until) : next);
      } else if (until) {
        clock->wait_until(lk, drain_cv, *until);
      } else {
        drain_cv.wait(lk);
      }
    }
    if (me.timer) --timer_drains;
    if (me.ops > 0) active.fetch_add(static_cast<int>(me.slots), std::memory_order_seq_cst);
  }
  if (me.ops > 0) drain_excluded.fetch_sub(me.ops, std::memory_order_seq_cst);
  drain_waiters.fetch_sub(1, std::memory_order_seq_cst);
  return drained;
}

void OperationPool::stop() {
  Impl& p = *impl_;
  std::vector<TaskBase*> rejected;
  std::vector<RunSlot*> to_cancel;
  {
    std::lock_guard<std::mutex> g(p.mu);
    if (p.stopped.exchange(true, std::memory_order_seq_cst)) return;
    p.drain_inbox_locked();
    p.queue.take_all(rejected);
    p.queued.fetch_sub(rejected.size(), std::memory_order_seq_cst);
    for (TaskBase* t : rejected) {
      t->pool_flags_ = 0;
      if (t->extra_) p.timers.remove(&t->extra_->timer);
    }
    // Ops waiting out a retry backoff are rejected too.
    std::vector<detail::TimerNode*> backoffs;
    for (detail::TimerNode* n : p.timers.nodes()) {
      if (n->kind == detail::TimerNode::kBackoff) backoffs.push_back(n);
    }
    for (detail::TimerNode* n : backoffs) {
      p.timers.remove(n);
      auto* t = static_cast<TaskBase*>(n->owner);
      t->pool_flags_ = 0;
      rejected.push_back(t);
    }
    p.backoff_count = 0;
    for (RunSlot* s = p.running; s; s = s->next) {
      ++s->cancel_pending;
      to_cancel.push_back(s);
    }
    p.space_cv.notify_all();
    p.work_cv.notify_all();
  }
  for (RunSlot* s : to_cancel) s->ctx->cancel(Status::Cancelled("pool stopped"));
  if (!to_cancel.empty()) {
    std::lock_guard<std::mutex> g(p.mu);
    for (RunSlot* s : to_cancel) --s->cancel_pending;
    p.cancel_cv.notify_all();
  }
  const TimePoint now = p.clock->now();
  pool::ThreadDuty duty(&p, rejected.size(), 0);
  for (TaskBase* t : rejected) p.finish(t, Status::Cancelled("pool stopped"), Duration{}, now, duty);
  p.emit_simple(PoolEvent::kStopped);
}

void OperationPool::set_concurrency(int n) {
  Impl& p = *impl_;
  n = std::max(1, n);
  int old = 0;
  {
    std::lock_guard<std::mutex> g(p.mu);
    old = p.set_limit_locked(n, p.clock->now());
  }
  if (old != n) p.emit_change(pool::ConcurrencyChange{old, n, "set_concurrency"});
}

}  // namespace s3db
