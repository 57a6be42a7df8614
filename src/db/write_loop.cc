#include "db/write_loop.h"

#include "db/ids.h"
#include "db/write_turns.h"

#include <s3db/resource.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace s3db::db {

Verdict judge(const Outstanding& w, const WriteStamp* stored) noexcept {
  if (stored == nullptr) return w.create ? Verdict::kPending : Verdict::kUnknown;
  if (!stored->token.empty() && stored->token == w.mine.token) return Verdict::kLanded;
  if (!w.create && stored->token == w.over.token && stored->seq == w.over.seq) return Verdict::kPending;
  // The object moved on: whose write holds the sequence number ours would have had?
  const std::uint64_t ours = w.mine.seq;
  if (stored->seq == ours) return Verdict::kNever;
  if (stored->seq > ours) {
    const auto had = stored->had_token(stored->seq - ours, w.mine.token);
    if (had) return *had ? Verdict::kLanded : Verdict::kNever;
  }
  return Verdict::kUnknown;  // beyond the remembered history, or an older or foreign object
}

AttemptBudget AttemptBudget::of(OperationPool& pool, const OpOptions& o) {
  AttemptBudget b;
  const PoolOptions& po = pool.options();
  const int retries = o.retries >= 0 ? o.retries
                      : po.retry_policy ? po.retry_policy->max_retries()
                                        : po.backoff.max_retries;
  b.max_attempts = o.bypass ? 1 : std::max(1, retries + 1);
  b.deadline = o.deadline;
  b.clock = po.clock.get();
  b.pool = &pool;
  return b;
}

namespace {

TimePoint now_on(const Clock* clock) { return clock != nullptr ? clock->now() : SteadyClock::now(); }

}  // namespace

bool AttemptBudget::last(const OpContext& ctx) const {
  if (ctx.attempt() >= max_attempts) return true;
  if (deadline == TimePoint::max()) return false;
  return now_on(clock) >= deadline;
}

namespace {

// Failures after which the store may or may not have applied the write.
bool maybe_applied(const Status& s) noexcept {
  switch (s.code()) {
    case Code::kUnavailable: case Code::kTimeout: case Code::kCancelled: case Code::kInternal:
      return true;
    default:
      return false;  // Throttled (SlowDown rejects before processing) and every 4xx
  }
}

Status unknown(const WriteSteps& steps, const Status& why) {
  return Status::UnknownOutcome(steps.what(),
                                "the write may or may not have been applied (" + why.to_string() +
                                    "); read the record to find out before writing again");
}

// How an op ends with `s` while ambiguous writes are outstanding: the next attempt can still judge
// them when the pool will run one; otherwise the caller must hear that the outcome is unknown.
Status give_up(const WriteState& st, const WriteSteps& steps, Status s, const OpContext& ctx) {
  if (st.outstanding.empty()) return s;
  if (s.retryable() && !st.budget.last(ctx)) return s;
  return unknown(steps, s);
}

// Conflict backoff: full jitter over a ceiling that doubles per conflict and scales with how long
// one read-build-write cycle took (a slow store needs wider spacing), so that concurrent writers
// of one object spread out instead of colliding again at once. (random_u64: per thread, reseeded
// in a forked child.)
Duration conflict_pause(int conflicts, Duration cycle) {
  using std::chrono::microseconds;
  const auto cycle_us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, std::chrono::duration_cast<microseconds>(cycle).count()));
  const std::uint64_t base = std::max<std::uint64_t>(cycle_us, 100);
  const std::uint64_t ceiling = std::min<std::uint64_t>(base << std::min(conflicts, 6), 2000000);
  return microseconds(random_u64() % (ceiling + 1));
}

// A pause in place, for an op the pool cannot run again (bypass): on the pool's clock, cut short
// by the op's cancellation.
void pause_in_place(Duration pause, Clock* clock, OpContext& ctx) {
  std::shared_ptr<Clock> steady;
  if (clock == nullptr) clock = (steady = steady_clock()).get();
  std::mutex mu;
  std::condition_variable cv;
  clock->watch(&cv, &mu);
  ctx.on_cancel([&] {
    std::lock_guard<std::mutex> lock(mu);
    cv.notify_all();
  });
  {
    const TimePoint until = clock->now() + pause;
    std::unique_lock<std::mutex> lock(mu);
    while (!ctx.cancelled() && clock->now() < until) clock->wait_until(lock, cv, until);
  }
  ctx.clear_on_cancel();
  clock->unwatch(&cv);
}

// Why a writer waits for its turn (the op's status if the wait ends it: Timeout, Cancelled).
Status awaiting_turn(const WriteSteps& steps) {
  return Status::PreconditionFailed(steps.what(), "waiting for this process's earlier writers of the object");
}

enum class Judged : std::uint8_t { kLanded, kUnknown, kPending, kClear };

// Judges every outstanding write against the base just read; drops those that can never land.
Judged judge_all(WriteState& st, WriteStamp& landed) {
  const WriteStamp* stored = st.base.exists ? &st.base.stamp : nullptr;
  bool unknown_seen = false;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < st.outstanding.size(); ++i) {
    const Verdict v = judge(st.outstanding[i], stored);
    if (v == Verdict::kLanded) {
      landed = st.outstanding[i].mine;
      return Judged::kLanded;
    }
    unknown_seen = unknown_seen || v == Verdict::kUnknown;
    if (v == Verdict::kNever) continue;
    if (kept != i) st.outstanding[kept] = std::move(st.outstanding[i]);
    ++kept;
  }
  st.outstanding.resize(kept);
  if (unknown_seen) return Judged::kUnknown;
  return kept == 0 ? Judged::kClear : Judged::kPending;
}

Status already_exists(const WriteSteps& steps) {
  return Status::AlreadyExists(steps.what(), "a record with this id already exists");
}

}  // namespace

Status run_write(StorageClient& storage, WriteSteps& steps, WriteState& st, OpContext& ctx) {
  // When the latest read started (none yet: a create, or the catalog from its cache). Only a
  // conflict needs it, so a write that just lands never reads the clock.
  TimePoint cycle_start{};
  // The pool runs this op again after a pause or when its turn comes (false: bypass, standalone).
  const bool pooled = ctx.op_id() != 0 && st.budget.pool != nullptr;
  const TurnWaker waker{st.budget.pool, ctx.op_id()};
  // Asked to run again: the writer keeps its turn or place. Any other end of this run — a success,
  // a failure, a retry — leaves the queue at once (the next writer's turn).
  bool again = false;
  const auto ask_again = [&](bool asked) { return again = asked; };
  struct LeaveUnlessAgain {
    Turn& turn;
    const bool& again;
    ~LeaveUnlessAgain() {
      if (!again) turn.release();
    }
  } leave{st.turn, again};
  // This process's writers of the object go one at a time once one of them met a conflict; the
  // turn (or the place in the queue) is kept across the pool's runs of this op.
  if (st.turn.held()) {
    if (!st.turn.ours() && ask_again(ctx.run_again_when_woken())) return awaiting_turn(steps);  // not yet
  } else if (WriteTurns::any_open() && st.outstanding.empty()) {
    if (pooled) {
      if (!WriteTurns::queue_up(&storage, steps.key(), false, waker, st.turn) && ask_again(ctx.run_again_when_woken())) {
        return awaiting_turn(steps);
      }
    } else {
      Status joined = WriteTurns::join_if_open(&storage, steps.key(), ctx, st.turn);
      if (!joined.ok()) return give_up(st, steps, std::move(joined), ctx);
    }
  }
  // After a conflict, or a failure whose outcome is unknown: take a turn, pause (unless another
  // writer of this process just had the turn: it wrote, ours starts from its state), read again.
  // Both the wait for the turn and the pause are the pool's: `why` is returned, asking to run
  // again. OK: go on here (the pause, if any, happened in place).
  auto conflict = [&](const Status& why) -> Status {
    if (++st.conflicts >= kMaxUpdateAttempts) {
      return give_up(st, steps,
                     Status::PreconditionFailed(steps.what(), "gave up after " + std::to_string(st.conflicts) +
                                                                  " conflicting concurrent writes"),
                     ctx);
    }
    st.base_known = false;
    bool waited = false;
    // An ambiguous write outstanding is judged by the next read: no waiting for turns meanwhile
    // (a wait the deadline ends could not say UnknownOutcome).
    if (!st.turn.held() && st.outstanding.empty()) {
      if (pooled) {
        if (!WriteTurns::queue_up(&storage, steps.key(), true, waker, st.turn)) {
          if (ask_again(ctx.run_again_when_woken())) return why;
        }
      } else {
        Status joined = WriteTurns::join(&storage, steps.key(), ctx, st.turn, waited);
        if (!joined.ok()) return give_up(st, steps, std::move(joined), ctx);
      }
    }
    if (waited) return Status::OK();
    const TimePoint now = now_on(st.budget.clock);
    const Duration pause = conflict_pause(st.conflicts, cycle_start == TimePoint{} ? Duration::zero() : now - cycle_start);
    if (!st.outstanding.empty() && st.budget.deadline != TimePoint::max() && now + pause >= st.budget.deadline) {
      return unknown(steps, Status::Timeout("deadline comes before the conflict pause ends", why.to_string()));
    }
    if (ask_again(ctx.run_again_after(pause))) return why;
    pause_in_place(pause, st.budget.clock, ctx);
    return Status::OK();
  };
  // Set right after an ambiguous failure: the read that follows judges it at once.
  Status failure;
  for (;;) {
    if (!st.base_known) {
      if (ctx.cancelled()) return give_up(st, steps, ctx.cancel_status(), ctx);
      cycle_start = now_on(st.budget.clock);
      Status r = steps.read(st.base, ctx);
      if (!r.ok()) return give_up(st, steps, std::move(r), ctx);
      st.base_known = true;
      if (!st.outstanding.empty()) {
        WriteStamp mine;
        switch (judge_all(st, mine)) {
          case Judged::kLanded:
            st.outstanding.clear();
            return steps.landed(mine, st.base.etag, ctx);
          case Judged::kUnknown:
            return unknown(steps, failure.ok() ? Status::Unavailable("an earlier attempt", "no answer") : failure);
          case Judged::kPending:
            // Not visible yet. Straight after the failure: let the pool back off (or report the
            // unknown outcome when it will not retry); on a later attempt: write over the same
            // state — at most one of the two can land.
            if (!failure.ok()) return give_up(st, steps, std::move(failure), ctx);
            break;
          case Judged::kClear:
            // Another write took the place of ours, which can no longer land: a conflict.
            if (!failure.ok()) {
              S3DB_RETURN_IF_ERROR(conflict(failure));
              failure = Status::OK();
              continue;
            }
            break;
        }
      }
      failure = Status::OK();
    }
    const Target target = steps.target();
    if (st.base.exists && target == Target::kCreate) return already_exists(steps);
    if (!st.base.exists && target == Target::kOverwrite) return steps.absent();
    if (ctx.cancelled()) return give_up(st, steps, ctx.cancel_status(), ctx);

    const WriteStamp mine = WriteStamp::next(st.base.exists ? &st.base.stamp : nullptr);
    PutRequest put;
    Status built = steps.build(st.base, mine, put);
    if (!built.ok()) return give_up(st, steps, std::move(built), ctx);
    if (st.base.exists) {
      put.if_match = st.base.etag;
    } else {
      put.if_none_match = true;
    }
    auto w = storage.put_moved(std::move(put), ctx);  // consumed only on success
    if (w.ok()) {
      st.outstanding.clear();  // they were all over the state ours replaced: none can land now
      return steps.landed(mine, w->etag, ctx);
    }
    const Status& s = w.status();
    if (s.is_already_exists()) {  // a create found an object: read it (no pause: it is there)
      if (target == Target::kCreate && st.outstanding.empty()) return already_exists(steps);
      if (++st.conflicts >= kMaxUpdateAttempts) return give_up(st, steps, s.with_context(steps.what()), ctx);
      st.base_known = false;
      continue;
    }
    if (s.is_precondition_failed()) {
      S3DB_RETURN_IF_ERROR(conflict(s.with_context(steps.what())));
      continue;
    }
    if (!maybe_applied(s)) return give_up(st, steps, s.with_context(steps.what()), ctx);
    steps.keep_outstanding(mine);
    st.outstanding.push_back(Outstanding{mine, !st.base.exists, st.base.stamp});
    st.base_known = false;
    failure = s.with_context(steps.what());
    if (ctx.cancelled()) return give_up(st, steps, std::move(failure), ctx);
  }
}

Status final_status(const WriteState& st, const WriteSteps& steps, Status s) {
  if (st.outstanding.empty() || s.code() == Code::kUnknownOutcome) return s;
  return unknown(steps, s);
}

}  // namespace s3db::db
