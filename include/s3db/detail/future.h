// s3db/detail/future.h — Future<T> and the type-erased task behind OperationPool::submit()/run().
//
// Included by operation_pool.h; not a public header of its own.
//
// Contract
// - A heap task (make_task) is co-owned by the pool and by its Future through one atomic word that
//   holds both the reference count and the completion bits; the last owner destroys it. Marking
//   the task done and dropping the pool's reference is a single atomic step, so a waiter that sees
//   "done" may destroy the task (InlineTask lives on run()'s stack) without racing the pool.
// - The op's result overwrites the closure's storage (a union): a queued op costs its closure plus
//   a 56-byte header. Task memory comes from recycled size-class free lists.
// - What the pool keeps in a task (queue link, priority, id, attempt number, flags) and the hooks
//   it calls (attempt, fail, complete) are private: only src/pool reaches them, through its
//   pool::InternalAccess. Future<T> uses done(), release(), set_continuation() and take().
// - Future<T> is move-only and single-consumer: get() and then() take the result (valid() is false
//   afterwards). then(cb) runs cb(OpResult<T>) exactly once: inline if the op already completed,
//   else on the completing thread after the pool released the op's slot. Exceptions thrown by cb
//   are swallowed. wait_for() uses the real steady clock (it is a caller-side wait).
// - Thread safety: one Future must not be used from two threads at once; distinct Futures may.
#pragma once

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

namespace s3db {

class OperationPool;
class OpContext;
template <class T> class Future;
namespace pool { struct InternalAccess; }  // src/pool/task_node.h: the pool's way in (not API)

namespace detail {

struct TaskExtra;  // pool-private per-op options and retry state (src/pool)
class TaskBase;

// Task memory: 64-byte size classes up to 512 bytes, recycled through per-thread free lists.
void* task_alloc(std::size_t size);
void task_free(void* p, std::size_t size) noexcept;

// Completion waits: striped mutex/condition variables keyed by the task's address, so a task
// carries no synchronisation object of its own.
void wait_done(const TaskBase& task);
bool wait_done_for(const TaskBase& task, std::chrono::nanoseconds timeout);
void notify_done(const TaskBase* task) noexcept;

struct ContinuationBase {
  virtual ~ContinuationBase() = default;
  virtual void run(TaskBase& task) noexcept = 0;
};

// The pool's bookkeeping in every task. A private base of TaskBase: only the pool (src/pool,
// through pool::InternalAccess) reaches it. Being a base rather than a member lets TaskBase's own
// fields fill its tail padding, which keeps the whole header at 56 bytes (asserted in src/pool).
struct TaskNode {
  TaskBase* next = nullptr;         // intrusive queue link
  TaskExtra* extra = nullptr;       // out-of-line options/retry state; null for plain ops
  std::int64_t enqueued_ns = 0;     // pool clock at submit (queue-wait metric)
  std::int32_t priority = 0;
  std::uint32_t id = 0;             // task id for events
  std::uint16_t attempt = 1;        // 1-based number of the current attempt
  std::uint8_t flags = 0;           // written by the pool under its mutex
};

// What Future<T> and the pool share: the atomic completion/ownership word and the attempt hooks.
// Only done(), release() and set_continuation() are for Future; the hooks (attempt, fail,
// complete) are the pool's, private and reached through pool::InternalAccess.
class TaskBase : private TaskNode {
 public:
  static constexpr std::uint32_t kDone = 1u;
  static constexpr std::uint32_t kHasCont = 2u;
  static constexpr std::uint32_t kHasWaiters = 4u;
  static constexpr std::uint32_t kRef = 1u << 8;  // reference count lives above the flag bits

  TaskBase(const TaskBase&) = delete;
  TaskBase& operator=(const TaskBase&) = delete;

  bool done() const noexcept { return (state_.load(std::memory_order_acquire) & kDone) != 0; }

  void release() noexcept {
    if ((state_.fetch_sub(kRef, std::memory_order_acq_rel) >> 8) == 1) destroy();
  }
  // Installs `c` and hands the caller's reference over to it (see Future::then).
  void set_continuation(ContinuationBase* c) noexcept {
    cont_ = c;
    const std::uint32_t prev = state_.fetch_add(kHasCont - kRef, std::memory_order_acq_rel);
    if (prev & kDone) {  // the pool finished first; ours was the last reference
      run_continuation();
      destroy();
    }
  }

 protected:
  static constexpr std::uint8_t kFinal = 1;  // task_flags_: the result replaced the closure

  explicit TaskBase(std::uint32_t refs) noexcept : state_(refs * kRef) {}
  virtual ~TaskBase() = default;

  // TaskBase's own fields, in this order (1, 4, 8 bytes), fill TaskNode's tail padding.
  std::uint8_t task_flags_ = 0;  // written by the task (kFinal)

 private:
  friend struct pool::InternalAccess;
  friend void wait_done(const TaskBase& task);
  friend bool wait_done_for(const TaskBase& task, std::chrono::nanoseconds timeout);

  // One attempt. OK: the op succeeded; its result is stored and the closure released.
  // Non-OK: the attempt's failure (an exception becomes Internal); the closure stays for a retry.
  virtual Status attempt(OpContext& ctx) noexcept = 0;
  // Stores a final failure, releasing the closure if it is still there.
  virtual void fail(Status status) noexcept = 0;
  // The op's last word on a final failure, before anyone sees it (OperationPool's contract, "last
  // word"): the op object's final_status(status) when it has one and is still there; else status.
  virtual Status last_word(Status status) noexcept { return status; }
  // Frees the task (called by whoever drops the last reference).
  virtual void destroy() noexcept = 0;

  // Pool side: marks completion and drops the pool's reference in one atomic step, wakes waiters,
  // and runs the continuation when then() already handed the Future's reference over.
  void complete() noexcept {
    const std::uint32_t prev = state_.fetch_add(kDone - kRef, std::memory_order_acq_rel);
    if (prev & kHasWaiters) notify_done(this);  // uses the address only
    if ((prev >> 8) == 1) {
      if (prev & kHasCont) run_continuation();
      destroy();
    }
  }

  void run_continuation() noexcept {
    cont_->run(*this);
    delete cont_;
    cont_ = nullptr;
  }

  std::atomic<std::uint32_t> state_;
  ContinuationBase* cont_ = nullptr;
};

template <class T>
class ResultTask : public TaskBase {
 public:
  // Moves the stored result out; only after done().
  virtual OpResult<T> take() = 0;

 protected:
  using TaskBase::TaskBase;
};

// Runs `fn(ctx)` and classifies the outcome; shared by heap and inline tasks.
// An op object that has the last word on its final failure: Status final_status(Status).
template <class F>
concept HasFinalStatus = requires(F& f, Status s) {
  { f.final_status(std::move(s)) } -> std::same_as<Status>;
};

template <class F>
Status final_status_of(F& fn, Status status) noexcept {
  if constexpr (HasFinalStatus<F>) {
    Status given = status;
    try {
      Status said = fn.final_status(std::move(status));
      return said.ok() ? given : said;  // a last word cannot turn a failure into a success
    } catch (...) {
      return given;  // a throwing last word changes nothing
    }
  } else {
    (void)fn;
    return status;
  }
}

template <class F>
auto invoke_op(F& fn, OpContext& ctx, Status& failure) noexcept
    -> std::optional<std::decay_t<std::invoke_result_t<F&, OpContext&>>> {
  using R = std::decay_t<std::invoke_result_t<F&, OpContext&>>;
  try {
    R r = std::invoke(fn, ctx);
    if constexpr (std::is_same_v<R, Status>) {
      if (!r.ok()) { failure = std::move(r); return std::nullopt; }
    } else {
      if (!r.ok()) { failure = r.status(); return std::nullopt; }
    }
    return std::optional<R>(std::move(r));
  } catch (const std::exception& e) {
    failure = Status::Internal("operation threw", e.what());
  } catch (...) {
    failure = Status::Internal("operation threw", "unknown exception");
  }
  return std::nullopt;
}

// The heap task of submit(): header + union{closure, result}. A void op's result is a Status*
// (null = OK), so a successful void op needs no result storage at all.
template <class T, class F>
class HeapTask final : public ResultTask<T> {
  using Slot = std::conditional_t<std::is_void_v<T>, Status*, Result<T>>;

 public:
  template <class G>
  explicit HeapTask(G&& fn) : ResultTask<T>(2) { ::new (&u_.fn) F(std::forward<G>(fn)); }

  static void* operator new(std::size_t n) { return task_alloc(n); }
  static void operator delete(void* p, std::size_t n) noexcept { task_free(p, n); }

  OpResult<T> take() override {
    if constexpr (std::is_void_v<T>) {
      return u_.slot ? std::move(*u_.slot) : Status();
    } else {
      return std::move(u_.slot);
    }
  }

 private:
  // The pool's hooks (private in TaskBase too).
  Status attempt(OpContext& ctx) noexcept override {
    Status failure;
    auto r = invoke_op(u_.fn, ctx, failure);
    if (!r) return failure;
    u_.fn.~F();
    if constexpr (std::is_void_v<T>) {
      u_.slot = nullptr;
    } else {
      ::new (&u_.slot) Slot(std::move(*r));
    }
    this->task_flags_ |= TaskBase::kFinal;
    return Status();
  }

  void fail(Status status) noexcept override {
    if (!(this->task_flags_ & TaskBase::kFinal)) {
      u_.fn.~F();
      this->task_flags_ |= TaskBase::kFinal;
      if constexpr (std::is_void_v<T>) {
        u_.slot = new Status(std::move(status));
      } else {
        ::new (&u_.slot) Slot(std::move(status));
      }
    }
  }

  Status last_word(Status status) noexcept override {
    if (this->task_flags_ & TaskBase::kFinal) return status;
    return final_status_of(u_.fn, std::move(status));
  }

  void destroy() noexcept override { delete this; }

  ~HeapTask() override {
    if (!(this->task_flags_ & TaskBase::kFinal)) {
      u_.fn.~F();
    } else if constexpr (std::is_void_v<T>) {
      delete u_.slot;
    } else {
      u_.slot.~Slot();
    }
  }

  union U {
    U() {}
    ~U() {}
    F fn;
    Slot slot;
  } u_;
};

template <class T, class F>
ResultTask<T>* make_task(F&& fn) {
  return new HeapTask<T, std::decay_t<F>>(std::forward<F>(fn));
}

// The stack task of run(): borrows the caller's callable; the caller owns it and waits for it.
template <class T, class F>
class InlineTask final : public TaskBase {
 public:
  explicit InlineTask(F& fn) noexcept : TaskBase(2), fn_(fn) {}
  ~InlineTask() override = default;

  OpResult<T> take_result() {
    if (!result_) return Status::Internal("run(): operation produced no result");
    return std::move(*result_);
  }

 private:
  // The pool's hooks (private in TaskBase too).
  Status attempt(OpContext& ctx) noexcept override {
    Status failure;
    auto r = invoke_op(fn_, ctx, failure);
    if (!r) return failure;
    result_.emplace(std::move(*r));
    task_flags_ |= kFinal;
    return Status();
  }
  void fail(Status status) noexcept override {
    if (!(task_flags_ & kFinal)) {
      result_.emplace(std::move(status));
      task_flags_ |= kFinal;
    }
  }
  Status last_word(Status status) noexcept override {
    if (task_flags_ & kFinal) return status;
    return final_status_of(fn_, std::move(status));
  }
  void destroy() noexcept override {}  // owned by run()'s frame

  F& fn_;
  std::optional<OpResult<T>> result_;
};

template <class T, class Cb>
class Continuation final : public ContinuationBase {
 public:
  explicit Continuation(Cb cb) : cb_(std::move(cb)) {}
  // Recycled task memory (then() is on every insert_async's path); `delete` through the base
  // pointer reaches these through the virtual destructor, with this class's size.
  static void* operator new(std::size_t n) { return task_alloc(n); }
  static void operator delete(void* p, std::size_t n) noexcept { task_free(p, n); }
  void run(TaskBase& task) noexcept override {
    try {
      cb_(static_cast<ResultTask<T>&>(task).take());
    } catch (...) {  // a throwing continuation must not take the completing pool thread down
    }
  }

 private:
  Cb cb_;
};

}  // namespace detail

template <class T>
class Future {
 public:
  Future() noexcept = default;
  explicit Future(detail::ResultTask<T>* task) noexcept : task_(task) {}
  Future(Future&& o) noexcept : task_(std::exchange(o.task_, nullptr)) {}
  Future& operator=(Future&& o) noexcept {
    if (this != &o) {
      reset();
      task_ = std::exchange(o.task_, nullptr);
    }
    return *this;
  }
  Future(const Future&) = delete;
  Future& operator=(const Future&) = delete;
  ~Future() { reset(); }

  bool valid() const noexcept { return task_ != nullptr; }
  bool ready() const noexcept { return task_ != nullptr && task_->done(); }
  void wait() const {
    if (task_) detail::wait_done(*task_);
  }
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    return task_ != nullptr &&
           detail::wait_done_for(*task_, std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
  }

  // Waits, then moves the result out; the Future becomes invalid.
  OpResult<T> get() {
    if (!task_) return Status::Internal("Future::get", "invalid future (already consumed)");
    detail::wait_done(*task_);
    OpResult<T> r = task_->take();
    reset();
    return r;
  }

  // Runs cb(OpResult<T>) exactly once (see the file comment); the Future becomes invalid.
  template <class Cb>
  void then(Cb&& cb) {
    if (!task_) {
      cb(OpResult<T>(Status::Internal("Future::then", "invalid future (already consumed)")));
      return;
    }
    auto* c = new detail::Continuation<T, std::decay_t<Cb>>(std::forward<Cb>(cb));
    std::exchange(task_, nullptr)->set_continuation(c);
  }

 private:
  void reset() noexcept {
    if (auto* t = std::exchange(task_, nullptr)) t->release();
  }
  detail::ResultTask<T>* task_ = nullptr;
};

}  // namespace s3db
