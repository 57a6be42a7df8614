// Task memory recycling and completion waits (the out-of-line half of detail/future.h).
//
// Tasks come in a few small sizes and are allocated by submitters and freed by workers, so a
// size-class free list beats malloc on both speed and per-op bytes (no chunk header): each thread
// keeps a short cache per class and trades batches with a global list under a mutex. Memory is
// kept for reuse, never returned to the OS: it is bounded by the peak number of live tasks.
// Sanitizer builds use plain new/delete so that ASan still sees use-after-free.
#include <s3db/operation_pool.h>

#include <array>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define S3DB_PLAIN_TASK_ALLOC 1
#endif

namespace s3db::detail {
namespace {

#ifndef S3DB_PLAIN_TASK_ALLOC
constexpr std::size_t kGranule = 64;
constexpr int kClasses = 8;  // 64, 128, ..., 512 bytes: a Resource op with its prepared request fits
// Just under 256 KiB so that the allocator's header and alignment still fit in 64 pages.
constexpr std::size_t kSlabBytes = 256 * 1024 - 128;
constexpr int kBatch = 64;           // blocks moved between a thread cache and the global list
constexpr int kCacheMax = 4 * kBatch;

struct FreeBlock { FreeBlock* next; };

struct GlobalLists {
  std::mutex mu;
  std::array<FreeBlock*, kClasses> heads{};
  std::array<char*, kClasses> bump{};      // unused tail of the current slab, per class
  std::array<char*, kClasses> bump_end{};
  std::vector<void*> slabs;                // kept for the process lifetime

  // Fills `out` with up to kBatch blocks of class c; returns the count.
  int take(int c, FreeBlock*& out) {
    std::lock_guard<std::mutex> g(mu);
    const std::size_t size = (c + 1) * kGranule;
    int n = 0;
    FreeBlock* list = nullptr;
    while (n < kBatch && heads[c]) {
      FreeBlock* b = heads[c];
      heads[c] = b->next;
      b->next = list;
      list = b;
      ++n;
    }
    while (n < kBatch) {
      if (bump[c] == bump_end[c]) {
        void* slab = std::aligned_alloc(kGranule, kSlabBytes);
        if (!slab) break;
        slabs.push_back(slab);
        bump[c] = static_cast<char*>(slab);
        bump_end[c] = bump[c] + (kSlabBytes / size) * size;
      }
      auto* b = reinterpret_cast<FreeBlock*>(bump[c]);
      bump[c] += size;
      b->next = list;
      list = b;
      ++n;
    }
    out = list;
    return n;
  }

  void give(int c, FreeBlock* first, FreeBlock* last) {
    std::lock_guard<std::mutex> g(mu);
    last->next = heads[c];
    heads[c] = first;
  }
};

GlobalLists& global_lists() {
  static auto* g = new GlobalLists;  // leaked: thread caches may flush into it during exit
  return *g;
}

struct ThreadCache {
  std::array<FreeBlock*, kClasses> heads{};
  std::array<int, kClasses> counts{};

  ~ThreadCache() {
    for (int c = 0; c < kClasses; ++c) {
      if (!heads[c]) continue;
      FreeBlock* last = heads[c];
      while (last->next) last = last->next;
      global_lists().give(c, heads[c], last);
    }
  }

  void* alloc(int c) {
    if (!heads[c]) {
      counts[c] = global_lists().take(c, heads[c]);
      if (!heads[c]) throw std::bad_alloc();
    }
    FreeBlock* b = heads[c];
    heads[c] = b->next;
    --counts[c];
    return b;
  }

  void free(int c, void* p) {
    auto* b = static_cast<FreeBlock*>(p);
    b->next = heads[c];
    heads[c] = b;
    if (++counts[c] > kCacheMax) {  // hand a batch back so that frees on one thread are reusable
      FreeBlock* first = heads[c];
      FreeBlock* last = first;
      for (int i = 1; i < kBatch; ++i) last = last->next;
      heads[c] = last->next;
      counts[c] -= kBatch;
      global_lists().give(c, first, last);
    }
  }
};

thread_local ThreadCache t_cache;

int size_class(std::size_t size) { return static_cast<int>((size + kGranule - 1) / kGranule) - 1; }
#endif

struct WaitStripe {
  std::mutex mu;
  std::condition_variable cv;
};
constexpr std::size_t kStripes = 64;
std::array<WaitStripe, kStripes> g_stripes;

WaitStripe& stripe_for(const void* p) {
  auto v = reinterpret_cast<std::uintptr_t>(p);
  return g_stripes[(v >> 6) % kStripes];
}

}  // namespace

void* task_alloc(std::size_t size) {
#ifndef S3DB_PLAIN_TASK_ALLOC
  if (size <= kClasses * kGranule) return t_cache.alloc(size_class(size));
#endif
  return ::operator new(size);
}

void task_free(void* p, std::size_t size) noexcept {
#ifndef S3DB_PLAIN_TASK_ALLOC
  if (size <= kClasses * kGranule) {
    t_cache.free(size_class(size), p);
    return;
  }
#endif
  ::operator delete(p, size);
}

void wait_done(const TaskBase& task) {
  if (task.done()) return;
  WaitStripe& s = stripe_for(&task);
  std::unique_lock<std::mutex> lk(s.mu);
  auto& state = const_cast<TaskBase&>(task).state_;
  state.fetch_or(TaskBase::kHasWaiters, std::memory_order_acq_rel);
  s.cv.wait(lk, [&] { return task.done(); });
}

bool wait_done_for(const TaskBase& task, std::chrono::nanoseconds timeout) {
  if (task.done()) return true;
  const auto until = std::chrono::steady_clock::now() + timeout;
  WaitStripe& s = stripe_for(&task);
  std::unique_lock<std::mutex> lk(s.mu);
  auto& state = const_cast<TaskBase&>(task).state_;
  state.fetch_or(TaskBase::kHasWaiters, std::memory_order_acq_rel);
  return s.cv.wait_until(lk, until, [&] { return task.done(); });
}

void notify_done(const TaskBase* task) noexcept {
  WaitStripe& s = stripe_for(task);
  std::lock_guard<std::mutex> g(s.mu);
  s.cv.notify_all();
}

}  // namespace s3db::detail
