// The pool's data structures: priority queue of intrusive FIFO lists, indexed timer heap,
// throughput ring.
#include "pool/pool_impl.h"

#include <algorithm>

namespace s3db::pool {

// ---- TaskQueue -------------------------------------------------------------------------------

void TaskQueue::push(TaskBase* t) {
  t->next_ = nullptr;
  auto it = levels_.begin();
  while (it != levels_.end() && it->priority > t->priority_) ++it;
  if (it == levels_.end() || it->priority != t->priority_) {
    // A new priority value: drop empty levels first so that a caller cycling through many distinct
    // priorities does not make pop() scan a long list of empties.
    if (levels_.size() >= 16) {
      levels_.erase(std::remove_if(levels_.begin(), levels_.end(), [](const Level& l) { return l.n == 0; }),
                    levels_.end());
      it = levels_.begin();
      while (it != levels_.end() && it->priority > t->priority_) ++it;
    }
    it = levels_.insert(it, Level{t->priority_, nullptr, nullptr, 0});
  }
  if (it->tail) {
    it->tail->next_ = t;
  } else {
    it->head = t;
  }
  it->tail = t;
  ++it->n;
  ++size_;
}

TaskBase* TaskQueue::pop() {
  for (auto& l : levels_) {
    if (l.n == 0) continue;
    TaskBase* t = l.head;
    l.head = t->next_;
    if (!l.head) l.tail = nullptr;
    --l.n;
    --size_;
    t->next_ = nullptr;
    return t;
  }
  return nullptr;
}

void TaskQueue::remove_expired(std::vector<TaskBase*>& out) {
  for (auto& l : levels_) {
    TaskBase* prev = nullptr;
    TaskBase* cur = l.head;
    while (cur) {
      TaskBase* next = cur->next_;
      if (cur->pool_flags_ & kExpired) {
        if (prev) {
          prev->next_ = next;
        } else {
          l.head = next;
        }
        if (l.tail == cur) l.tail = prev;
        --l.n;
        --size_;
        cur->next_ = nullptr;
        out.push_back(cur);
      } else {
        prev = cur;
      }
      cur = next;
    }
  }
}

void TaskQueue::take_all(std::vector<TaskBase*>& out) {
  while (TaskBase* t = pop()) out.push_back(t);
}

// ---- TimerHeap -------------------------------------------------------------------------------

void TimerHeap::push(TimerNode* n) {
  heap_.push_back(n);
  n->index = heap_.size() - 1;
  sift_up(n->index);
}

void TimerHeap::remove(TimerNode* n) {
  if (n->index == TimerNode::kNoIndex) return;
  const std::size_t i = n->index;
  TimerNode* last = heap_.back();
  heap_.pop_back();
  n->index = TimerNode::kNoIndex;
  if (last == n) return;
  place(i, last);
  sift_up(i);
  sift_down(last->index);
}

void TimerHeap::sift_up(std::size_t i) {
  TimerNode* n = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!(n->when < heap_[parent]->when)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, n);
}

void TimerHeap::sift_down(std::size_t i) {
  TimerNode* n = heap_[i];
  const std::size_t size = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= size) break;
    if (child + 1 < size && heap_[child + 1]->when < heap_[child]->when) ++child;
    if (!(heap_[child]->when < n->when)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, n);
}

// ---- Throughput ------------------------------------------------------------------------------

void Throughput::tick(std::int64_t second) noexcept {
  Bucket& b = ring_[static_cast<std::size_t>(second) % ring_.size()];
  std::int64_t seen = b.second.load(std::memory_order_acquire);
  if (seen != second) {
    if (seen < second && b.second.compare_exchange_strong(seen, second, std::memory_order_acq_rel)) {
      b.count.store(0, std::memory_order_relaxed);
      // The previous second is complete: fold it into the peak.
      const Bucket& p = ring_[static_cast<std::size_t>(second - 1) % ring_.size()];
      if (p.second.load(std::memory_order_acquire) == second - 1) {
        const std::uint64_t c = p.count.load(std::memory_order_relaxed);
        std::uint64_t peak = peak_.load(std::memory_order_relaxed);
        while (c > peak && !peak_.compare_exchange_weak(peak, c, std::memory_order_relaxed)) {
        }
      }
    } else if (seen > second) {
      return;  // a stale tick from a thread that read the clock long ago
    }
  }
  b.count.fetch_add(1, std::memory_order_relaxed);
}

void Throughput::read(std::int64_t second, double fraction, double& current, double& peak) const noexcept {
  auto count_of = [&](std::int64_t s) -> double {
    if (s < 0) return 0;
    const Bucket& b = ring_[static_cast<std::size_t>(s) % ring_.size()];
    return b.second.load(std::memory_order_acquire) == s
               ? static_cast<double>(b.count.load(std::memory_order_relaxed))
               : 0.0;
  };
  // Sliding window: all of this second plus the not-yet-elapsed share of the previous one.
  current = count_of(second) + count_of(second - 1) * (1.0 - fraction);
  peak = std::max({static_cast<double>(peak_.load(std::memory_order_relaxed)), count_of(second - 1), current});
}

}  // namespace s3db::pool
