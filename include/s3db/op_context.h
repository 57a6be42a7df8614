// s3db/op_context.h — what a running operation sees of its attempt: number, deadline, cancellation.
//
// Contract
// - Every op the OperationPool runs (and every StorageClient call) receives an OpContext& for one
//   attempt. It is valid only during that call: do not keep the reference.
// - The pool cancels the context when the attempt's timeout or the op's deadline passes (reason
//   Timeout) or when the pool stops (reason Cancelled). An op must then stop promptly and report
//   cancel_status(); a network client aborts its transfer from an on_cancel() callback.
// - Thread safety: every member but the destructor may be called from any thread; cancel() (the
//   pool's timer thread, stop()) typically races the op's own on_cancel()/clear_on_cancel(), which
//   is safe. The callback runs at most once per attempt, without any pool lock held: on the
//   cancelling thread, which swallows an exception it throws, or inside on_cancel() when the
//   context is already cancelled.
// - Ownership and lifetime: the pool owns the contexts it passes (a worker reuses one across
//   attempts); the op owns whatever its callback touches and must call clear_on_cancel() before
//   destroying it. A default-constructed context is standalone: no deadline, cancelled only by
//   cancel() — useful to call a StorageClient directly, outside a pool.
// - Run again (a pause, not a failure retry — operation_pool.h "Run again"): an op that must wait
//   before it can go on (a write that lost a conflict, a writer waiting for its turn) calls
//   run_again_after() or run_again_when_woken() and returns a non-OK Status; the pool releases its
//   slot, waits on its Clock and runs the op again (same attempt() number: no retry is counted).
//   Both return false, and ask nothing, where the pool cannot do it (a standalone context, a
//   bypass op): the op then waits or goes on by itself.
#pragma once

#include <s3db/clock.h>
#include <s3db/status.h>

#include <atomic>
#include <cstdint>
#include <functional>

namespace s3db {

namespace pool { struct InternalAccess; }  // src/pool/task_node.h: the pool's way in (not API)

class OpContext {
 public:
  OpContext() noexcept;  // standalone: no deadline, cancelled only by cancel()
  OpContext(const OpContext&) = delete;
  OpContext& operator=(const OpContext&) = delete;
  ~OpContext();

  int attempt() const noexcept { return attempt_; }           // 1 for the first attempt
  TimePoint deadline() const noexcept { return deadline_; }   // attempt timeout ∧ op deadline
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_acquire); }
  // Why it was cancelled (Timeout or Cancelled); OK while not cancelled.
  Status cancel_status() const;

  // Registers `fn` to run once when this attempt is cancelled (on the cancelling thread); runs it
  // at once if already cancelled. Replaces an earlier registration. After clear_on_cancel()
  // returns, the callback is neither running nor will it run.
  void on_cancel(std::function<void()> fn);
  void clear_on_cancel() noexcept;

  // Asks the pool to run the op again after `delay` once this attempt returns non-OK. A pause
  // that would end at or after the op's deadline ends the op with Timeout at once. See above.
  bool run_again_after(Duration delay) noexcept;
  // The same, without a delay of its own: the op waits until OperationPool::wake(op_id()), its
  // deadline (Timeout) or stop() (Cancelled).
  bool run_again_when_woken() noexcept;
  // The op's id in its pool (EventInfo::task_id), for OperationPool::wake(); 0 when standalone.
  std::uint64_t op_id() const noexcept { return op_id_; }

  // Cancels the attempt (idempotent; the first reason wins). Used by the pool; public for
  // standalone contexts and tests.
  void cancel(Status reason);

 private:
  // The pool re-arms its contexts for each attempt (number, deadline, not cancelled); nobody else
  // may, hence private and reached only through the pool's internal accessor.
  friend struct pool::InternalAccess;
  void reset_for_attempt(int attempt, TimePoint deadline) noexcept;

  int attempt_ = 1;
  // Run again: op_id_ != 0 while the pool can (set by the pool for each op); again_ is the pause
  // asked for by the attempt (kNotAsked: none; Duration::max(): until woken).
  static constexpr Duration kNotAsked = Duration::min();
  std::uint64_t op_id_ = 0;
  Duration again_ = kNotAsked;
  TimePoint deadline_ = TimePoint::max();
  std::atomic<bool> cancelled_{false};
  struct CancelState;
  // Allocated on first on_cancel()/cancel(), which may race (op thread vs. timer thread): the
  // winner of a compare-exchange installs it.
  std::atomic<CancelState*> cancel_{nullptr};
  CancelState* cancel_state();
};

}  // namespace s3db
