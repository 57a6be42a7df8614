// Resource: single-record operations. Each public call is one pool operation whose body (an op
// object below) validates, encodes and performs every storage request of the call.
#include "s3db/resource.h"

#include "db/ids.h"
#include "db/records.h"
#include "db/state.h"
#include "db/text.h"
#include "storage/object_util.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace s3db {

using nlohmann::json;
using db::Runtime;

namespace {

using StatePtr = std::shared_ptr<Resource::State>;

// Picks the id of a new document: the caller's "id", the resource's generator, or a random one.
Result<std::string> choose_id(Resource::State& rs, const Runtime& rt, json& doc) {
  if (!doc.is_object()) return Status::InvalidArgument("insert " + rt.def.name, "the document is not a JSON object");
  auto it = doc.find("id");
  std::string id;
  if (it != doc.end() && !it->is_null()) {
    if (!it->is_string()) return Status::InvalidArgument("insert " + rt.def.name, "id must be a string");
    id = it->get<std::string>();
  } else if (rs.id_generator) {
    id = rs.id_generator();
  } else {
    id = db::random_id(rt.def.id_size);
  }
  S3DB_RETURN_IF_ERROR(db::check_id(id).with_context("insert " + rt.def.name));
  if (it == doc.end() || it->is_null()) doc["id"] = id;
  return id;
}

// Conflict backoff inside an update loop: full jitter over a ceiling that doubles per conflict
// and scales with how long one read-modify-write cycle took (a slow store needs wider spacing),
// so that concurrent writers of one record spread out instead of colliding again at once.
void conflict_pause(int attempt, std::chrono::steady_clock::duration cycle, OpContext& ctx) {
  using std::chrono::microseconds;
  const auto cycle_us = static_cast<std::uint64_t>(std::chrono::duration_cast<microseconds>(cycle).count());
  const std::uint64_t base = std::max<std::uint64_t>(cycle_us, 100);
  const std::uint64_t ceiling = std::min<std::uint64_t>(base << std::min(attempt, 6), 2000000);
  const auto us = db::random_u64() % (ceiling + 1);
  if (!ctx.cancelled()) std::this_thread::sleep_for(microseconds(us));
}

Status check_given_id(const Runtime& rt, std::string_view id) {
  return db::check_id(id).with_context(std::string("resource ") + rt.def.name);
}

using Mutation = std::function<Result<json>(json current)>;

// Read, mutate, conditional write (If-Match), re-read on conflict. Moves partition references.
Result<json> update_loop(Resource::State& rs, const std::string& id, const Mutation& mutate, OpContext& ctx,
                         bool keep_timestamps = false) {
  StorageClient& storage = rs.client().storage();
  for (int attempt = 1; attempt <= kMaxUpdateAttempts; ++attempt) {
    const auto cycle_start = std::chrono::steady_clock::now();
    auto cur = db::read_record(rs, id, ctx);
    if (!cur.ok()) return cur.status();
    auto rt = rs.runtime();
    const auto before = db::partition_keys(*rt, cur->doc, id);
    json created = cur->doc.contains("createdAt") ? cur->doc["createdAt"] : json();
    auto next = mutate(std::move(cur->doc));
    if (!next.ok()) return next.status();
    json& doc = *next;
    if (!doc.is_object()) return Status::InvalidArgument("update " + rt->def.name + "/" + id, "not a JSON object");
    if (auto it = doc.find("id"); it != doc.end() && *it != json(id)) {
      return Status::InvalidArgument("update " + rt->def.name + "/" + id, "the id cannot be changed");
    }
    doc["id"] = id;
    if (rt->def.timestamps && !keep_timestamps) {
      if (!created.is_null()) doc["createdAt"] = created;
      doc["updatedAt"] = db::now_iso8601();
    }
    auto put = db::prepare_put(rs, *rt, doc, id);
    if (!put.ok()) return put.status();
    put->if_match = cur->etag;
    auto w = storage.put_moved(std::move(*put), ctx);  // consumed only on success
    if (w.ok()) {
      S3DB_RETURN_IF_ERROR(db::sync_refs(storage, before, db::partition_keys(*rt, doc, id), ctx));
      return std::move(*next);
    }
    if (w.status().retryable() && !ctx.cancelled()) {
      // Ambiguous outcome: the store failed the conditional write without saying whether it was
      // applied (RGW answers HTTP 500 to racing If-Match writes of one object). The write token
      // makes our body — hence its ETag — unique, so one HEAD decides; re-running the mutation
      // blindly (a pool retry) could apply it twice.
      auto now = storage.head(put->key, ctx);
      if (now.ok() && now->etag == storage::md5_hex(put->body)) {
        S3DB_RETURN_IF_ERROR(db::sync_refs(storage, before, db::partition_keys(*rt, doc, id), ctx));
        return std::move(*next);
      }
      if (!now.ok()) return w.status().with_context("update " + rt->def.name + "/" + id);
      // Not applied: go round again like a conflict.
    } else if (!w.status().is_precondition_failed()) {
      return w.status().with_context("update " + rt->def.name + "/" + id);
    }
    if (ctx.cancelled()) return ctx.cancel_status();
    conflict_pause(attempt, std::chrono::steady_clock::now() - cycle_start, ctx);
  }
  return Status::PreconditionFailed("update " + rs.runtime()->def.name + "/" + id,
                                    "gave up after " + std::to_string(kMaxUpdateAttempts) +
                                        " conflicting concurrent writes");
}

// insert (and upsert): a conditional create. Prepared once; the pool may re-run it on a
// retryable failure, when an AlreadyExists of our own earlier attempt must count as success.
struct InsertOp {
  InsertOp(StatePtr state, json document, bool is_upsert = false, bool keep_times = false)
      : rs(std::move(state)), doc(std::move(document)), upsert(is_upsert), keep_timestamps(keep_times) {}

  StatePtr rs;
  json doc;
  bool upsert = false;
  bool keep_timestamps = false;
  bool prepared = false;
  std::string id;
  PutRequest put;
  std::vector<std::string> refs;
  std::shared_ptr<const Runtime> rt;

  Status prepare() {
    rt = rs->runtime();
    auto chosen = choose_id(*rs, *rt, doc);
    if (!chosen.ok()) return chosen.status();
    id = std::move(chosen).value();
    if (rt->def.timestamps) {
      auto now = db::now_iso8601();
      for (const char* field : {"createdAt", "updatedAt"}) {
        auto it = doc.find(field);
        if (!keep_timestamps || it == doc.end() || it->is_null()) {
          doc[field] = now;
        } else if (!it->is_string() || !db::valid_date(it->get_ref<const std::string&>())) {
          return Status::InvalidArgument("restore " + rt->def.name + "/" + id,
                                         std::string(field) + " is not an ISO 8601 date");
        }
      }
    }
    auto p = db::prepare_put(*rs, *rt, doc, id);
    if (!p.ok()) return p.status();
    put = std::move(p).value();
    put.if_none_match = true;
    refs = db::partition_keys(*rt, doc, id);
    prepared = true;
    return Status::OK();
  }

  Result<json> operator()(OpContext& ctx) {
    if (!prepared) S3DB_RETURN_IF_ERROR(prepare());
    StorageClient& storage = rs->client().storage();
    // Consumed only on success; a failed attempt keeps `put` for the checks below and a retry.
    auto w = storage.put_moved(std::move(put), ctx);
    if (!w.ok()) {
      if (!w.status().is_already_exists()) return w.status().with_context("insert " + rt->def.name + "/" + id);
      if (upsert) {
        json replacement = doc;
        const bool keep = keep_timestamps;
        return update_loop(*rs, id, [replacement, keep](json current) -> Result<json> {
          json next = replacement;
          if (!keep && current.contains("createdAt")) next["createdAt"] = current["createdAt"];
          return next;
        }, ctx, keep);
      }
      bool ours = false;
      if (ctx.attempt() > 1) {  // an earlier attempt may have written it before failing
        auto head = storage.head(put.key, ctx);
        ours = head.ok() && head->metadata == put.metadata;
      }
      if (!ours) {
        return Status::AlreadyExists("insert " + rt->def.name + "/" + id, "a record with this id already exists");
      }
    }
    S3DB_RETURN_IF_ERROR(db::sync_refs(storage, {}, refs, ctx));
    return std::move(doc);
  }
};

struct GetOp {
  StatePtr rs;
  std::string id;
  Result<json> operator()(OpContext& ctx) {
    S3DB_RETURN_IF_ERROR(check_given_id(*rs->runtime(), id));
    auto r = db::read_record(*rs, id, ctx);
    if (!r.ok()) return r.status();
    return std::move(r->doc);
  }
};

struct UpdateOp {
  StatePtr rs;
  std::string id;
  Mutation mutate;
  Result<json> operator()(OpContext& ctx) {
    S3DB_RETURN_IF_ERROR(check_given_id(*rs->runtime(), id));
    return update_loop(*rs, id, mutate, ctx);
  }
};

struct RemoveOp {
  StatePtr rs;
  std::string id;
  Status operator()(OpContext& ctx) {
    auto rt = rs->runtime();
    S3DB_RETURN_IF_ERROR(check_given_id(*rt, id));
    StorageClient& storage = rs->client().storage();
    const std::string key = db::data_key(*rt, id);
    std::vector<std::string> refs;
    if (rt->def.partitions.empty()) {
      auto head = storage.head(key, ctx);
      if (!head.ok()) {
        if (head.status().is_not_found()) {
          return Status::NotFound("resource " + rt->def.name, "no record with id '" + id + "'");
        }
        return head.status().with_context("remove " + rt->def.name + "/" + id);
      }
    } else {  // partition values may live in the body: read the whole record
      auto cur = db::read_record(*rs, id, ctx);
      if (!cur.ok()) return cur.status();
      refs = db::partition_keys(*rt, cur->doc, id);
    }
    Status s = storage.remove(key, ctx);
    if (!s.ok()) return s.with_context("remove " + rt->def.name + "/" + id);
    return db::sync_refs(storage, refs, {}, ctx);
  }
};

Mutation shallow_merge(json changes) {
  return [changes = std::move(changes)](json current) -> Result<json> {
    if (!changes.is_object()) return Status::InvalidArgument("update", "changes must be a JSON object");
    for (const auto& [k, v] : changes.items()) current[k] = v;
    return current;
  };
}


}  // namespace

const std::string& Resource::name() const noexcept { return state_->runtime()->def.name; }
const Schema& Resource::schema() const noexcept { return *state_->runtime()->schema; }
int Resource::schema_version() const noexcept { return state_->runtime()->def.current_version; }
Behavior Resource::behavior() const noexcept { return state_->runtime()->def.behavior; }
const std::vector<PartitionConfig>& Resource::partitions() const noexcept {
  return state_->runtime()->def.partitions;
}


Result<json> Resource::insert(json doc, OpOptions options) {
  Client& c = state_->client();
  return c.pool().run(InsertOp(state_, std::move(doc)), c.effective(std::move(options)));
}

Future<json> Resource::insert_async(json doc, OpOptions options) {
  Client& c = state_->client();
  return c.pool().submit(InsertOp(state_, std::move(doc)), c.effective(std::move(options)));
}

Result<json> Resource::upsert(json doc, OpOptions options) {
  Client& c = state_->client();
  return c.pool().run(InsertOp(state_, std::move(doc), /*is_upsert=*/true), c.effective(std::move(options)));
}

Result<json> Resource::restore(json doc, IfExists if_exists, OpOptions options) {
  Client& c = state_->client();
  return c.pool().run(InsertOp(state_, std::move(doc), if_exists == IfExists::kReplace, /*keep_times=*/true),
                      c.effective(std::move(options)));
}

Future<json> Resource::restore_async(json doc, IfExists if_exists, OpOptions options) {
  Client& c = state_->client();
  return c.pool().submit(InsertOp(state_, std::move(doc), if_exists == IfExists::kReplace, /*keep_times=*/true),
                         c.effective(std::move(options)));
}

Result<json> Resource::get(std::string_view id, OpOptions options) {
  Client& c = state_->client();
  return c.pool().run(GetOp{state_, std::string(id)}, c.effective(std::move(options)));
}

Future<json> Resource::get_async(std::string id, OpOptions options) {
  Client& c = state_->client();
  return c.pool().submit(GetOp{state_, std::move(id)}, c.effective(std::move(options)));
}

Result<std::optional<json>> Resource::get_or_null(std::string_view id, OpOptions options) {
  auto r = get(id, std::move(options));
  if (r.ok()) return std::optional<json>(std::move(r).value());
  if (r.status().is_not_found()) return std::optional<json>();
  return r.status();
}

Result<bool> Resource::exists(std::string_view id, OpOptions options) {
  Client& c = state_->client();
  auto rs = state_;
  std::string key = db::data_key(*rs->runtime(), id);
  Status bad = check_given_id(*rs->runtime(), id);
  return c.pool().run(
      [rs, key, bad](OpContext& ctx) -> Result<bool> {
        if (!bad.ok()) return bad;
        auto head = rs->client().storage().head(key, ctx);
        if (head.ok()) return true;
        if (head.status().is_not_found()) return false;
        return head.status();
      },
      c.effective(std::move(options)));
}

Result<json> Resource::update(std::string_view id, json changes, OpOptions options) {
  Client& c = state_->client();
  return c.pool().run(UpdateOp{state_, std::string(id), shallow_merge(std::move(changes))},
                      c.effective(std::move(options)));
}

Future<json> Resource::update_async(std::string id, json changes, OpOptions options) {
  Client& c = state_->client();
  return c.pool().submit(UpdateOp{state_, std::move(id), shallow_merge(std::move(changes))},
                         c.effective(std::move(options)));
}

Result<json> Resource::update(std::string_view id, std::function<json(json)> fn, OpOptions options) {
  Client& c = state_->client();
  Mutation m = [fn = std::move(fn)](json current) -> Result<json> { return fn(std::move(current)); };
  return c.pool().run(UpdateOp{state_, std::string(id), std::move(m)}, c.effective(std::move(options)));
}

Result<json> Resource::patch(std::string_view id, json merge_patch, OpOptions options) {
  Client& c = state_->client();
  Mutation m = [p = std::move(merge_patch)](json current) -> Result<json> {
    if (!p.is_object()) return Status::InvalidArgument("patch", "a merge patch must be a JSON object");
    current.merge_patch(p);
    return current;
  };
  return c.pool().run(UpdateOp{state_, std::string(id), std::move(m)}, c.effective(std::move(options)));
}

Result<json> Resource::replace(std::string_view id, json doc, OpOptions options) {
  Client& c = state_->client();
  Mutation m = [d = std::move(doc)](json current) -> Result<json> {
    json next = d;
    if (!next.is_object()) return Status::InvalidArgument("replace", "the document is not a JSON object");
    next.erase("createdAt");
    next.erase("updatedAt");
    if (current.contains("createdAt")) next["createdAt"] = current["createdAt"];
    return next;
  };
  return c.pool().run(UpdateOp{state_, std::string(id), std::move(m)}, c.effective(std::move(options)));
}

Status Resource::remove(std::string_view id, OpOptions options) {
  Client& c = state_->client();
  return c.pool().run(RemoveOp{state_, std::string(id)}, c.effective(std::move(options)));
}

Future<void> Resource::remove_async(std::string id, OpOptions options) {
  Client& c = state_->client();
  return c.pool().submit(RemoveOp{state_, std::move(id)}, c.effective(std::move(options)));
}

}  // namespace s3db
