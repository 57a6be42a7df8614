#include "db/write_turns.h"

#include <pthread.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <vector>

namespace s3db::db {

namespace {

// The writers of one object, in arrival order; the head holds the turn.
struct Queue {
  const void* store;
  std::string key;
  Turn::Node* head = nullptr;
  Turn::Node* tail = nullptr;
};

struct Stripe {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<Queue>> queues;  // open queues hashed here (rarely more than one)
};

constexpr std::size_t kStripes = 64;

struct Table {
  std::array<Stripe, kStripes> stripes;
  std::atomic<int> open{0};

  Table() { ::pthread_atfork(&Table::before_fork, &Table::after_fork_parent, &Table::after_fork_child); }

  // No stripe lock is held across fork (a child would inherit it locked), and the child starts
  // with no queue: the writers queued in the parent are threads the child does not have.
  static void before_fork();
  static void after_fork_parent();
  static void after_fork_child();
};

Table& table() {
  static Table t;
  return t;
}

void Table::before_fork() {
  for (Stripe& s : table().stripes) s.mu.lock();
}

void Table::after_fork_parent() {
  for (Stripe& s : table().stripes) s.mu.unlock();
}

void Table::after_fork_child() {
  Table& t = table();
  for (Stripe& s : t.stripes) {
    // The parent's nodes live in the parent's threads: forget them (a bounded leak, child only).
    for (auto& q : s.queues) (void)q.release();
    s.queues.clear();
    new (&s.cv) std::condition_variable();  // its waiters are not in this process
    s.mu.unlock();
  }
  t.open.store(0, std::memory_order_relaxed);
}

std::size_t stripe_of(const void* store, std::string_view key) {
  return (std::hash<std::string_view>{}(key) ^ (std::hash<const void*>{}(store) * 0x9E3779B97F4A7C15ull)) % kStripes;
}

Queue* find(Stripe& s, const void* store, std::string_view key) {
  for (auto& q : s.queues) {
    if (q->store == store && q->key == key) return q.get();
  }
  return nullptr;
}

}  // namespace

struct Turn::Node {
  Stripe* stripe;
  Queue* queue;
  Node* next = nullptr;
  TurnWaker waker;  // queue_up(): the pool op to wake at the head (none for a waiter in place)
};

namespace {

// Removes `node` from its queue (under the stripe lock); closes the queue when it empties.
void unlink(Turn::Node* node) {
  Stripe& s = *node->stripe;
  Queue& q = *node->queue;
  Turn::Node** link = &q.head;
  Turn::Node* prev = nullptr;
  while (*link != node) {
    prev = *link;
    link = &(*link)->next;
  }
  *link = node->next;
  if (q.tail == node) q.tail = prev;
  if (q.head != nullptr) {
    // A new head waiting without a slot: its pool runs it now. Under the stripe lock, so its
    // place — and the op that owns it, and that op's pool — cannot go away meanwhile.
    const TurnWaker w = q.head->waker;
    if (prev == nullptr && w.pool != nullptr) w.pool->wake(w.op);
    return;
  }
  for (auto it = s.queues.begin(); it != s.queues.end(); ++it) {
    if (it->get() == &q) {  // absent only for a queue forgotten at fork (a turn held across it)
      s.queues.erase(it);
      table().open.fetch_sub(1, std::memory_order_relaxed);
      return;
    }
  }
}

// Appends `node` to the queue of (store, key), opening it when `open_new` (stripe lock held).
// False when there is no queue and !open_new.
bool link_locked(Stripe& s, const void* store, std::string_view key, bool open_new, Turn::Node* node) {
  Queue* q = find(s, store, key);
  if (q == nullptr) {
    if (!open_new) return false;
    s.queues.push_back(std::make_unique<Queue>(Queue{store, std::string(key)}));
    q = s.queues.back().get();
    table().open.fetch_add(1, std::memory_order_relaxed);
  }
  node->queue = q;
  if (q->tail != nullptr) {
    q->tail->next = node;
  } else {
    q->head = node;
  }
  q->tail = node;
  return true;
}

// Appends a node for the caller to the queue of (store, key) — opening it when `open_new` — and
// waits until it is the head (`out`). Leaves `out` null when no queue is open and !open_new.
Status enter(const void* store, std::string_view key, OpContext& ctx, bool open_new, Turn::Node*& out, bool& waited) {
  Table& t = table();
  Stripe& s = t.stripes[stripe_of(store, key)];
  auto node = std::make_unique<Turn::Node>();
  node->stripe = &s;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!link_locked(s, store, key, open_new, node.get())) return Status::OK();
    waited = node->queue->head != node.get();
    if (!waited) {
      out = node.release();
      return Status::OK();
    }
  }
  // Wake on cancellation too (deadline, stop): the callback takes the stripe lock only to notify.
  ctx.on_cancel([&s] {
    std::lock_guard<std::mutex> lock(s.mu);
    s.cv.notify_all();
  });
  Status result;
  {
    std::unique_lock<std::mutex> lock(s.mu);
    Turn::Node* mine = node.get();
    s.cv.wait(lock, [&] { return mine->queue->head == mine || ctx.cancelled(); });
    if (mine->queue->head == mine) {
      out = node.release();
    } else {
      unlink(mine);  // not the head: the turn does not move, nobody needs waking
      result = ctx.cancel_status();
    }
  }
  ctx.clear_on_cancel();  // never under the stripe lock: the callback takes it
  return result;
}

}  // namespace

Turn& Turn::operator=(Turn&& other) noexcept {
  if (this != &other) {
    release();
    node_ = other.node_;
    other.node_ = nullptr;
  }
  return *this;
}

void Turn::release() noexcept {
  if (node_ == nullptr) return;
  Stripe& s = *node_->stripe;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    unlink(node_);
  }
  s.cv.notify_all();
  delete node_;
  node_ = nullptr;
}

bool Turn::ours() const noexcept {
  if (node_ == nullptr) return false;
  std::lock_guard<std::mutex> lock(node_->stripe->mu);
  return node_->queue->head == node_;
}

bool WriteTurns::queue_up(const void* store, std::string_view key, bool open_new, TurnWaker waker, Turn& turn) {
  turn.release();
  if (!open_new && !any_open()) return true;
  Stripe& s = table().stripes[stripe_of(store, key)];
  auto node = std::make_unique<Turn::Node>();
  node->stripe = &s;
  node->waker = waker;
  std::lock_guard<std::mutex> lock(s.mu);
  if (!link_locked(s, store, key, open_new, node.get())) return true;
  const bool head = node->queue->head == node.get();
  turn.node_ = node.release();
  return head;
}

bool WriteTurns::any_open() noexcept { return table().open.load(std::memory_order_relaxed) != 0; }

Status WriteTurns::join(const void* store, std::string_view key, OpContext& ctx, Turn& turn, bool& waited) {
  turn.release();
  Turn::Node* node = nullptr;
  Status s = enter(store, key, ctx, true, node, waited);
  turn.node_ = node;
  return s;
}

Status WriteTurns::join_if_open(const void* store, std::string_view key, OpContext& ctx, Turn& turn) {
  turn.release();
  if (!any_open()) return Status::OK();
  Turn::Node* node = nullptr;
  bool waited = false;
  Status s = enter(store, key, ctx, false, node, waited);
  turn.node_ = node;
  return s;
}

}  // namespace s3db::db
