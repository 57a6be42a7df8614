// Internal: the shared state behind the Database and Resource handles.
#pragma once

#include <s3db/client.h>
#include <s3db/database.h>
#include <s3db/resource.h>

#include "db/catalog.h"
#include "db/codec.h"
#include "db/crypto.h"
#include "db/events.h"
#include "db/hooks.h"
#include "db/stamp.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace s3db {

namespace db {

// A resource definition compiled for use: immutable, shared by every handle and op in flight.
struct Runtime {
  ResourceDef def;
  std::map<int, Schema> schemas;  // every version
  std::map<int, Layout> layouts;  // every version
  const Schema* schema = nullptr;  // current version
  const Layout* layout = nullptr;
  std::string root;              // "<db prefix>resource=<name>/": every key of the resource
  std::string data_prefix;       // "<db prefix>resource=<name>/data/id="
  std::string partition_root;    // "<db prefix>resource=<name>/partition="
  std::string content_prefix;    // "<db prefix>resource=<name>/content/id=" (db/content.h)

  const Layout* layout_for(int version) const {
    auto it = layouts.find(version);
    return it == layouts.end() ? nullptr : &it->second;
  }
};

Result<std::shared_ptr<const Runtime>> build_runtime(const ResourceDef& def, const std::string& prefix);

// Operations a bulk call or a scan keeps in flight when the caller sets no window: two per
// concurrency slot, so the pool never idles between a completion and the next submit.
inline std::size_t default_window(Client& c) {
  const int conc = c.pool().stats().concurrency;
  return static_cast<std::size_t>(conc > 0 ? 2 * conc : 2);
}

}  // namespace db

// A number never handed out twice in a process: names Database handles and upgrade sets.
inline std::uint64_t next_database_uid() {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

struct Database::State {
  // Names this handle in the dedup keys of reads (resource.cc): its passphrase and catalog shape
  // what a get returns. Never reused in a process, unlike an address.
  const std::uint64_t uid = next_database_uid();
  std::shared_ptr<Client> client;
  DatabaseOptions options;
  std::string prefix;        // "" or "<prefix>/"
  std::string prefix_name;   // without the trailing '/'

  std::string catalog_key;

  mutable std::mutex mu;
  db::Catalog catalog;      // guarded by mu
  std::string etag;         // of the catalog read; empty = no s3db.json yet
  db::WriteStamp stamp;     // of the catalog read
  std::shared_ptr<const db::SecretBox> box;  // null without a passphrase
  std::map<std::string, std::shared_ptr<const db::Runtime>> runtimes;  // guarded by mu
  // drop_resource() in this process: drops of each name (guarded by mu), and of all names (read
  // without the lock: while it is unchanged since a handle was made, the handle is live).
  std::map<std::string, std::uint64_t> drops;
  std::atomic<std::uint64_t> all_drops{0};

  // Re-reads s3db.json (one pool op) and replaces the cached catalog.
  Status reload();
  // Same, inside a running op (no nested pool operation: that could deadlock a full pool).
  Status reload_in(OpContext& ctx);
  // The compiled resource `name` from the cached catalog; NotFound when absent.
  Result<std::shared_ptr<const db::Runtime>> runtime(const std::string& name);

  // Hooks and listeners of this database's resources, by resource name (db/hooks.h), and the
  // thread that delivers their events (db/events.h). Declared last: destroyed first, so queued
  // events are delivered while the rest of the state is still whole.
  db::HookRegistry hooks;
  db::EventDispatcher events;
};

struct Resource::State {
  std::shared_ptr<Database::State> db;
  std::function<std::string()> id_generator;
  mutable std::mutex mu;
  // Upgrade functions (Resource::set_upgrade), replaced whole under mu; `upgrades_uid` names the
  // set in read dedup keys (0 = none).
  using Upgrades = std::map<int, std::function<Result<nlohmann::json>(nlohmann::json)>>;
  std::shared_ptr<const Upgrades> upgrades;
  std::uint64_t upgrades_uid = 0;
  // Database::State::drops of this name and all_drops when the handle was made (drop fence).
  std::uint64_t drops_seen = 0;
  std::uint64_t all_drops_seen = 0;

  // The compiled resource: one atomic load, no lock, no reference count — every op calls it.
  // Never null once the handle is made; valid as long as this State lives (an op holds the State),
  // even after a newer schema version replaced it: replaced runtimes are kept, not freed.
  const db::Runtime* runtime() const noexcept { return current_rt_.load(std::memory_order_acquire); }
  // Makes `rt` the current runtime unless it has the same schema version as the current one
  // (versions are append-only, so it compiles the same layouts: keeping the old one bounds the
  // kept list by the versions this handle has seen, however often it re-reads the catalog).
  void set_runtime(std::shared_ptr<const db::Runtime> rt) {
    std::lock_guard<std::mutex> lock(mu);
    const db::Runtime* cur = current_rt_.load(std::memory_order_relaxed);
    if (cur != nullptr && cur->def.current_version == rt->def.current_version) return;
    current_rt_.store(rt.get(), std::memory_order_release);
    kept_rts_.push_back(std::move(rt));
  }
  // Picks up newer schema versions (written by another handle or process); runs inside an op.
  Status refresh(OpContext& ctx);
  Client& client() const { return *db->client; }
  std::shared_ptr<const Upgrades> upgrade_set() const {
    std::lock_guard<std::mutex> lock(mu);
    return upgrades;
  }
  std::uint64_t upgrades_id() const {
    std::lock_guard<std::mutex> lock(mu);
    return upgrades_uid;
  }
  // NotFound once the resource was dropped through this handle's Database after it was made.
  Status check_live() const;

 private:
  std::atomic<const db::Runtime*> current_rt_{nullptr};
  std::vector<std::shared_ptr<const db::Runtime>> kept_rts_;  // guarded by mu; current_rt_ is the last
};

}  // namespace s3db
