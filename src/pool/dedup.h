// pool::DedupTable — the keys of deduplicated ops (OpOptions::dedup_key; the contract is in
// s3db/operation_pool.h): which op leads a key, who joined it, which results a TTL keeps.
//
// What a newcomer to a key gets (enter_locked), given the key's entry:
//   entry                      | same type, compatible               | else
//   ---------------------------+-------------------------------------+----------------------------
//   none                       | kLead                               | —
//   in flight                  | kJoin (leader deadline ≥ its own)   | kAlone (not in the table)
//   completed, kept for a TTL  | kReuse (younger than both TTLs)     | kLead (replaces the entry)
//   pool stopped               | kAlone (the submit path cancels it) |
// Which final outcomes a TTL keeps: ttl_reusable() — OK and NotFound, the store's answer about the
// data; never a failure of the path to it (Timeout, Cancelled, Throttled, Unavailable, Internal...).
//
// Ownership: an entry whose leader is in flight is owned by the table, keyed (by_key_) or, once
// invalidated, detached (detached_: it takes no newcomer and keeps no result); the leader's
// TaskExtra::dedup points at it, as does every joiner's while the joiner is in its list.
// Locking: every *_locked member runs under the pool mutex (Engine::mu); joined() is atomic.
// Allocation happens only for ops that set dedup_key: plain ops never reach this table.
#pragma once

#include <s3db/operation_pool.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "pool/task_node.h"
#include "pool/timers.h"

namespace s3db::pool {

// True when a leader's final `code` may be reused by later ops within a TTL.
bool ttl_reusable(Code code) noexcept;

struct DedupEntry {
  std::string key;
  const std::type_info* type = nullptr;
  std::shared_ptr<const detail::DedupValueBase> value;  // the leader's (its value once OK)
  detail::TaskBase* leader = nullptr;                   // null once completed (kept for a TTL)
  TimePoint leader_deadline = TimePoint::max();
  std::chrono::milliseconds ttl{0};                     // the leader's dedup_ttl
  std::vector<detail::TaskBase*> joiners;               // oldest first
  Status status;                                        // completed: the outcome kept
  TimePoint completed{};
};

class DedupTable {
 public:
  enum class Verdict : std::uint8_t { kLead, kJoin, kReuse, kAlone };

  // Decides for `t` (its TaskExtra exists) and records it: a leader gets an entry, a joiner is
  // linked into one (its deadline armed on `timers`). kJoin/kReuse point `mine->source` at the
  // leader's value; kReuse sets `reused` to the outcome kept.
  Verdict enter_locked(detail::TaskBase* t, const OpOptions& o, const std::type_info& type,
                       const std::shared_ptr<detail::DedupValueBase>& mine, TimePoint now, bool stopped,
                       Timers& timers, Status& reused);
  // The leader `t` ended with `status`: its joiners move to `out` (deadline timers disarmed), the
  // entry is kept for its TTL when ttl_reusable(), freed otherwise.
  void leader_done_locked(detail::TaskBase* t, const Status& status, TimePoint now, Timers& timers,
                          std::vector<detail::TaskBase*>& out);
  // A joiner's deadline passed: true when it was still waiting (unlinked now, the caller ends it).
  bool expire_locked(detail::TaskBase* t);
  // stop(): every waiting joiner moves to `out`, timers disarmed.
  void take_joiners_locked(Timers& timers, std::vector<detail::TaskBase*>& out);
  void invalidate_locked(std::string_view key_prefix);

  std::uint64_t joined() const noexcept { return joined_.load(std::memory_order_relaxed); }
  // Keys in the table (read without the lock). 0 means no op of any key is in flight or kept: an
  // op entering later was submitted after this read, so it can find nothing older to join.
  std::size_t keys() const noexcept { return keys_.load(std::memory_order_acquire); }

 private:
  void unlink_all_locked(DedupEntry& e, Timers& timers, std::vector<detail::TaskBase*>& out);
  void sweep_expired_locked(TimePoint now);

  std::map<std::string, std::unique_ptr<DedupEntry>, std::less<>> by_key_;
  std::vector<std::unique_ptr<DedupEntry>> detached_;
  std::size_t sweep_at_ = 64;  // by_key_ size that triggers a sweep of expired TTL results
  std::atomic<std::uint64_t> joined_{0};
  std::atomic<std::size_t> keys_{0};  // by_key_.size(), published after every change
};

}  // namespace s3db::pool
