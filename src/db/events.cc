#include "db/events.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <new>
#include <optional>
#include <thread>

namespace s3db::db {

namespace {

// Fork safety without holding locks across fork() (the pool's write turns already hold 64 there,
// all ThreadSanitizer tracks per thread): the child's handler only counts forks and renews one
// mutex; each Core renews itself at its first use in the child (Core::current()).
std::atomic<std::uint64_t> fork_epoch{0};

std::mutex& renew_mu() {
  static std::mutex* mu = new std::mutex;  // never destroyed: used until the process ends
  return *mu;
}

void after_fork_child() noexcept {
  new (&renew_mu()) std::mutex();  // a parent thread may have held it
  fork_epoch.fetch_add(1, std::memory_order_release);
}

void watch_forks() {
  static const bool once = [] {
    (void)renew_mu();  // constructed before any fork
    return ::pthread_atfork(nullptr, nullptr, &after_fork_child) == 0;
  }();
  (void)once;
}

}  // namespace

struct EventDispatcher::Core {
  std::mutex mu;
  std::condition_variable cv;  // the thread waits for events; retire() for a listener to return
  struct Queued {
    HooksPtr set;
    ResourceEvent event;
  };
  std::deque<Queued> queue;              // guarded by mu
  std::unique_ptr<std::thread> thread;   // null until the first event (and in a forked child)
  std::thread::id thread_id;             // guarded by mu
  const ListenerEntry* running = nullptr;  // the listener being called; guarded by mu
  bool stopping = false;                 // guarded by mu
  std::atomic<std::uint64_t> epoch{fork_epoch.load(std::memory_order_acquire)};  // mu is of this fork

  // This Core, made usable in a forked child first: there the parent's thread does not exist, and
  // mu, cv and the queue are as that thread (or another) left them at fork, perhaps mid-change.
  Core& current() {
    const std::uint64_t now = fork_epoch.load(std::memory_order_acquire);
    if (epoch.load(std::memory_order_acquire) == now) [[likely]] return *this;
    std::lock_guard<std::mutex> renewing(renew_mu());
    if (epoch.load(std::memory_order_relaxed) != now) {
      // The old thread handle names no thread of ours (joining or detaching it is undefined), and
      // the old queue holds the parent's events: both are forgotten (a bounded leak, child only).
      (void)thread.release();
      new (&queue) std::deque<Queued>();
      new (&mu) std::mutex();
      new (&cv) std::condition_variable();
      thread_id = {};
      running = nullptr;
      epoch.store(now, std::memory_order_release);
    }
    return *this;
  }

  void run();
  void deliver(Queued& q);
};

void EventDispatcher::Core::run() {
  for (;;) {
    // Declared outside the lock: destroying an event may release the last handle of its Database,
    // whose destructor takes this lock (~EventDispatcher).
    std::optional<Queued> q;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty()) return;  // stopping, everything delivered
      q.emplace(std::move(queue.front()));
      queue.pop_front();
    }
    deliver(*q);
  }
}

void EventDispatcher::Core::deliver(Queued& q) {
  for (const auto& l : q.set->listeners) {
    if (l->kind != q.event.kind) continue;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!l->active) continue;  // removed since the event was queued
      running = l.get();
    }
    try {
      l->fn(q.event);
    } catch (...) {  // a listener must not end the dispatcher (nor the process)
    }
    std::lock_guard<std::mutex> lock(mu);
    running = nullptr;
    cv.notify_all();
  }
}

EventDispatcher::EventDispatcher() : core_(std::make_shared<Core>()) { watch_forks(); }

EventDispatcher::~EventDispatcher() {
  Core& core = core_->current();
  std::unique_ptr<std::thread> thread;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    core.stopping = true;
    thread = std::move(core.thread);
  }
  core.cv.notify_all();
  if (!thread) return;
  if (thread->get_id() == std::this_thread::get_id()) {
    thread->detach();  // it delivers what is left and ends; it owns the core
  } else {
    thread->join();
  }
}

void EventDispatcher::publish(HooksPtr set, ResourceEvent event, std::size_t capacity) {
  Core& core = core_->current();
  bool was_empty = false;
  {
    std::lock_guard<std::mutex> lock(core.mu);
    if (core.queue.size() >= std::max<std::size_t>(capacity, 1)) {
      set->dropped->fetch_add(1, std::memory_order_relaxed);
      return;
    }
    was_empty = core.queue.empty();
    core.queue.push_back(Core::Queued{std::move(set), std::move(event)});
    if (!core.thread) {
      core.thread = std::make_unique<std::thread>([c = core_] { c->run(); });
      core.thread_id = core.thread->get_id();
    }
  }
  // The thread waits only on an empty queue: a wake-up per event would cost a system call each.
  if (was_empty) core.cv.notify_all();
}

void EventDispatcher::retire(ListenerEntry& listener) {
  Core& core = core_->current();
  std::unique_lock<std::mutex> lock(core.mu);
  listener.active = false;
  if (core.thread_id == std::this_thread::get_id()) return;  // a listener removing itself (or another)
  core.cv.wait(lock, [&] { return core.running != &listener; });
}

}  // namespace s3db::db
