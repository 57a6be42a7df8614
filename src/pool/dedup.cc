// pool::DedupTable, and the engine's deduplication paths: submission (lead, join, reuse, alone),
// a leader's outcome handed to its joiners, invalidation.
#include "pool/dedup.h"

#include <algorithm>
#include <mutex>
#include <utility>

#include "pool/engine.h"

namespace s3db::pool {

using detail::TaskBase;

// The store's answer about the data may be reused; a failure of the path to it (or a write's
// ambiguous outcome) says nothing about the next attempt and is never reused.
bool ttl_reusable(Code code) noexcept {
  switch (code) {
    case Code::kOk:
    case Code::kNotFound:
      return true;
    case Code::kAlreadyExists:
    case Code::kPreconditionFailed:
    case Code::kInvalidArgument:
    case Code::kUnauthorized:
    case Code::kThrottled:
    case Code::kUnavailable:
    case Code::kTimeout:
    case Code::kCancelled:
    case Code::kInternal:
    case Code::kUnknownOutcome:
      return false;
  }
  return false;
}

// ---- DedupTable ------------------------------------------------------------------------------

DedupTable::Verdict DedupTable::enter_locked(TaskBase* t, const OpOptions& o, const std::type_info& type,
                                             const std::shared_ptr<detail::DedupValueBase>& mine, TimePoint now,
                                             bool stopped, Timers& timers, Status& reused) {
  if (stopped) return Verdict::kAlone;
  TaskExtra* ex = node(t).extra;
  auto it = by_key_.find(std::string_view(o.dedup_key));
  if (it != by_key_.end()) {
    DedupEntry& e = *it->second;
    const bool same_type = *e.type == type;
    if (e.leader) {
      // A leader that may give up before this op's deadline would hand it a Timeout it did not ask for.
      if (!same_type || e.leader_deadline < ex->deadline) return Verdict::kAlone;
      mine->source = e.value;
      e.joiners.push_back(t);
      ex->dedup = &e;
      if (ex->deadline != TimePoint::max()) timers.arm_locked(ex->timer, ex->deadline, t, TimerNode::kJoinDeadline);
      joined_.fetch_add(1, std::memory_order_relaxed);
      return Verdict::kJoin;
    }
    if (same_type && o.dedup_ttl.count() > 0 && now < e.completed + std::min(e.ttl, o.dedup_ttl)) {
      mine->source = e.value;
      reused = e.status;
      joined_.fetch_add(1, std::memory_order_relaxed);
      return Verdict::kReuse;
    }
    by_key_.erase(it);  // a kept result too old for this op (or of another type): the newcomer leads
  } else if (by_key_.size() >= sweep_at_) {
    sweep_expired_locked(now);
  }
  auto e = std::make_unique<DedupEntry>();
  e->key = o.dedup_key;
  e->type = &type;
  e->value = mine;
  e->leader = t;
  e->leader_deadline = ex->deadline;
  e->ttl = o.dedup_ttl;
  mine->keep = true;
  ex->dedup = e.get();
  by_key_.emplace(e->key, std::move(e));
  keys_.store(by_key_.size(), std::memory_order_release);
  return Verdict::kLead;
}

void DedupTable::leader_done_locked(TaskBase* t, const Status& status, TimePoint now, Timers& timers,
                                    std::vector<TaskBase*>& out) {
  DedupEntry* e = std::exchange(node(t).extra->dedup, nullptr);
  unlink_all_locked(*e, timers, out);
  e->leader = nullptr;
  auto it = by_key_.find(std::string_view(e->key));
  if (it != by_key_.end() && it->second.get() == e) {
    if (e->ttl.count() > 0 && ttl_reusable(status.code())) {
      e->status = status;
      e->completed = now;
      return;
    }
    by_key_.erase(it);
    keys_.store(by_key_.size(), std::memory_order_release);
    return;
  }
  auto d = std::find_if(detached_.begin(), detached_.end(), [e](const auto& p) { return p.get() == e; });
  if (d != detached_.end()) detached_.erase(d);
}

bool DedupTable::expire_locked(TaskBase* t) {
  DedupEntry* e = std::exchange(node(t).extra->dedup, nullptr);
  if (!e) return false;  // the leader's outcome reached it first
  e->joiners.erase(std::find(e->joiners.begin(), e->joiners.end(), t));
  return true;
}

void DedupTable::take_joiners_locked(Timers& timers, std::vector<TaskBase*>& out) {
  for (auto& [key, e] : by_key_) unlink_all_locked(*e, timers, out);
  for (auto& e : detached_) unlink_all_locked(*e, timers, out);
}

void DedupTable::invalidate_locked(std::string_view key_prefix) {
  auto it = by_key_.lower_bound(key_prefix);
  while (it != by_key_.end() && std::string_view(it->first).starts_with(key_prefix)) {
    if (it->second->leader) detached_.push_back(std::move(it->second));  // its leader still needs it
    it = by_key_.erase(it);
  }
  keys_.store(by_key_.size(), std::memory_order_release);
}

void DedupTable::unlink_all_locked(DedupEntry& e, Timers& timers, std::vector<TaskBase*>& out) {
  for (TaskBase* j : e.joiners) {
    TaskExtra* ex = node(j).extra;
    timers.disarm_locked(ex->timer);
    ex->dedup = nullptr;
    out.push_back(j);
  }
  e.joiners.clear();
}

// Kept results of keys nobody asks for again would pile up: each time the table doubles, the
// expired ones go (amortised O(1) per op; at most twice the live entries, plus 64).
void DedupTable::sweep_expired_locked(TimePoint now) {
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    const DedupEntry& e = *it->second;
    if (!e.leader && now >= e.completed + e.ttl) it = by_key_.erase(it);
    else ++it;
  }
  sweep_at_ = std::max<std::size_t>(64, 2 * by_key_.size());
}

// ---- Engine ----------------------------------------------------------------------------------

void Engine::submit_deduplicated(TaskBase* t, const OpOptions& o, const std::shared_ptr<detail::DedupValueBase>& mine,
                                 const std::type_info& type, bool wait) {
  if (!node(t).extra) node(t).extra = TaskExtra::create();  // joiners and leaders need one
  Status reused;
  DedupTable::Verdict v;
  {
    std::unique_lock<std::mutex> lk(mu, std::defer_lock);
    lock_spin(lk);
    v = dedup.enter_locked(t, o, type, mine, clock->now(), stopped.load(std::memory_order_relaxed), timers, reused);
  }
  switch (v) {
    case DedupTable::Verdict::kLead:
    case DedupTable::Verdict::kAlone:
      submit_prepared(t);
      break;
    case DedupTable::Verdict::kJoin:
      break;  // the leader's completion (or its deadline, or stop()) ends it
    case DedupTable::Verdict::kReuse: {
      if (reused.ok()) {
        OpContext ctx;
        reused = InternalAccess::attempt(*t, ctx);  // copies the kept value (no store access)
      }
      if (wait) {  // run(): the caller is waiting, it may complete here
        ThreadDuty duty(this, 1, 0);
        finish(t, std::move(reused), Duration{}, clock->now(), duty);
        return;
      }
      std::lock_guard<std::mutex> g(mu);
      timers.defer_locked(t, std::move(reused));  // completion never runs inside submit()
      return;
    }
  }
  if (wait) detail::wait_done(*t);
}

void Engine::finish_joiners(TaskBase* t, const Status& status, TimePoint now) {
  std::vector<TaskBase*> joiners;
  {
    std::unique_lock<std::mutex> lk(mu, std::defer_lock);
    lock_spin(lk);
    dedup.leader_done_locked(t, status, now, timers, joiners);
  }
  if (joiners.empty()) return;
  ThreadDuty duty(this, joiners.size(), 0);
  for (TaskBase* j : joiners) {
    Status st = status;
    if (st.ok()) {
      OpContext ctx;
      st = InternalAccess::attempt(*j, ctx);  // copies the leader's value
    }
    finish(j, std::move(st), Duration{}, now, duty);
  }
}

}  // namespace s3db::pool

namespace s3db {

void OperationPool::submit_dedup_erased(detail::TaskBase* task, OpOptions& options,
                                        std::shared_ptr<detail::DedupValueBase> mine, const std::type_info& type,
                                        bool wait) {
  pool::Engine& p = *impl_;
  p.inflight.fetch_add(1, std::memory_order_seq_cst);
  p.prepare(task, options);
  p.submit_deduplicated(task, options, mine, type, wait);
}

bool OperationPool::dedup_idle() const noexcept { return impl_->dedup.keys() == 0; }

void OperationPool::invalidate_dedup(std::string_view key_prefix) {
  pool::Engine& p = *impl_;
  if (p.dedup.keys() == 0) return;  // nothing to forget: no lock taken (see dedup_idle())
  std::lock_guard<std::mutex> g(p.mu);
  p.dedup.invalidate_locked(key_prefix);
}

}  // namespace s3db
