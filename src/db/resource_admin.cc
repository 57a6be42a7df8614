// Resource::remove_all (truncate) and the drop fence of handles (Resource::State::check_live).
// Database::drop_resource is in database.cc, beside the catalog's write loop it reuses.
#include "db/admin.h"

#include "db/records.h"
#include "db/state.h"

#include <utility>
#include <vector>

namespace s3db {

namespace db {

std::string resource_root(const std::string& db_prefix, std::string_view name) {
  std::string root = db_prefix;
  root += "resource=";
  root += name;
  root += '/';
  return root;
}

namespace {

// One pool op: a LIST page of keys under `root` after `after`, then one DeleteObjects of them.
// A retried attempt lists again (the keys it had removed are gone) and removes what it finds.
struct RemoveBatch {
  StorageClient* storage;
  std::string root;
  std::string after;  // the last key of the previous page ("" = from the start)
  struct Done {
    DeleteManyResult removed;
    std::string last_key;  // "" = nothing was listed
    bool more = false;     // the LIST page was truncated
  };
  Result<Done> operator()(OpContext& ctx) {
    ListRequest req;
    req.prefix = root;
    req.max_keys = 1000;
    req.start_after = after;
    auto page = storage->list(req, ctx);
    if (!page.ok()) return page.status().with_context("list " + root);
    Done done;
    if (page->objects.empty()) return done;
    std::vector<std::string> keys;
    keys.reserve(page->objects.size());
    for (auto& obj : page->objects) keys.push_back(std::move(obj.key));
    done.last_key = keys.back();
    done.more = page->truncated;
    auto removed = storage->remove_many(keys, ctx);
    if (!removed.ok()) return removed.status().with_context("remove " + std::to_string(keys.size()) + " keys under " + root);
    done.removed = std::move(removed).value();
    return done;
  }
};

}  // namespace

Status remove_root(Client& client, const std::string& root, const Resource::RemoveAllOptions& options,
                   Resource::RemoveAllResult& total) {
  std::string after;
  for (;;) {
    auto batch = client.pool().run(RemoveBatch{&client.storage(), root, after}, client.effective(options.op));
    if (!batch.ok()) return batch.status();
    total.deleted += batch->removed.deleted;
    for (auto& [key, why] : batch->removed.failed) {
      if (total.failed++ == 0) total.first_error = why.with_context("remove " + key);
    }
    if (batch->last_key.empty()) return Status::OK();
    if (options.on_progress) options.on_progress(total.deleted);
    // Refused keys stay: the next LIST starts after this page, so they are not met again.
    after = std::move(batch->last_key);
    // Reads of the resource's records deduplicated before now are not shared after.
    client.pool().invalidate_dedup(root);
    if (!batch->more) return Status::OK();
  }
}

namespace {

// One pool op: the partition references of record `id` as it is stored now. For a record a
// concurrent writer stored while remove_all swept: the sweep goes in key order, records before
// references, so it may have removed the references of a record stored behind it.
struct RestoreRefs {
  Resource::State* rs;
  const Runtime* rt;
  std::string id;
  Result<bool> operator()(OpContext& ctx) {
    auto cur = read_record(*rs, id, ctx);
    if (!cur.ok()) {
      if (cur.status().is_not_found()) return false;  // removed meanwhile
      return cur.status();
    }
    S3DB_RETURN_IF_ERROR(move_refs(*rs, *rt, id, {}, partition_keys(*rt, cur->doc, id), ctx));
    return true;
  }
};

}  // namespace

Status restore_survivors(Resource::State& rs, const Runtime* rt, const OpOptions& op,
                         Resource::RemoveAllResult& total) {
  if (rt->def.partitions.empty()) return Status::OK();
  Client& client = rs.client();
  Status failed;
  Status listed = client.list_each(
      rt->data_prefix,
      [&](ObjectMeta& obj) {
        auto restored = client.pool().run(RestoreRefs{&rs, rt, std::string(id_of_key(obj.key))}, client.effective(op));
        if (!restored.ok()) {
          failed = restored.status().with_context("restore the references of a record stored during the sweep");
          return false;
        }
        if (*restored) ++total.survivors;
        return true;
      },
      client.effective(op));
  S3DB_RETURN_IF_ERROR(failed);
  return listed;
}

Status all_removed(const Resource::RemoveAllResult& total) {
  if (total.failed == 0) return Status::OK();
  return total.first_error.with_context(std::to_string(total.failed) + " key(s) could not be removed; the first");
}

}  // namespace db

Status Resource::State::check_live() const {
  if (db->all_drops.load(std::memory_order_acquire) == all_drops_seen) return Status::OK();  // no drop since
  const std::string name = runtime()->def.name;
  std::lock_guard<std::mutex> lock(db->mu);
  auto it = db->drops.find(name);
  if ((it == db->drops.end() ? 0 : it->second) == drops_seen) return Status::OK();
  return Status::NotFound("resource '" + name + "'",
                          "dropped (drop_resource) after this handle was made: take a new handle");
}

Result<Resource::RemoveAllResult> Resource::remove_all(RemoveAllOptions options) {
  S3DB_RETURN_IF_ERROR(state_->check_live());
  const auto rt = state_->runtime();
  RemoveAllResult total;
  S3DB_RETURN_IF_ERROR(db::remove_root(state_->client(), rt->root, options, total).with_context("remove_all " + rt->def.name));
  S3DB_RETURN_IF_ERROR(db::restore_survivors(*state_, rt, options.op, total).with_context("remove_all " + rt->def.name));
  return total;
}

Result<Resource::RemoveAllResult> Resource::remove_all() { return remove_all(RemoveAllOptions{}); }

}  // namespace s3db
