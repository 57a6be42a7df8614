// s3db/operation_pool.h — the one queue every storage operation of a client goes through.
//
// Contract (see docs/operation-pool.md for the full text)
// - submit(op, options) queues `op`, a callable `Result<T>(OpContext&)` or `Status(OpContext&)`,
//   and returns a Future at once. The op runs on a pool thread when a concurrency slot is free;
//   higher `priority` first, FIFO among equal priorities — whatever mix of ops with and without
//   options is submitted (a retry, or an op released by the circuit breaker, re-enters behind the
//   ops already waiting at its priority).
// - run(op, options) is the synchronous form: when a slot is free and nothing is queued it runs
//   inline on the caller's thread (the fast path), otherwise it queues and waits.
// - Completion fires exactly once per op, never inside submit(). The concurrency slot is released
//   before the completion (Future::then callbacks, waiters) runs, so a completion may submit work.
// - Retries: only when the attempt's Status is retryable (or the OpOptions::retryable override says
//   so), up to `retries` times (by default the policy's limit for that failure: Throttled is
//   allowed more, BackoffOptions::throttled_max_retries), with exponential backoff and full jitter;
//   a Status carrying retry_after() waits that long (capped at BackoffOptions::retry_after_cap,
//   jittered upwards by up to retry_after_jitter). The slot is released while waiting.
// - Run again (OpContext::run_again_after / run_again_when_woken): an attempt that asks for it
//   and returns non-OK is not a failure retry. The slot is released, the op waits on the pool's
//   Clock (or until wake(op_id)), then re-enters the queue behind the ops waiting at its
//   priority, with the same attempt number: no retry counted (stats().ran_again instead), no
//   retry-budget token, a healthy outcome for the breaker and the adaptive limit; task_retry
//   carries reason "run_again". The deadline ends it with Timeout (at once when a pause would
//   end at or after it), stop() with Cancelled; a cancelled attempt is a failure as usual.
// - Protection (s3db/pool_protection.h; both off by default; a bypass op is outside both):
//   * PoolOptions::breaker — every attempt asks the circuit breaker first and reports its outcome.
//     A refused attempt never reaches the op: the op fails at once with Unavailable "circuit open
//     until <ISO-8601 UTC> (in N s)" (retry_after() = the time left) and the pool does NOT retry
//     it (final: no retry attempt, no retry-budget token spent); or, with wait_when_open, the op
//     waits out of the queue and without a slot until the circuit may admit it, then re-enters
//     the queue (same attempt number). A waiting op ends with Timeout at its deadline — at once
//     when the deadline comes before the circuit can half-open — and with Cancelled on stop().
//     Every transition emits breaker_changed, in the order the transitions happened.
//   * PoolOptions::retry_budget — each retry first takes its cost from the pool's bucket; when
//     the bucket cannot pay, the failure is final at once: the same Code, its message prefixed
//     with "retry budget spent, not retried". Successes refill the bucket.
// - The op's last word: when the pool ends an op with a failure — its own final failure, retries
//   exhausted, the retry budget spent, a deadline, stop(), a breaker refusal — and the op object
//   has `Status final_status(Status)`, that is called with the failure (on the completing thread,
//   once, the op object still alive) and what it returns is the op's result: events, metrics,
//   deduplicated joiners and the caller all see it. A last word that is OK or throws changes
//   nothing. Why: only the op knows what its earlier attempts left behind (the db write loop turns
//   a failure into UnknownOutcome while a write whose outcome is unknown is outstanding, whichever
//   reason the pool had to stop retrying).
// - Timeouts are cancellations: when an attempt's `timeout` or the op's `deadline` passes, its
//   OpContext is cancelled (the op's registered on_cancel callback runs, e.g. aborting a transfer)
//   and the attempt is reported as Timeout. A timed-out attempt has returned before its retry
//   starts. A deadline covers queue wait, every attempt and every backoff.
// - pause() stops starting new ops; resume() restarts; drain() waits until queue and in-flight are
//   empty (returns at once when paused with an empty queue; waits for resume() otherwise);
//   stop() rejects queued ops with Cancelled and cancels running ones through their OpContext;
//   submit() after stop() completes at once (on another thread) with Cancelled.
// - drain()/drain_for() from inside the pool — an op, a then() continuation or an event listener
//   running on behalf of this pool — waits for every OTHER op and returns when the only ones left
//   in flight are the caller's own (the op it runs, the completion it runs and those it has yet to
//   run in the same batch, an op its thread already took) and those of other threads waiting in
//   such a drain: none of these can finish before the drain returns, so waiting for them would be
//   a deadlock. (Not an error: "everything else I started is done" is what a caller there means.)
//   Slots the caller holds are lent to queued work while it waits, so it returns even with
//   concurrency 1; its op then finishes above the limit for a moment. The bookkeeping is a
//   thread-local frame per running op: no allocation, no atomic on the fast path.
// - A bounded queue (max_queue) applies backpressure: submit() blocks until there is room, or fails
//   fast with Throttled, as `when_full` says.
// - Deduplication (OpOptions::dedup_key; off when empty — then it costs nothing): an op submitted
//   while an op with the same key and the same result type is in flight JOINS it instead of
//   running: the leader's op runs once and every joiner completes with a copy of the leader's
//   final outcome (value or error), on the thread that completes the leader, after it. A joiner
//   makes no attempt: no slot, no task_started, no retries of its own; its timeout, retries and
//   retryable are not used and its priority does not raise the leader's. Its own deadline holds:
//   at its deadline it ends with Timeout while the leader runs on. It joins only a leader whose
//   deadline is not earlier than its own (else it runs alone). stop() ends every joiner with
//   Cancelled. Same key, another result type (or a result type that cannot be copied), or bypass:
//   no sharing, the op runs alone. With dedup_ttl > 0 a leader's result that is OK or NotFound
//   (the store's answer; never a failure of the path: Timeout, Cancelled, Throttled, ...) is
//   reused, for later ops of that key that also set dedup_ttl, while it is younger than both
//   TTLs on the pool's Clock (completed at once, never inside submit()). invalidate_dedup(prefix)
//   separates every op submitted after it from the ops before it whose key starts with `prefix`
//   (in-flight leaders keep the joiners they have and keep no TTL result): read-your-writes.
//   PoolStats::deduplicated counts joins and reuses; each joiner still counts once in processed.
//   A leader that runs() its own key from inside its op waits for itself: don't.
// - Errors: Cancelled (stop), Timeout (timeout/deadline), Throttled (queue full with kReject),
//   Unavailable (circuit open), or the op's own Status. An op that throws completes with Internal
//   naming the exception.
// - Observability: stats(), metrics() and prometheus() are snapshots, callable from any thread
//   while the pool works (figures read with relaxed atomics: each exact, not mutually atomic);
//   nothing they report is recorded per op beyond the counters and histograms below. The same
//   metrics as JSON: s3db/pool_json.h; in a prometheus-cpp exposition: s3db/prometheus.h.
// - Thread safety: every member function may be called from any thread, including from inside an
//   op or a completion. Event listeners run on pool threads; a throwing listener is ignored.
// - Ownership: the pool owns its threads; the destructor calls stop() and joins them. Futures may
//   outlive the pool.
#pragma once

#include <s3db/clock.h>
#include <s3db/op_context.h>
#include <s3db/pool_protection.h>
#include <s3db/status.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace s3db {

// OpContext, what an op sees of its attempt, has its own header: s3db/op_context.h.

// ---------------------------------------------------------------------------------------------
// Per-operation options.
struct OpOptions {
  int priority = 0;                        // higher runs first
  std::chrono::milliseconds timeout{0};    // per attempt; 0 = PoolOptions::default_timeout (0 = none)
  TimePoint deadline = TimePoint::max();   // end-to-end: queue wait + all attempts + backoffs
  int retries = -1;                        // -1 = the pool's retry policy decides
  std::function<bool(const Status&)> retryable;  // overrides Status::retryable() when set
  bool bypass = false;  // run on the caller's thread now: no queue, no limit, no retries, no breaker
  // Deduplication (see the contract above): ops with the same non-empty key share one execution;
  // a result younger than dedup_ttl (0 = share only while in flight) is reused.
  std::string dedup_key;
  std::chrono::milliseconds dedup_ttl{0};
};

// ---------------------------------------------------------------------------------------------
// Retry policy: which failures retry and how long to wait before the next attempt.
class RetryPolicy {
 public:
  virtual ~RetryPolicy() = default;
  // Default number of retries for ops that do not set OpOptions::retries.
  virtual int max_retries() const noexcept = 0;
  // The same after `failure` (already known retryable): a policy may be more patient with some
  // failures than with others (exponential_backoff() is, with Throttled).
  virtual int max_retries_after(const Status& failure) const noexcept {
    (void)failure;
    return max_retries();
  }
  // `attempt` is the 1-based attempt that just failed with `status` (already known retryable).
  virtual std::chrono::milliseconds delay(const Status& status, int attempt,
                                          std::uint64_t random) const noexcept = 0;
};

struct BackoffOptions {
  int max_retries = 3;
  // Throttled failures are patient: up to max(max_retries, throttled_max_retries) retries, with a
  // longer first delay — a throttling store asks for time, not for fewer attempts. max_retries = 0
  // still turns every retry off. (A PoolOptions::retry_budget, when on, bounds them all.)
  int throttled_max_retries = 8;
  std::chrono::milliseconds base{100};            // first delay ceiling for Unavailable/Timeout
  std::chrono::milliseconds throttled_base{1000};  // first delay ceiling for Throttled
  std::chrono::milliseconds cap{20000};            // no delay ceiling exceeds this
  // A server's Retry-After is honoured, but capped (a buggy or hostile "retry in a day" must not
  // park an op for a day) and jittered upwards (clients told the same instant must not all come
  // back at that instant): the wait is uniform in [r, r + r·retry_after_jitter], r = min(Retry-After,
  // retry_after_cap).
  std::chrono::milliseconds retry_after_cap{30000};
  double retry_after_jitter = 0.2;
};

// Exponential backoff with full jitter: delay = random in [0, min(cap, base * 2^(attempt-1))];
// after a Retry-After, the capped and jittered wait above instead.
std::shared_ptr<const RetryPolicy> exponential_backoff(BackoffOptions options = {});

// ---------------------------------------------------------------------------------------------
// Adaptive concurrency: a tuner moves the limit within [min_concurrency, max_concurrency] and
// emits concurrency_changed{old, new, reason} for every change (PoolStats::concurrency shows it).
//   aimd (the default): multiplicative decrease, at most once per `window`, on Throttled /
//        Unavailable / Timeout (reasons "throttled", "unavailable", "timeout"); +increase_step at
//        the end of a window in which an op had to wait for a slot ("saturated"); latency guard:
//        mean of the window's successful attempts above target_latency → decrease ("latency").
//   note: the design note's rules, every `interval`, the first that applies: memory ≥
//        memory_target −20 % ("memory-pressure"); latency > 1.5 × target −10 % ("latency-high");
//        latency < 0.5 × target and memory < 0.8 × memory_target +20 % ("latency-low"); latency >
//        1.2 × target −5 % ("latency-moderate"). Latency: mean of the interval's successful
//        attempts (target_latency; 0 = 100 ms); memory: the process's share of memory_limit.
//   With send_rate (aimd's default), Throttled is a rate signal, not a concurrency one: the pool
//        learns the request rate the store accepts and paces attempts to it (a token bucket; the
//        queue keeps its order), growing the rate back as a cubic of the time since the store
//        last throttled, and stops pacing once the rate doubled without a throttle. Throttles at
//        the store's noise floor (a share it throttles at any rate) are no signal. Rules:
//        src/pool/send_rate.h; PoolStats/PoolMetrics::send_rate show it.
// Start value: PoolOptions::concurrency within [min, max]; 0 = the memory-based suggestion (the
// memory left under memory_target at 4 MiB an op, within [min, max]; 50 when memory is unknown).
//   aimd with a memory-based start (0) and slow_start_from > 0 starts at slow_start_from and
//        doubles at the end of each saturated window ("slow_start") up to the suggestion, until
//        its first decrease: the first window of a remote import then sends
//        slow_start_from requests at a time, not the suggestion's hundreds into a store whose
//        limit is unknown (most of them throttled before the first answer comes back).
// Ticks and windows follow the pool's Clock; no thread of their own (the pool's timer thread).
enum class TunerKind : std::uint8_t { kAimd, kNote };

struct AdaptiveOptions {
  bool enabled = false;
  TunerKind tuner = TunerKind::kAimd;
  int min_concurrency = 2;
  int max_concurrency = 256;
  std::chrono::milliseconds window{1000};      // aimd: at most one decrease per window
  double decrease_factor = 0.7;                // aimd: multiplicative decrease on Throttled/Unavailable/Timeout
  int increase_step = 1;                       // aimd: additive increase per window while saturated
  std::chrono::milliseconds target_latency{0};  // aimd: latency guard, 0 = off; note: target, 0 = 100 ms
  std::chrono::milliseconds interval{5000};     // note: how often the rules run
  double memory_target = 0.7;                   // note + start value: share of memory_limit to stay under
  std::uint64_t memory_limit = 0;               // bytes; 0 = the cgroup's limit or the machine's memory
  // Bytes in use; null = the process's resident set. (A plain function: tests inject it, and a
  // std::function here trips g++ 12's maybe-uninitialized in every ClientOptions{} temporary.)
  std::uint64_t (*memory_usage)() = nullptr;
  bool send_rate = true;    // aimd: Throttled teaches a send rate instead of lowering the limit
  int slow_start_from = 8;  // aimd with a memory-based start: the first limit (0 = no slow start)
};

enum class QueueFullPolicy { kBlock, kReject };

struct PoolOptions {
  int concurrency = 50;  // fixed limit, or the start value when adaptive (0 = memory-based, see above)
  AdaptiveOptions adaptive;
  BackoffOptions backoff;                        // used when retry_policy is null
  std::shared_ptr<const RetryPolicy> retry_policy;
  std::chrono::milliseconds default_timeout{0};  // per attempt; 0 = none
  std::size_t max_queue = 0;                     // 0 = unbounded
  QueueFullPolicy when_full = QueueFullPolicy::kBlock;
  std::shared_ptr<Clock> clock;                  // null = steady_clock()
  std::string name = "s3db";                     // Prometheus label pool="name"
  CircuitBreakerOptions breaker;                 // off by default (s3db/pool_protection.h)
  RetryBudgetOptions retry_budget;               // off by default (s3db/pool_protection.h)
};

// ---------------------------------------------------------------------------------------------
// Observability.
struct PoolStats {
  std::size_t queue_size = 0;
  std::size_t active = 0;
  std::uint64_t processed = 0;  // ops completed (any outcome)
  std::uint64_t errors = 0;     // ops completed with a non-OK Status
  std::uint64_t retries = 0;    // retry attempts started
  std::uint64_t ran_again = 0;  // run-again pauses (OpContext::run_again_after): not retries
  int concurrency = 0;
  bool paused = false;
  bool stopped = false;
  // Protection (s3db/pool_protection.h); zero / closed while the part is off.
  bool breaker_enabled = false;
  BreakerState breaker_state = BreakerState::kClosed;
  std::uint64_t breaker_opened = 0;   // times the circuit opened
  std::uint64_t breaker_refused = 0;  // attempts the breaker turned away (a waiting op: each time)
  bool retry_budget_enabled = false;
  int retry_budget_tokens = 0;              // tokens in the bucket now
  std::uint64_t retry_budget_refused = 0;  // retries refused: failures the empty bucket made final
  std::uint64_t deduplicated = 0;  // ops that joined an in-flight op or reused a TTL result
  double send_rate = 0;            // requests/s attempts are paced to; 0 = not pacing (AdaptiveOptions)
  int cap = -1;                    // set_cap(): at most this many attempts at once; -1 = no cap
};

// Upper bounds (seconds) of the cumulative latency buckets of LatencySummary::at_most — the
// Prometheus histogram buckets `le`.
inline constexpr std::array<double, 12> kLatencyBucketBounds = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05,
                                                                0.1,    0.5,    1,     5,     10,   30};

struct LatencySummary {
  std::uint64_t count = 0;
  double avg_ms = 0, p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
  double sum_s = 0;  // total of every sample
  // at_most[i]: samples at or below kLatencyBucketBounds[i] (cumulative; a sample counts in the
  // first bound its histogram bucket lies entirely under).
  std::array<std::uint64_t, kLatencyBucketBounds.size()> at_most{};
};

// One concurrency change, by set_concurrency() or a tuner. `reason` is the static string the
// change was made with ("set_concurrency", "throttled", "saturated", ...).
struct ConcurrencyDecision {
  int old_value = 0, new_value = 0;
  std::string_view reason;
  double at_s = 0;  // pool uptime (pool clock) when it happened
};

// Every concurrency change since the pool started: counted by reason, and the last one.
struct ConcurrencyDecisions {
  static constexpr std::size_t kReasons = 8;  // distinct reasons kept; later ones count as "other"
  struct ByReason {
    std::string_view reason;
    std::uint64_t count = 0;
  };
  std::uint64_t total = 0;
  std::array<ByReason, kReasons> by_reason{};  // the first `reasons` entries, in order of first use
  std::size_t reasons = 0;
  ConcurrencyDecision last;  // meaningful when total > 0
};

struct BreakerMetrics {  // the circuit breaker (s3db/pool_protection.h); zero / closed while off
  bool enabled = false;
  BreakerState state = BreakerState::kClosed;
  std::uint64_t opened = 0;   // times the circuit opened
  std::uint64_t refused = 0;  // attempts it turned away
};

struct RetryBudgetMetrics {  // the retry budget (s3db/pool_protection.h); zero while off
  bool enabled = false;
  int tokens = 0;             // tokens in the bucket now
  std::uint64_t refused = 0;  // retries refused: failures the empty bucket made final
};

struct SendRateMetrics {  // the rate learnt from throttling (AdaptiveOptions::send_rate); zero while off
  bool enabled = false;
  bool pacing = false;
  double rate = 0;               // requests/s attempts are paced to now (0 while not pacing)
  double accepted = 0;           // requests/s the store accepted over the last window
  std::uint64_t signals = 0;     // throttle signals that started pacing or lowered the rate
};

struct PoolMetrics {
  LatencySummary queue_wait;  // submit → first start
  LatencySummary execution;   // per attempt
  double throughput_current = 0;  // completions/s over the last second
  double throughput_peak = 0;     // best one-second window so far
  double throughput_avg = 0;      // completions / seconds since the pool started
  std::array<std::uint64_t, kCodeCount> errors_by_code{};  // indexed by static_cast<int>(Code)
  double utilisation = 0;  // average active / concurrency since start, in [0, 1]
  int concurrency = 0;
  std::uint64_t processed = 0;
  double uptime_s = 0;
  // The rest of the design note's detailed shape, and the protective parts.
  std::uint64_t errors = 0;      // ops completed with a non-OK Status
  double error_rate = 0;         // errors / processed since start, in [0, 1]
  double concurrency_avg = 0;    // the limit averaged over time since start
  BreakerMetrics breaker;
  RetryBudgetMetrics retry_budget;
  ConcurrencyDecisions decisions;
  SendRateMetrics send_rate;
};

enum class PoolEvent : std::uint8_t {
  kTaskStarted, kTaskCompleted, kTaskError, kTaskRetry,
  kDrained, kPaused, kResumed, kStopped, kConcurrencyChanged, kBreakerChanged,
};
inline constexpr int kPoolEventCount = 10;
std::string_view event_name(PoolEvent e) noexcept;  // "task_started", ...

struct EventInfo {
  PoolEvent event;
  std::uint64_t task_id = 0;   // task events
  int priority = 0;
  int attempt = 0;
  Duration queue_wait{};       // task_started
  Duration duration{};         // task_completed / task_error: the last attempt
  const Status* status = nullptr;  // task_error / task_retry
  Duration retry_delay{};      // task_retry
  int old_concurrency = 0, new_concurrency = 0;  // concurrency_changed
  std::string_view reason;     // concurrency_changed: "set_concurrency", "throttled", ...
  BreakerState breaker_from = BreakerState::kClosed, breaker_to = BreakerState::kClosed;  // breaker_changed
  TimePoint open_until{};      // breaker_changed to open: when it half-opens (pool clock)
};

using EventListener = std::function<void(const EventInfo&)>;

// Unsubscribes on destruction (or reset()). Must not outlive the pool unless reset() first.
class Subscription {
 public:
  Subscription() = default;
  Subscription(Subscription&& o) noexcept : unsub_(std::move(o.unsub_)) { o.unsub_ = nullptr; }
  Subscription& operator=(Subscription&& o) noexcept {
    if (this != &o) { reset(); unsub_ = std::move(o.unsub_); o.unsub_ = nullptr; }
    return *this;
  }
  ~Subscription() { reset(); }
  void reset() { if (unsub_) { auto f = std::move(unsub_); unsub_ = nullptr; f(); } }
  explicit Subscription(std::function<void()> unsub) : unsub_(std::move(unsub)) {}

 private:
  std::function<void()> unsub_;
};

// ---------------------------------------------------------------------------------------------
template <class T>
using OpResult = std::conditional_t<std::is_void_v<T>, Status, Result<T>>;

namespace detail {
template <class R> struct OpValue;
template <> struct OpValue<Status> { using type = void; };
template <class T> struct OpValue<Result<T>> { using type = T; };
template <class F>
using OpValueT = typename OpValue<std::decay_t<std::invoke_result_t<F&, OpContext&>>>::type;
}  // namespace detail
}  // namespace s3db

#include <s3db/detail/future.h>  // Future<T> and the type-erased task (implementation detail)
#include <s3db/detail/dedup.h>   // the typed half of dedup_key (implementation detail)

namespace s3db {

class OperationPool {
 public:
  explicit OperationPool(PoolOptions options = {});
  ~OperationPool();
  OperationPool(const OperationPool&) = delete;
  OperationPool& operator=(const OperationPool&) = delete;

  template <class F>
  Future<detail::OpValueT<F>> submit(F&& op, OpOptions options = {}) {
    using T = detail::OpValueT<F>;
    if constexpr (detail::kDedupable<T>) {
      if (!options.dedup_key.empty() && !options.bypass) {
        auto mine = std::make_shared<detail::DedupValue<T>>();
        auto* task = detail::make_task<T>(detail::Deduplicated<T, std::decay_t<F>>{std::forward<F>(op), mine});
        Future<T> future(task);
        submit_dedup_erased(task, options, std::move(mine), typeid(T), false);
        return future;
      }
    }
    auto* task = detail::make_task<T>(std::forward<F>(op));
    Future<T> future(task);
    submit_erased(task, options);
    return future;
  }

  template <class F>
  OpResult<detail::OpValueT<F>> run(F&& op, OpOptions options = {}) {
    using T = detail::OpValueT<F>;
    if constexpr (detail::kDedupable<T>) {
      if (!options.dedup_key.empty() && !options.bypass) {
        using Op = detail::Deduplicated<T, std::remove_reference_t<F>&>;
        Op dedup{op, std::make_shared<detail::DedupValue<T>>()};
        detail::InlineTask<T, Op> task(dedup);
        submit_dedup_erased(&task, options, dedup.mine, typeid(T), true);
        return task.take_result();
      }
    }
    detail::InlineTask<T, std::remove_reference_t<F>> task(op);
    run_erased(task, options);
    return task.take_result();
  }

  void pause();
  void resume();
  void drain();
  bool drain_for(Duration timeout);
  void stop();
  void set_concurrency(int n);
  // A cap on the limit from outside the pool: at most `n` attempts run at once whatever the
  // limit (fixed or tuned), until the cap changes; n < 0 removes it, n = 0 lets nothing start.
  // The limit itself (stats().concurrency, the tuner's decisions) is untouched; stats().cap shows
  // the cap. What caps a pool: the permits it holds of a limit shared by several processes
  // (s3db_coord's SharedLimit). Any thread; ops already running are not interrupted.
  void set_cap(int n);
  // `fn` runs when an op is submitted and the cap — not the limit — leaves it no slot: whoever
  // sets the cap hears at once that more is wanted. At most once per set_cap() call (each call,
  // even with the same n, re-arms it); on the submitting thread, with no pool lock held; it must
  // be quick and must not call into the pool. Replacing it (nullptr: none) waits for a call in
  // progress to end.
  void on_cap_wait(std::function<void()> fn);
  // Ends the run-again wait of op `op_id` (OpContext::op_id()) now: it re-enters the queue. A wake
  // that comes while the op is still in the attempt that will ask to wait is kept for it.
  void wake(std::uint64_t op_id);
  // Read-your-writes for deduplicated ops: ops submitted from now on with a dedup_key starting
  // with `key_prefix` join no op submitted before this call and reuse none of their results.
  void invalidate_dedup(std::string_view key_prefix);
  // True while no dedup key is in flight or kept: invalidate_dedup() would have nothing to do, so
  // a writer may skip building its prefix. An op entering the table later was submitted after
  // this answer, so it cannot join a read older than the caller's write. Lock-free.
  bool dedup_idle() const noexcept;

  PoolStats stats() const;
  PoolMetrics metrics() const;
  std::string prometheus() const;  // Prometheus text exposition format 0.0.4
  Subscription on(PoolEvent event, EventListener listener);
  const PoolOptions& options() const noexcept;

 private:
  // `options` is the caller's by-value copy, taken by reference: one OpOptions move fewer per op.
  void submit_erased(detail::TaskBase* task, OpOptions& options);
  void run_erased(detail::TaskBase& task, OpOptions& options);
  // dedup_key set: leads, joins, reuses or runs alone (src/pool/dedup.cc); `wait`: run()'s form.
  void submit_dedup_erased(detail::TaskBase* task, OpOptions& options,
                           std::shared_ptr<detail::DedupValueBase> mine, const std::type_info& type, bool wait);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace s3db
