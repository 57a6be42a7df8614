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
// - Waiting ends early when the op's context is cancelled (deadline, stop): the waiter leaves
//   the queue and gets ctx.cancel_status().
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

  bool held() const noexcept { return node_ != nullptr; }
  void release() noexcept;

  struct Node;

 private:
  friend class WriteTurns;
  Node* node_ = nullptr;
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
};

}  // namespace s3db::db
