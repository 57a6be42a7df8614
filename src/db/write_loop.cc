#include "db/write_loop.h"

#include "db/ids.h"
#include "db/write_turns.h"

#include <s3db/resource.h>

#include <algorithm>
#include <chrono>
#include <thread>

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

AttemptBudget AttemptBudget::of(const OperationPool& pool, const OpOptions& o) {
  AttemptBudget b;
  const PoolOptions& po = pool.options();
  const int retries = o.retries >= 0 ? o.retries
                      : po.retry_policy ? po.retry_policy->max_retries()
                                        : po.backoff.max_retries;
  b.max_attempts = o.bypass ? 1 : std::max(1, retries + 1);
  b.deadline = o.deadline;
  b.clock = po.clock.get();
  return b;
}

bool AttemptBudget::last(const OpContext& ctx) const {
  if (ctx.attempt() >= max_attempts) return true;
  if (deadline == TimePoint::max()) return false;
  return (clock != nullptr ? clock->now() : SteadyClock::now()) >= deadline;
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
// of one object spread out instead of colliding again at once.
void conflict_pause(int conflicts, SteadyClock::duration cycle, const OpContext& ctx) {
  using std::chrono::microseconds;
  const auto cycle_us = static_cast<std::uint64_t>(std::chrono::duration_cast<microseconds>(cycle).count());
  const std::uint64_t base = std::max<std::uint64_t>(cycle_us, 100);
  const std::uint64_t ceiling = std::min<std::uint64_t>(base << std::min(conflicts, 6), 2000000);
  const auto us = random_u64() % (ceiling + 1);
  if (!ctx.cancelled()) std::this_thread::sleep_for(microseconds(us));
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
  // This process's writers of the object go one at a time once one of them met a conflict.
  Turn turn;
  if (WriteTurns::any_open()) {
    Status joined = WriteTurns::join_if_open(&storage, steps.key(), ctx, turn);
    if (!joined.ok()) return give_up(st, steps, std::move(joined), ctx);
  }
  // After a conflict, or a failure whose outcome is unknown: take a turn, pause (unless another
  // writer of this process just had the turn: it wrote, ours starts from its state), read again.
  auto conflict = [&]() -> Status {
    if (++st.conflicts >= kMaxUpdateAttempts) {
      return give_up(st, steps,
                     Status::PreconditionFailed(steps.what(), "gave up after " + std::to_string(st.conflicts) +
                                                                  " conflicting concurrent writes"),
                     ctx);
    }
    bool waited = false;
    if (!turn.held()) {
      Status joined = WriteTurns::join(&storage, steps.key(), ctx, turn, waited);
      if (!joined.ok()) return give_up(st, steps, std::move(joined), ctx);
    }
    if (!waited) {
      const auto now = SteadyClock::now();
      conflict_pause(st.conflicts, cycle_start == TimePoint{} ? SteadyClock::duration::zero() : now - cycle_start, ctx);
    }
    st.base_known = false;
    return Status::OK();
  };
  // Set right after an ambiguous failure: the read that follows judges it at once.
  Status failure;
  for (;;) {
    if (!st.base_known) {
      if (ctx.cancelled()) return give_up(st, steps, ctx.cancel_status(), ctx);
      cycle_start = SteadyClock::now();
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
              failure = Status::OK();
              S3DB_RETURN_IF_ERROR(conflict());
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
      S3DB_RETURN_IF_ERROR(conflict());
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

}  // namespace s3db::db
