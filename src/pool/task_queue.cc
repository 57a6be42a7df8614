// pool::TaskQueue: the lock-free inbox and the priority levels behind it.
#include "pool/task_queue.h"

#include <algorithm>

namespace s3db::pool {

void TaskQueue::drain_inbox_locked() noexcept {
  TaskBase* list = inbox_.exchange(nullptr, std::memory_order_seq_cst);
  TaskBase* ordered = nullptr;
  while (list) {  // the stack holds newest first: reverse it
    TaskBase* next = node(list).next;
    node(list).next = ordered;
    ordered = list;
    list = next;
  }
  while (ordered) {
    TaskBase* next = node(ordered).next;
    node(ordered).flags |= kQueued;
    link(ordered);  // already counted in `queued_` by the submitter
    ordered = next;
  }
}

void TaskQueue::push_locked(TaskBase* t) {
  // Ops still in the inbox were submitted before `t` (a plain op of the lock-free path, while an
  // op with options or a retry takes this one): they go first, or FIFO would not hold.
  drain_inbox_locked();
  node(t).flags |= kQueued;
  link(t);
  queued_.fetch_add(1, std::memory_order_seq_cst);
}

TaskBase* TaskQueue::pop_locked() noexcept {
  TaskBase* t = unlink_first();
  if (!t) return nullptr;
  queued_.fetch_sub(1, std::memory_order_seq_cst);
  node(t).flags &= static_cast<std::uint8_t>(~kQueued);
  return t;
}

void TaskQueue::take_all_locked(std::vector<TaskBase*>& out) {
  drain_inbox_locked();
  std::size_t n = 0;
  while (TaskBase* t = unlink_first()) {
    out.push_back(t);
    ++n;
  }
  queued_.fetch_sub(n, std::memory_order_seq_cst);
  for (std::size_t i = out.size() - n; i < out.size(); ++i) node(out[i]).flags = 0;
}

void TaskQueue::remove_expired_locked(std::vector<TaskBase*>& out) {
  const std::size_t before = out.size();
  for (auto& l : levels_) {
    TaskBase* prev = nullptr;
    TaskBase* cur = l.head;
    while (cur) {
      TaskBase* next = node(cur).next;
      if (node(cur).flags & kExpired) {
        if (prev) {
          node(prev).next = next;
        } else {
          l.head = next;
        }
        if (l.tail == cur) l.tail = prev;
        --l.n;
        --size_;
        node(cur).next = nullptr;
        out.push_back(cur);
      } else {
        prev = cur;
      }
      cur = next;
    }
  }
  queued_.fetch_sub(out.size() - before, std::memory_order_seq_cst);
  for (std::size_t i = before; i < out.size(); ++i) node(out[i]).flags = 0;
  wake_room_waiters_locked();
}

void TaskQueue::wait_for_room(std::unique_lock<std::mutex>& lk) {
  ++room_waiters_;
  room_cv_.wait(lk);
  --room_waiters_;
}

void TaskQueue::link(TaskBase* t) {
  const int priority = node(t).priority;
  node(t).next = nullptr;
  auto it = levels_.begin();
  while (it != levels_.end() && it->priority > priority) ++it;
  if (it == levels_.end() || it->priority != priority) {
    // A new priority value: drop empty levels first so that a caller cycling through many distinct
    // priorities does not make pop() scan a long list of empties.
    if (levels_.size() >= 16) {
      levels_.erase(std::remove_if(levels_.begin(), levels_.end(), [](const Level& l) { return l.n == 0; }),
                    levels_.end());
      it = levels_.begin();
      while (it != levels_.end() && it->priority > priority) ++it;
    }
    it = levels_.insert(it, Level{priority, nullptr, nullptr, 0});
  }
  if (it->tail) {
    node(it->tail).next = t;
  } else {
    it->head = t;
  }
  it->tail = t;
  ++it->n;
  ++size_;
}

TaskBase* TaskQueue::unlink_first() noexcept {
  for (auto& l : levels_) {
    if (l.n == 0) continue;
    TaskBase* t = l.head;
    l.head = node(t).next;
    if (!l.head) l.tail = nullptr;
    --l.n;
    --size_;
    node(t).next = nullptr;
    return t;
  }
  return nullptr;
}

}  // namespace s3db::pool
