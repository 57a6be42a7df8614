// pool::ThreadDuty — what the current thread owes a pool, so that drain() from inside the pool
// does not wait for itself.
//
// In-flight ops of a pool that only this thread can complete — the op it runs, the next one it
// already popped, the completions of a batch it is running — and the concurrency slots it holds
// for them. drain() called on this thread (from an op, a completion or a listener) cannot wait for
// those: they finish only after it returns. Frames live on the stack and nest (an op of one pool
// may run another's, or its own, inline); a thread not working for a pool has none for it.
// Locking: none — a frame is thread-local and read only by its own thread. Kept current by plain
// stores: no allocation, no atomics, nothing on the hot path but a thread-local pointer swap.
#pragma once

#include <cstddef>

namespace s3db::pool {

class ThreadDuty {
 public:
  ThreadDuty(const void* pool, std::size_t ops, std::size_t slots, bool timer = false) noexcept
      : pool_(pool), outer_(current_), ops(ops), slots(slots), timer_(timer) {
    current_ = this;
  }
  ~ThreadDuty() { current_ = outer_; }
  ThreadDuty(const ThreadDuty&) = delete;
  ThreadDuty& operator=(const ThreadDuty&) = delete;

  struct Totals {
    std::size_t ops = 0, slots = 0;
    bool timer = false;  // the pool's timer thread
  };
  static Totals of(const void* pool) noexcept {
    Totals t;
    for (const ThreadDuty* d = current_; d; d = d->outer_) {
      if (d->pool_ != pool) continue;
      t.ops += d->ops;
      t.slots += d->slots;
      t.timer = t.timer || d->timer_;
    }
    return t;
  }

 private:
  const void* pool_;
  ThreadDuty* outer_;

 public:
  std::size_t ops;    // finish() takes one off when its op stops counting as in flight
  std::size_t slots;

 private:
  bool timer_;
  static inline constinit thread_local ThreadDuty* current_ = nullptr;
};

}  // namespace s3db::pool
