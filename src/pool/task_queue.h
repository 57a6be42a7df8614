// pool::TaskQueue — the ops waiting for a slot: a lock-free inbox in front of a priority queue.
//
// Owns: the inbox (a Treiber stack through TaskNode::next: a plain op of an unbounded pool is
// submitted with one CAS, no mutex), the priority levels (one intrusive FIFO list per priority,
// highest first, FIFO among equals), the count of queued ops (inbox and levels), and the
// submitters blocked on a full bounded queue (max_queue).
// Locking: push_inbox() and queued() are lock-free; every other member requires the pool mutex
// (Engine::mu), which also guards the kQueued/kExpired task flags set here. The count is seq_cst:
// it pairs with slot releases (a releaser sees the op, or the submitter sees the free slot) and
// with stop() (it sees the op in the inbox, or the submitter sees `stopped`).
// Empty levels are kept (no allocation churn on the dispatch path) and pruned only when many
// distinct priorities accumulate.
#pragma once

#include <s3db/operation_pool.h>

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <vector>

#include "pool/task_node.h"

namespace s3db::pool {

class TaskQueue {
 public:
  // Any thread: counts `t` as queued, then pushes it onto the inbox.
  void push_inbox(detail::TaskBase* t) noexcept {
    queued_.fetch_add(1, std::memory_order_seq_cst);
    detail::TaskBase* head = inbox_.load(std::memory_order_relaxed);
    do {
      node(t).next = head;
    } while (!inbox_.compare_exchange_weak(head, t, std::memory_order_seq_cst, std::memory_order_relaxed));
  }
  std::size_t queued() const noexcept { return queued_.load(std::memory_order_seq_cst); }

  // ---- with the pool mutex held --------------------------------------------------------------
  // Moves the inbox into the priority levels, in submission order.
  void drain_inbox_locked() noexcept;
  // Queues `t` behind everything submitted before it, inbox included (FIFO among equal priorities
  // whatever path each op took).
  void push_locked(detail::TaskBase* t);
  // Highest priority, oldest first; null when the levels are empty (drain the inbox first).
  detail::TaskBase* pop_locked() noexcept;
  bool empty_locked() const noexcept { return size_ == 0; }
  std::size_t size_locked() const noexcept { return size_; }
  // Unlinks every queued op (inbox included), clearing its flags, and appends it to `out`.
  void take_all_locked(std::vector<detail::TaskBase*>& out);
  // Unlinks every op marked kExpired, clearing its flags, and appends it to `out`.
  void remove_expired_locked(std::vector<detail::TaskBase*>& out);

  // Backpressure: one wait for room (or stop()); the caller re-checks.
  void wait_for_room(std::unique_lock<std::mutex>& lk);
  void wake_room_waiter_locked() {
    if (room_waiters_ > 0) room_cv_.notify_one();
  }
  void wake_room_waiters_locked() {
    if (room_waiters_ > 0) room_cv_.notify_all();
  }

 private:
  void link(detail::TaskBase* t);                // appends to its priority level; not counted
  detail::TaskBase* unlink_first() noexcept;     // not counted

  struct Level {
    int priority;
    detail::TaskBase* head;
    detail::TaskBase* tail;
    std::size_t n;
  };
  std::atomic<detail::TaskBase*> inbox_{nullptr};
  std::atomic<std::size_t> queued_{0};
  std::vector<Level> levels_;  // descending priority
  std::size_t size_ = 0;       // ops in the levels
  std::condition_variable room_cv_;
  int room_waiters_ = 0;
};

}  // namespace s3db::pool
