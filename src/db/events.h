// Internal: delivers resource events to their listeners (s3db/resource.h, Resource::on) on a
// thread of their own — one per Database::State — so that a listener never runs on the caller's
// thread nor inside the pool slot of the write that produced the event.
//
// - publish() (inside a write's op) only queues: it never blocks on a listener. The queue is
//   bounded; a full queue drops the new event and counts it in its HookSet's `dropped`.
// - The thread starts with the first event, and again with the first event in a forked child (a
//   child has no copy of the parent's thread). No lock is held across fork(): in the child, the
//   dispatcher's first use renews its lock, condition and queue (the parent's events are not the
//   child's to deliver).
// - Listeners run one at a time, in queue order, with no lock held.
// - The destructor delivers what is queued, then joins the thread. Run on the thread itself (a
//   listener dropped the last reference to the Database), it lets the thread finish on its own.
#pragma once

#include "db/hooks.h"

#include <memory>

namespace s3db::db {

class EventDispatcher {
 public:
  EventDispatcher();
  ~EventDispatcher();
  EventDispatcher(const EventDispatcher&) = delete;
  EventDispatcher& operator=(const EventDispatcher&) = delete;

  // Queues `event` for the listeners of its kind in `set`, unless `capacity` events are waiting.
  void publish(HooksPtr set, ResourceEvent event, std::size_t capacity);
  // The listener is never called again, and not running when this returns (unless called from the
  // dispatcher thread: a listener removing itself).
  void retire(ListenerEntry& listener);

  struct Core;  // shared with the thread

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace s3db::db
