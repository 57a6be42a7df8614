// Resource hooks and listeners: the registry (per Database, per resource name), running the hooks
// of one call, and Resource's registration calls.
#include "db/hooks.h"

#include "db/events.h"
#include "db/state.h"

#include <exception>

namespace s3db {

using nlohmann::json;

namespace db {

namespace {

HookId next_hook_id() {
  static std::atomic<HookId> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

// Removes the entry with `id` from `v`; true when there was one.
template <class Entries>
bool erase_id(Entries& v, HookId id) {
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it->id == id) {
      v.erase(it);
      return true;
    }
  }
  return false;
}

// What a throwing hook makes of its call: rejected, not retried.
Status thrown(std::string_view hook, std::string_view what) {
  std::string detail = "a hook threw";
  try {
    throw;
  } catch (const std::exception& e) {
    detail += ": ";
    detail += e.what();
  } catch (...) {
  }
  return Status::Internal(std::string(hook) + " hook of " + std::string(what), detail);
}

Status id_kept(const json& doc, std::string_view id, std::string_view hook, std::string_view what) {
  auto it = doc.is_object() ? doc.find("id") : doc.end();
  if (it != doc.end() && it->is_string() && it->get_ref<const std::string&>() == id) return Status::OK();
  return Status::InvalidArgument(std::string(what), std::string(hook) + " hook: the document must stay an object with its id");
}

// Calls every after-hook with `args`; a throw is the hook's problem: the write stands.
template <class Entries, class... Args>
void call_all(const Entries& hooks, const Args&... args) {
  for (const auto& h : hooks) {
    try {
      h.fn(args...);
    } catch (...) {
    }
  }
}

}  // namespace

bool HookSet::empty() const noexcept {
  return before_insert.empty() && after_insert.empty() && before_update.empty() && after_update.empty() &&
         before_delete.empty() && after_delete.empty() && listeners.empty();
}

bool HookSet::listens(ResourceEventKind kind) const noexcept {
  for (const auto& l : listeners) {
    if (l->kind == kind) return true;
  }
  return false;
}

HookId HookRegistry::add(const std::string& resource, const std::function<void(HookSet&, HookId)>& add) {
  const HookId id = next_hook_id();
  std::lock_guard<std::mutex> lock(mu_);
  auto next = std::make_shared<HookSet>();
  if (auto it = sets_.find(resource); it != sets_.end()) {
    *next = *it->second;
  } else {
    next->resource = resource;
    next->dropped = std::make_shared<std::atomic<std::uint64_t>>(0);
  }
  add(*next, id);
  sets_[resource] = std::move(next);
  ever_.store(true, std::memory_order_release);
  return id;
}

bool HookRegistry::remove(HookId id, std::shared_ptr<ListenerEntry>& listener) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, set] : sets_) {
    auto next = std::make_shared<HookSet>(*set);
    for (auto it = next->listeners.begin(); it != next->listeners.end(); ++it) {
      if ((*it)->id == id) {
        listener = *it;
        next->listeners.erase(it);
        break;
      }
    }
    if (listener || erase_id(next->before_insert, id) || erase_id(next->after_insert, id) ||
        erase_id(next->before_update, id) || erase_id(next->after_update, id) || erase_id(next->before_delete, id) ||
        erase_id(next->after_delete, id)) {
      set = std::move(next);  // kept when empty: it holds the resource's drop count
      return true;
    }
  }
  return false;
}

HooksPtr HookRegistry::snapshot(const std::string& resource) const {
  if (!any()) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sets_.find(resource);
  if (it == sets_.end() || it->second->empty()) return nullptr;
  return it->second;
}

HooksPtr hooks_of(const Resource::State& rs) {
  if (!rs.db->hooks.any()) return nullptr;  // no lock, no name lookup
  return rs.db->hooks.snapshot(rs.runtime()->def.name);
}

std::uint64_t HookRegistry::dropped(const std::string& resource) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sets_.find(resource);
  return it == sets_.end() ? 0 : it->second->dropped->load(std::memory_order_relaxed);
}

Status run_before_insert(const HookSet& set, json& doc, std::string_view id, std::string_view what) {
  for (const auto& h : set.before_insert) {
    try {
      S3DB_RETURN_IF_ERROR(h.fn(doc));
    } catch (...) {
      return thrown("before_insert", what);
    }
    S3DB_RETURN_IF_ERROR(id_kept(doc, id, "before_insert", what));
  }
  return Status::OK();
}

Status run_before_update(const HookSet& set, const json& current, json& next, std::string_view id,
                         std::string_view what) {
  for (const auto& h : set.before_update) {
    try {
      S3DB_RETURN_IF_ERROR(h.fn(current, next));
    } catch (...) {
      return thrown("before_update", what);
    }
    S3DB_RETURN_IF_ERROR(id_kept(next, id, "before_update", what));
  }
  return Status::OK();
}

Status run_before_delete(const HookSet& set, std::string_view id) {
  for (const auto& h : set.before_delete) {
    try {
      S3DB_RETURN_IF_ERROR(h.fn(id));
    } catch (...) {
      return thrown("before_delete", "remove " + set.resource + "/" + std::string(id));
    }
  }
  return Status::OK();
}

void after_write(Database::State& db, const HooksPtr& set, ResourceEventKind kind, bool run_hooks, std::string id,
                 json before, const json& after) {
  if (run_hooks) {
    switch (kind) {
      case ResourceEventKind::kInserted: call_all(set->after_insert, after); break;
      case ResourceEventKind::kUpdated: call_all(set->after_update, before, after); break;
      case ResourceEventKind::kDeleted: {
        const json* removed = before.is_null() ? nullptr : &before;
        call_all(set->after_delete, std::string_view(id), removed);
        break;
      }
    }
  }
  if (!set->listens(kind)) return;
  ResourceEvent event{kind, set->resource, std::move(id), std::move(before),
                      kind == ResourceEventKind::kDeleted ? json() : after};
  db.events.publish(set, std::move(event), db.options.event_queue_capacity);
}

}  // namespace db

// ---- Resource: registration ----------------------------------------------------------------------

namespace {

// Registers what `add` puts in the set of `rs`'s resource; 0 (nothing registered) for an empty
// function.
template <class Fn, class Member>
HookId register_hook(Resource::State& rs, Fn fn, Member member) {
  if (!fn) return 0;
  return rs.db->hooks.add(rs.runtime()->def.name, [&](db::HookSet& set, HookId id) {
    (set.*member).push_back({id, std::move(fn)});
  });
}

}  // namespace

HookId Resource::before_insert(BeforeInsertHook hook) {
  return register_hook(*state_, std::move(hook), &db::HookSet::before_insert);
}
HookId Resource::after_insert(AfterInsertHook hook) {
  return register_hook(*state_, std::move(hook), &db::HookSet::after_insert);
}
HookId Resource::before_update(BeforeUpdateHook hook) {
  return register_hook(*state_, std::move(hook), &db::HookSet::before_update);
}
HookId Resource::after_update(AfterUpdateHook hook) {
  return register_hook(*state_, std::move(hook), &db::HookSet::after_update);
}
HookId Resource::before_delete(BeforeDeleteHook hook) {
  return register_hook(*state_, std::move(hook), &db::HookSet::before_delete);
}
HookId Resource::after_delete(AfterDeleteHook hook) {
  return register_hook(*state_, std::move(hook), &db::HookSet::after_delete);
}

HookId Resource::on(ResourceEventKind kind, ResourceListener listener) {
  if (!listener) return 0;
  return state_->db->hooks.add(state_->runtime()->def.name, [&](db::HookSet& set, HookId id) {
    set.listeners.push_back(std::make_shared<db::ListenerEntry>(db::ListenerEntry{id, kind, std::move(listener), true}));
  });
}

bool Resource::remove_hook(HookId id) {
  std::shared_ptr<db::ListenerEntry> listener;
  if (!state_->db->hooks.remove(id, listener)) return false;
  if (listener) state_->db->events.retire(*listener);
  return true;
}

std::uint64_t Resource::events_dropped() const { return state_->db->hooks.dropped(state_->runtime()->def.name); }

}  // namespace s3db
