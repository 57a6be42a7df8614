// Internal: the writers of one object in one process take turns once they have collided.
//
// Why: writers of one object race through the store, and only one wins each version. The
// conflict loop's jittered backoff spreads writers of different processes, but it is not fair: a
// writer that lost often waits longest, and fresh writers keep overtaking it. Measured on Ceph
// RGW, 8 threads × 50 updates of one record: some writer lost 13–15 times in a row in most runs,
// and 16 times (PreconditionFailed) in 1 run of 15. With turns, the writers of a process queue
// in arrival order; the conflicts left are with other processes.
//
// Contract:
// - A queue for (store, key) opens when one of its writers meets a conflict (join()) and closes
//   when its last writer leaves. While it is open, every writer of that object in the process
//   joins it before its first read (join_if_open()), and waits until it is at the head.
// - Costs one relaxed atomic load per write while no queue is open anywhere in the process.
// - Two ways to wait. Inside a pool op, a writer waits WITHOUT a slot (queue_up()): it keeps its
//   place, asks the pool to run it again when woken (OpContext::run_again_when_woken) and returns;
//   the writer before it wakes it through the pool (OperationPool::wake) when it leaves. (A writer
//   that held a slot while it waited could starve the one ahead of it, paused without a slot, of
//   every slot: at concurrency 1, for ever.) Its place goes with the op: the deadline or stop()
//   end the op, whose Turn, destroyed with it, leaves the queue. Where the pool cannot run an op
//   again (a bypass op, a standalone context), join()/join_if_open() wait in place, and the wait
//   ends early when the op's context is cancelled (deadline, stop): the waiter leaves the queue
//   and gets ctx.cancel_status().
// - Fork: a child starts with no queue (the parent's waiters are not in it).
// - Thread-safe. A Turn is movable, not copyable; it leaves the queue when destroyed.
#pragma once

#include <s3db/operation_pool.h>
#include <s3db/status.h>

#include <string_view>

namespace s3db::db {

class Turn {
 public:
  Turn() = default;
  Turn(Turn&& other) noexcept : node_(other.node_) { other.node_ = nullptr; }
  Turn& operator=(Turn&& other) noexcept;
  Turn(const Turn&) = delete;
  Turn& operator=(const Turn&) = delete;
  ~Turn() { release(); }

  bool held() const noexcept { return node_ != nullptr; }  // a place in a queue
  bool ours() const noexcept;  // the place is the head: the turn is ours
  void release() noexcept;

  struct Node;

 private:
  friend class WriteTurns;
  Node* node_ = nullptr;
};

// Whom to wake when a place queued by queue_up() reaches the head: a pool op waiting to run again.
// The pool must outlive the place (it does: the place lives in the op's state).
struct TurnWaker {
  OperationPool* pool = nullptr;
  std::uint64_t op = 0;  // OpContext::op_id()
};

class WriteTurns {
 public:
  // True when some object of this process has a queue: only then is join_if_open() worth a key.
  static bool any_open() noexcept;
  // Joins the queue of (store, key) and waits for the turn; opens the queue if there is none.
  // `waited` tells whether another writer held the turn first.
  static Status join(const void* store, std::string_view key, OpContext& ctx, Turn& turn, bool& waited);
  // Joins only if (store, key) has an open queue; otherwise leaves `turn` empty.
  static Status join_if_open(const void* store, std::string_view key, OpContext& ctx, Turn& turn);
  // Joins without waiting (opening a queue only when `open_new`): true when the turn is ours now,
  // or when there is no queue to join (`turn` left empty); false: `turn` holds a place, and
  // `waker` is woken when it reaches the head.
  static bool queue_up(const void* store, std::string_view key, bool open_new, TurnWaker waker, Turn& turn);
};

}  // namespace s3db::db
