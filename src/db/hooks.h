// Internal: the hooks and listeners registered on a Database's resources (s3db/resource.h,
// "Hooks and events"), and the code that runs them for one call.
//
// The registry keeps, per resource name, an immutable HookSet replaced on every change
// (copy-on-write): a call takes the current set once at its start (snapshot()) and runs it without
// any lock, so registering never waits for hooks in flight and hooks never wait for registering.
// It lives in Database::State because Database::resource(name) makes a new Resource::State per
// call: every handle of one name must see the same hooks.
#pragma once

#include <s3db/database.h>
#include <s3db/resource.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace s3db::db {

// One listener; `active` (guarded by the dispatcher's lock, db/events.h) turns false when it is
// removed, so that a queued event never reaches it afterwards.
struct ListenerEntry {
  HookId id = 0;
  ResourceEventKind kind = ResourceEventKind::kInserted;
  ResourceListener fn;
  bool active = true;
};

template <class Fn>
struct HookEntry {
  HookId id = 0;
  Fn fn;
};

// The hooks and listeners of one resource at one moment. Immutable once published.
struct HookSet {
  std::string resource;
  std::vector<HookEntry<BeforeInsertHook>> before_insert;
  std::vector<HookEntry<AfterInsertHook>> after_insert;
  std::vector<HookEntry<BeforeUpdateHook>> before_update;
  std::vector<HookEntry<AfterUpdateHook>> after_update;
  std::vector<HookEntry<BeforeDeleteHook>> before_delete;
  std::vector<HookEntry<AfterDeleteHook>> after_delete;
  std::vector<std::shared_ptr<ListenerEntry>> listeners;
  // Events of this resource dropped on a full queue; shared by every version of the set.
  std::shared_ptr<std::atomic<std::uint64_t>> dropped;

  bool empty() const noexcept;
  bool listens(ResourceEventKind kind) const noexcept;
  // A remove must read the record it deletes (GET, not HEAD) to pass it on.
  bool wants_removed() const noexcept { return !after_delete.empty() || listens(ResourceEventKind::kDeleted); }
};
using HooksPtr = std::shared_ptr<const HookSet>;

class HookRegistry {
 public:
  // Adds to `resource`'s set what `add(set, id)` puts in a copy of it; returns the new id.
  HookId add(const std::string& resource, const std::function<void(HookSet&, HookId)>& add);
  // Removes hook or listener `id` from whichever set holds it; false when none does. A removed
  // listener's entry is returned through `listener` (to retire it from the dispatcher).
  bool remove(HookId id, std::shared_ptr<ListenerEntry>& listener);
  // The set a call of `resource` runs: null when nothing is registered (no lock taken while no
  // hook was ever registered in this Database).
  HooksPtr snapshot(const std::string& resource) const;
  std::uint64_t dropped(const std::string& resource) const;
  // Whether anything was ever registered (false: every snapshot is null).
  bool any() const noexcept { return ever_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::atomic<bool> ever_{false};
  std::map<std::string, HooksPtr, std::less<>> sets_;  // guarded by mu_
};

// The snapshot a call of `rs`'s resource runs (HookRegistry::snapshot of its Database).
HooksPtr hooks_of(const Resource::State& rs);

// ---- running them (inside the call's pool operation) --------------------------------------------
// Before-hooks in registration order; the first non-OK Status (a throw → Internal) ends the call.
// The "id" of the document must stay `id` (InvalidArgument naming `what`).
Status run_before_insert(const HookSet& set, nlohmann::json& doc, std::string_view id, std::string_view what);
Status run_before_update(const HookSet& set, const nlohmann::json& current, nlohmann::json& next,
                         std::string_view id, std::string_view what);
Status run_before_delete(const HookSet& set, std::string_view id);

// What a successful call did. Runs the after-hooks of `kind` (when `run_hooks`; exceptions are
// swallowed: the write stands) and queues the event for the set's listeners of `kind`.
//   kInserted: after = the stored document;  kUpdated: before, after;  kDeleted: before = the
//   removed record (null when not read).
void after_write(Database::State& db, const HooksPtr& set, ResourceEventKind kind, bool run_hooks, std::string id,
                 nlohmann::json before, const nlohmann::json& after);

}  // namespace s3db::db
