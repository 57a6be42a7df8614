// Internal: the one conflict-retry loop of s3db, and the one place that decides whether a write
// landed. Used by every record write (insert, upsert, restore, update, patch, replace) and by the
// catalog (s3db.json).
//
// Every write is conditional — If-None-Match: * to create, If-Match on the ETag read to overwrite —
// and stamped (db/stamp.h): a token of its own and the object's sequence number (base + 1).
//
// Outcomes of one PUT, and what the loop does:
//   OK                         landed: WriteSteps::landed().
//   AlreadyExists (a create)   read the object; Target::kCreate → AlreadyExists, else overwrite it.
//   PreconditionFailed         another writer won: join the object's turns (db/write_turns.h: the
//                              writers of one object in this process go one at a time from now
//                              on), jittered pause unless a turn was waited for, re-read, build
//                              again (at most kMaxUpdateAttempts conflicts, then
//                              PreconditionFailed). The pause and the wait for a turn happen
//                              OUTSIDE the op's slot, on the pool's Clock: the op returns asking
//                              the pool to run it again (OpContext::run_again_after /
//                              run_again_when_woken) — not a retry (no retry count, retry budget
//                              or breaker failure), cut short by the deadline (Timeout: at once
//                              when the pause would pass it) and stop() (Cancelled). With an
//                              ambiguous write outstanding, a pause that would pass the deadline
//                              ends with UnknownOutcome instead, and no turn is waited for.
//                              Where the pool cannot run the op again (bypass), the pause and
//                              the wait happen in place, as a cancellable wait.
//   Throttled, InvalidArgument, Unauthorized, NotFound
//                              not applied: returned (the pool retries what is retryable).
//   Unavailable, Timeout, Cancelled, Internal
//                              AMBIGUOUS: the store may have applied it (a 500 after the write, a
//                              timeout while the response was on its way). The write becomes an
//                              "outstanding" write, judged against every later read (judge()):
//
//   outstanding write W (token t, seq n)   | stored object S                          | verdict
//   ---------------------------------------+------------------------------------------+----------
//   any                                    | S.token == t                             | landed
//   a create                               | absent                                   | may land
//   an overwrite of base b                 | absent (ours may have landed, then gone) | UNKNOWN
//   an overwrite of base b                 | S is b (unchanged)                       | may land
//   any                                    | S.seq == n, another token                | never
//   any                                    | S.seq > n, S remembers seq n's token:    |
//                                          |   ours                                   | landed
//                                          |   another                                | never
//   any                                    | otherwise (S.seq beyond S's history, or  | UNKNOWN
//                                          |   below n: recreated, or not s3db's)     |
//
//   A stamp remembers the tokens of the kHistory states before it (db/stamp.h), so a write that
//   was overwritten since — records move on quickly under contention — is still recognised.
//   "May still land" is safe to write over: the next write is conditional on the same state, so
//   at most one of the two lands, and a later read finds out which. An UNKNOWN verdict, or an
//   ambiguous write still outstanding when the pool will not run another attempt, ends the op
//   with Status UnknownOutcome (never retried): the caller reads and decides. Never decided by
//   ETag (not the MD5 of the body under SSE-KMS) nor by comparing metadata.
//
// The loop runs INSIDE one pool operation; its state (WriteState) lives in the op object, so it
// survives the pool's retries and run-again pauses: an attempt that timed out mid-PUT is judged by
// the next attempt, and a writer keeps its turn (and its place in the queue) across pauses.
#pragma once

#include "db/stamp.h"
#include "db/write_turns.h"

#include <s3db/clock.h>
#include <s3db/operation_pool.h>
#include <s3db/storage_client.h>

#include <string>
#include <vector>

namespace s3db::db {

// The object a write replaces (exists = false: none, the write is a create).
struct Base {
  bool exists = false;
  std::string etag;
  WriteStamp stamp;
};

// What the op writes over.
enum class Target : std::uint8_t {
  kCreate,     // only a new object: an existing one → AlreadyExists (insert, restore)
  kOverwrite,  // only an existing object: none → the op's NotFound (update, patch, replace)
  kEither,     // create or overwrite (upsert, restore with IfExists::kReplace, the catalog)
};

// A write sent whose outcome is not known yet.
struct Outstanding {
  WriteStamp mine;
  bool create = false;
  WriteStamp over;  // the base it overwrites (when !create)
};

enum class Verdict : std::uint8_t { kLanded, kPending, kNever, kUnknown };
// The table above, for one outstanding write; `stored` null = the object is absent.
Verdict judge(const Outstanding& w, const WriteStamp* stored) noexcept;

// What is left of the op's retries: tells whether an unresolved write can wait for the next
// attempt or must be reported as UnknownOutcome now.
struct AttemptBudget {
  int max_attempts = 1;
  TimePoint deadline = TimePoint::max();
  Clock* clock = nullptr;  // the pool's (null = steady clock)
  OperationPool* pool = nullptr;  // runs the op: wakes it when its turn comes (null: standalone)

  static AttemptBudget of(OperationPool& pool, const OpOptions& effective);
  bool last(const OpContext& ctx) const;
};

// One op's side of the loop.
class WriteSteps {
 public:
  virtual ~WriteSteps() = default;
  virtual Target target() const = 0;
  // Reads the current object: base.exists = false when absent (not an error).
  virtual Status read(Base& base, OpContext& ctx) = 0;
  // The request that replaces `base` (or creates the object), its body stamped `stamp`. The loop
  // sets the condition. Called again after every conflict.
  virtual Status build(const Base& base, const WriteStamp& stamp, PutRequest& put) = 0;
  // The write stamped `mine` is stored (with ETag `etag`, when the store said); it was built by
  // the latest build() — or, when the loop finds an earlier ambiguous write landed, by the build()
  // before keep_outstanding(mine).
  virtual Status landed(const WriteStamp& mine, std::string_view etag, OpContext& ctx) = 0;
  // The latest build's write failed ambiguously: keep what landed() would need for it.
  virtual void keep_outstanding(const WriteStamp& mine) = 0;
  // Target::kOverwrite found no object.
  virtual Status absent() = 0;
  // "update users/abc": context of the loop's own errors.
  virtual std::string what() const = 0;
  // The object's key: names the queue of its writers in this process (db/write_turns.h). Asked
  // only after a conflict, or while some queue is open.
  virtual std::string key() const = 0;
};

// State of the loop, kept by the op across the pool's attempts.
struct WriteState {
  AttemptBudget budget;
  bool base_known = false;  // a create-only op starts with an absent base and no read
  Base base;
  std::vector<Outstanding> outstanding;
  int conflicts = 0;
  Turn turn;  // this writer's place among the object's writers of this process, across pauses
};

Status run_write(StorageClient& storage, WriteSteps& steps, WriteState& state, OpContext& ctx);

// The write's last word (OperationPool's final_status): a failure that ends the op while an
// ambiguous write is still outstanding becomes UnknownOutcome — whatever made the pool stop (no
// attempt left, the retry budget spent, a deadline, stop()): the caller must never read "not
// applied" into a write that may have landed.
Status final_status(const WriteState& st, const WriteSteps& steps, Status s);

}  // namespace s3db::db
