// The pool's internals stay out of the installed headers' public surface: OpContext's per-attempt
// reset, and a task's bookkeeping (queue link, priority, id, attempt, flags) and the hooks the pool
// calls, are reachable only from src/pool (pool::InternalAccess). Checked at compile time.
#include <s3db/operation_pool.h>

#include <gtest/gtest.h>

namespace s3db {
namespace {

template <class C>
concept CanResetContext = requires(C& c) { c.reset_for_attempt(2, TimePoint{}); };
template <class T>
concept CanCompleteTask = requires(T& t) { t.complete(); };
template <class T>
concept CanRunAttempt = requires(T& t, OpContext& ctx) { t.attempt(ctx); };
template <class T>
concept CanFailTask = requires(T& t) { t.fail(Status()); };
template <class T>
concept SeesTaskNode = requires(T& t) { t.next; } || requires(T& t) { t.priority; } ||
                       requires(T& t) { t.id; } || requires(T& t) { t.flags; } || requires(T& t) { t.extra; };

using Task = detail::TaskBase;
using Heap = detail::HeapTask<int, Result<int> (*)(OpContext&)>;
using Inline = detail::InlineTask<int, Result<int> (*)(OpContext&)>;

static_assert(!CanResetContext<OpContext>, "OpContext::reset_for_attempt is pool-internal");
static_assert(!CanCompleteTask<Task> && !CanCompleteTask<Heap> && !CanCompleteTask<Inline>);
static_assert(!CanRunAttempt<Task> && !CanRunAttempt<Heap> && !CanRunAttempt<Inline>);
static_assert(!CanFailTask<Task> && !CanFailTask<Heap> && !CanFailTask<Inline>);
static_assert(!SeesTaskNode<Task> && !SeesTaskNode<Heap> && !SeesTaskNode<Inline>);

// The probes see public members (so the assertions above are not vacuous).
struct Open {
  void reset_for_attempt(int, TimePoint);
  void complete();
  Status attempt(OpContext&);
  void fail(Status);
  int priority;
};
static_assert(CanResetContext<Open> && CanCompleteTask<Open> && CanRunAttempt<Open> && CanFailTask<Open> &&
              SeesTaskNode<Open>);

// What users do need stays public: a Future over a submitted op.
TEST(PoolPublicSurface, FutureStillReachesTheResult) {
  PoolOptions options;
  options.concurrency = 1;
  OperationPool pool(options);
  Future<int> f = pool.submit([](OpContext& ctx) -> Result<int> { return ctx.attempt() * 7; });
  Result<int> r = f.get();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, 7);
}

}  // namespace
}  // namespace s3db
