// The pool's private view of the public types it drives: a task's bookkeeping (detail::TaskNode)
// and attempt hooks, and OpContext's per-attempt reset.
//
// Contract
// - pool::InternalAccess is the one friend of detail::TaskBase and OpContext. The public headers
//   only declare it, so code outside src/pool cannot use it: the queue link, priority, id, attempt
//   number and flags of a task, and OpContext::reset_for_attempt(), are not API.
// - node(t).next belongs to whichever list holds the task (the inbox or a queue level).
//   node(t).flags is written only under the pool mutex. priority, id and enqueued_ns are written
//   before the task is published to the pool (submit, run) and only read afterwards; attempt is
//   bumped under the mutex when a retry is scheduled, before the task can be queued again.
// - TaskExtra, the rare per-op state, is allocated from task memory (never malloc) only for ops
//   with options or on a first retry, and freed when the op finishes.
#pragma once

#include <s3db/operation_pool.h>

#include <cstdint>
#include <functional>

#include "pool/timers.h"

namespace s3db {
namespace pool { struct DedupEntry; }  // dedup.h
namespace detail {

// Out-of-line per-op state, allocated only for ops with non-default options or a retry.
struct TaskExtra {
  pool::TimerNode timer;  // backoff or queued-deadline (never both at once)
  TimePoint deadline = TimePoint::max();
  std::chrono::milliseconds timeout{0};
  int retries = -1;
  int retry_paid = 0;  // retry-budget tokens the latest retry cost (refunded by a success)
  std::function<bool(const Status&)> retryable;
  pool::DedupEntry* dedup = nullptr;  // dedup.h: the key it leads, or joined and waits for

  static TaskExtra* create() { return ::new (task_alloc(sizeof(TaskExtra))) TaskExtra(); }
  static void destroy(TaskExtra* e) noexcept {
    if (!e) return;
    e->~TaskExtra();
    task_free(e, sizeof(TaskExtra));
  }
};

}  // namespace detail

namespace pool {

using detail::TaskBase;
using detail::TaskExtra;

// The task header stays 56 bytes (a queued op costs its closure plus this, docs/operation-pool.md):
// TaskBase's own fields must keep filling TaskNode's tail padding.
static_assert(sizeof(void*) != 8 || sizeof(TaskBase) == 56, "task header grew past 56 bytes");

// TaskNode::flags bits (guarded by the pool mutex)
inline constexpr std::uint8_t kQueued = 1;
inline constexpr std::uint8_t kInBackoff = 2;
inline constexpr std::uint8_t kExpired = 4;
inline constexpr std::uint8_t kParked = 8;  // waiting for the circuit breaker (protection.h)
inline constexpr std::uint8_t kAgain = 16;  // with kInBackoff: a run-again pause, not a retry backoff

struct InternalAccess {
  static detail::TaskNode& node(TaskBase& t) noexcept { return t; }
  static const detail::TaskNode& node(const TaskBase& t) noexcept { return t; }
  static Status attempt(TaskBase& t, OpContext& ctx) noexcept { return t.attempt(ctx); }
  static void fail(TaskBase& t, Status status) noexcept { t.fail(std::move(status)); }
  static Status last_word(TaskBase& t, Status status) noexcept { return t.last_word(std::move(status)); }
  static void complete(TaskBase& t) noexcept { t.complete(); }
  static void reset_for_attempt(OpContext& ctx, int attempt, TimePoint deadline) noexcept {
    ctx.reset_for_attempt(attempt, deadline);
  }
  // Run again (OpContext::run_again_after): the pool allows it per op; the attempt may ask.
  static void allow_again(OpContext& ctx, std::uint64_t op_id) noexcept { ctx.op_id_ = op_id; }
  static bool asked_again(const OpContext& ctx) noexcept { return ctx.again_ != OpContext::kNotAsked; }
  static Duration again_delay(const OpContext& ctx) noexcept { return ctx.again_; }
};

inline detail::TaskNode& node(TaskBase* t) noexcept { return InternalAccess::node(*t); }
inline const detail::TaskNode& node(const TaskBase* t) noexcept { return InternalAccess::node(*t); }

}  // namespace pool
}  // namespace s3db
