#include "db/events.h"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <new>
#include <optional>
#include <thread>
#include <vector>

namespace s3db::db {

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

  void run();
  void deliver(Queued& q);
};

namespace {

// Every live Core, so that fork handlers can hold their locks across fork() (a child inheriting a
// lock held by another thread would deadlock on it) and reset them in the child.
struct Cores {
  std::mutex mu;
  std::vector<EventDispatcher::Core*> all;  // guarded by mu

  Cores() { ::pthread_atfork(&Cores::before_fork, &Cores::after_fork_parent, &Cores::after_fork_child); }
  static void before_fork();
  static void after_fork_parent();
  static void after_fork_child();
};

Cores& cores() {
  static Cores* c = new Cores;  // never destroyed: a Database may outlive static destruction
  return *c;
}

void Cores::before_fork() {
  Cores& c = cores();
  c.mu.lock();
  for (auto* core : c.all) core->mu.lock();
}

void Cores::after_fork_parent() {
  Cores& c = cores();
  for (auto* core : c.all) core->mu.unlock();
  c.mu.unlock();
}

void Cores::after_fork_child() {
  Cores& c = cores();
  for (auto* core : c.all) {
    // The parent's thread is not in the child: its handle names no thread of ours (joining or
    // detaching it is undefined), so it is forgotten; the child's first event starts a new one.
    // The queued events are the parent's to deliver.
    (void)core->thread.release();
    core->thread_id = {};
    core->running = nullptr;
    core->queue.clear();
    new (&core->cv) std::condition_variable();  // its waiters are not in this process
    core->mu.unlock();
  }
  c.mu.unlock();
}

}  // namespace

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

EventDispatcher::EventDispatcher() : core_(std::make_shared<Core>()) {
  Cores& c = cores();
  std::lock_guard<std::mutex> lock(c.mu);
  c.all.push_back(core_.get());
}

EventDispatcher::~EventDispatcher() {
  {
    Cores& c = cores();
    std::lock_guard<std::mutex> lock(c.mu);
    c.all.erase(std::find(c.all.begin(), c.all.end(), core_.get()));
  }
  std::unique_ptr<std::thread> thread;
  {
    std::lock_guard<std::mutex> lock(core_->mu);
    core_->stopping = true;
    thread = std::move(core_->thread);
  }
  core_->cv.notify_all();
  if (!thread) return;
  if (thread->get_id() == std::this_thread::get_id()) {
    thread->detach();  // it delivers what is left and ends; it owns the core
  } else {
    thread->join();
  }
}

void EventDispatcher::publish(HooksPtr set, ResourceEvent event, std::size_t capacity) {
  Core& core = *core_;
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
  Core& core = *core_;
  std::unique_lock<std::mutex> lock(core.mu);
  listener.active = false;
  if (core.thread_id == std::this_thread::get_id()) return;  // a listener removing itself (or another)
  core.cv.wait(lock, [&] { return core.running != &listener; });
}

}  // namespace s3db::db
