// Resource: single-record operations. Each public call is one pool operation whose body (an op
// object) validates, encodes and performs every storage request of the call. Every write is a
// db::RecordWrite (db/record_write.h): one conflict-retry loop for all of them.
#include "s3db/resource.h"

#include "db/content.h"
#include "db/ids.h"
#include "db/records.h"
#include "db/state.h"
#include "db/record_write.h"
#include "db/text_write.h"

namespace s3db {

using nlohmann::json;
using db::Runtime;

namespace {

using StatePtr = std::shared_ptr<Resource::State>;
using db::Mutation;
using db::RecordWrite;
using db::WriteKind;

Status check_given_id(const Runtime& rt, std::string_view id) {
  return db::check_id(id).with_context(std::string("resource ") + rt.def.name);
}

// ---- read deduplication (OpOptions::dedup_key) ----------------------------------------------------
// Reads of one record in flight share one execution. A read's key is its record's scope (the
// storage key: database prefix, resource, id; '\x1f' cannot occur in an id) then what shapes the
// result: the kind of read (get and exists return different types) and, for get, the database
// handle (its passphrase and catalog decode the record) and the schema version read through.
std::string read_scope(std::string_view data_key) {
  std::string scope(data_key);
  scope += '\x1f';
  return scope;
}

enum class ReadKind { kGet, kExists };

OpOptions read_options(const Resource::State& rs, std::string_view id, ReadKind kind, OpOptions options) {
  OpOptions o = rs.client().effective(std::move(options));
  if (!rs.db->options.dedup_reads || o.bypass || !db::check_id(id).ok()) return o;
  auto rt = rs.runtime();
  o.dedup_key = read_scope(db::data_key(*rt, id));
  if (kind == ReadKind::kExists) {
    o.dedup_key += "exists";
  } else {
    o.dedup_key += "get\x1f" + std::to_string(rs.db->uid) + '.' + std::to_string(rt->def.current_version) + '.' +
                   std::to_string(rs.upgrades_id());  // upgrade functions shape the result too
  }
  return o;
}

// Read-your-writes: a read submitted after a write of its record was acknowledged must not join
// (or reuse) a read submitted before. The write forgets the record's reads after each attempt,
// whatever its outcome (a failed write may have landed) — inside the op, so before the pool can
// complete it and the caller see the acknowledgement.
template <class Op>
struct ForgetsReads {
  Op op;
  OperationPool* pool;
  auto operator()(OpContext& ctx) {
    auto r = op(ctx);
    if (!pool->dedup_idle()) pool->invalidate_dedup(read_scope(op.key()));  // else: no key to build
    return r;
  }
  Status final_status(Status s) const
    requires requires(const Op& o) { o.final_status(Status()); }
  {
    return op.final_status(std::move(s));
  }
};

// Every record write is one RecordWrite op; its budget is what the pool will still do for it
// (db/write_loop.h), so it is built from the same effective options the pool receives.
// (Op: RecordWrite, or TextWrite for a document given as JSON text.)
template <class Op = RecordWrite, class... Args>
auto write_sync(const StatePtr& rs, OpOptions options, Args&&... args) {
  Client& c = rs->client();
  OpOptions o = c.effective(std::move(options));
  ForgetsReads<Op> op{Op(rs, std::forward<Args>(args)..., db::AttemptBudget::of(c.pool(), o)), &c.pool()};
  return c.pool().run(std::move(op), std::move(o));
}

template <class Op = RecordWrite, class... Args>
auto write_async(const StatePtr& rs, OpOptions options, Args&&... args) {
  Client& c = rs->client();
  OpOptions o = c.effective(std::move(options));
  ForgetsReads<Op> op{Op(rs, std::forward<Args>(args)..., db::AttemptBudget::of(c.pool(), o)), &c.pool()};
  return c.pool().submit(std::move(op), std::move(o));
}

WriteKind restore_kind(IfExists if_exists) {
  return if_exists == IfExists::kReplace ? WriteKind::kRestoreReplace : WriteKind::kRestore;
}

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

// remove: HEAD (or GET, when partition values may live in the body), DELETE, DELETE of its
// content, then references.
// A missing record is NotFound — unless an earlier attempt of this op saw it: its DELETE may have
// been applied before the failure the pool retried, and the record is gone either way.
struct RemoveOp {
  StatePtr rs;
  std::string id;
  bool seen = false;  // an attempt found the record (and may have deleted it)
  std::vector<std::string> refs;
  db::HooksPtr hooks;        // this call's hooks (db/hooks.h), taken at its start
  bool hooks_asked = false;  // before_delete said yes
  json removed;              // the record read, for after_delete and the event
  RemoveOp(StatePtr s, std::string i) : rs(std::move(s)), id(std::move(i)), hooks(db::hooks_of(*rs)) {}
  std::string key() const { return db::data_key(*rs->runtime(), id); }
  Status operator()(OpContext& ctx) {
    S3DB_RETURN_IF_ERROR(rs->check_live());
    auto rt = rs->runtime();
    S3DB_RETURN_IF_ERROR(check_given_id(*rt, id));
    if (hooks && !hooks_asked) {
      S3DB_RETURN_IF_ERROR(db::run_before_delete(*hooks, id));
      hooks_asked = true;
    }
    StorageClient& storage = rs->client().storage();
    const std::string key = db::data_key(*rt, id);
    Status found;
    if (rt->def.partitions.empty() && !(hooks && hooks->wants_removed())) {
      auto head = storage.head(key, ctx);
      found = head.status();
    } else {
      auto cur = db::read_record(*rs, id, ctx);
      found = cur.status();
      if (cur.ok()) {
        refs = db::partition_keys(*rt, cur->doc, id);
        if (hooks) removed = std::move(cur->doc);
      }
    }
    if (!found.ok()) {
      if (!found.is_not_found()) return found.with_context("remove " + rt->def.name + "/" + id);
      if (!seen) return Status::NotFound("resource " + rt->def.name, "no record with id '" + id + "'");
    } else {
      seen = true;
      Status s = storage.remove(key, ctx);
      if (!s.ok()) return s.with_context("remove " + rt->def.name + "/" + id);
    }
    S3DB_RETURN_IF_ERROR(db::remove_content(*rs, *rt, id, ctx));  // after the record: db/content.h
    S3DB_RETURN_IF_ERROR(db::move_refs(*rs, *rt, id, refs, {}, ctx));
    if (hooks) db::after_write(*rs->db, hooks, ResourceEventKind::kDeleted, true, id, std::move(removed), json());
    return Status::OK();
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
MetadataBudget Resource::behavior() const noexcept { return state_->runtime()->def.behavior; }
const std::vector<PartitionConfig>& Resource::partitions() const noexcept {
  return state_->runtime()->def.partitions;
}


Result<std::string> Resource::insert_json(std::string_view text, OpOptions options) {
  return write_sync<db::TextWrite>(state_, std::move(options), WriteKind::kInsert, std::string(text));
}

Future<std::string> Resource::insert_json_async(std::string text, OpOptions options) {
  return write_async<db::TextWrite>(state_, std::move(options), WriteKind::kInsert, std::move(text));
}

Result<std::string> Resource::restore_json(std::string_view text, IfExists if_exists, OpOptions options) {
  return write_sync<db::TextWrite>(state_, std::move(options), restore_kind(if_exists), std::string(text));
}

Future<std::string> Resource::restore_json_async(std::string text, IfExists if_exists, OpOptions options) {
  return write_async<db::TextWrite>(state_, std::move(options), restore_kind(if_exists), std::move(text));
}

Result<json> Resource::insert_json_document(std::string_view text, OpOptions options) {
  auto doc = db::parse_document(text, WriteKind::kInsert, name());
  if (!doc.ok()) return doc.status();
  return insert(std::move(doc).value(), std::move(options));
}

Result<json> Resource::insert(json doc, OpOptions options) {
  return write_sync(state_, std::move(options), WriteKind::kInsert, std::move(doc));
}

Future<json> Resource::insert_async(json doc, OpOptions options) {
  return write_async(state_, std::move(options), WriteKind::kInsert, std::move(doc));
}

Result<json> Resource::upsert(json doc, OpOptions options) {
  return write_sync(state_, std::move(options), WriteKind::kUpsert, std::move(doc));
}

Result<json> Resource::restore(json doc, IfExists if_exists, OpOptions options) {
  return write_sync(state_, std::move(options), restore_kind(if_exists), std::move(doc));
}

Future<json> Resource::restore_async(json doc, IfExists if_exists, OpOptions options) {
  return write_async(state_, std::move(options), restore_kind(if_exists), std::move(doc));
}

Result<json> Resource::get(std::string_view id, OpOptions options) {
  Client& c = state_->client();
  OpOptions o = read_options(*state_, id, ReadKind::kGet, std::move(options));
  return c.pool().run(GetOp{state_, std::string(id)}, std::move(o));
}

Future<json> Resource::get_async(std::string id, OpOptions options) {
  Client& c = state_->client();
  OpOptions o = read_options(*state_, id, ReadKind::kGet, std::move(options));
  return c.pool().submit(GetOp{state_, std::move(id)}, std::move(o));
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
      read_options(*rs, id, ReadKind::kExists, std::move(options)));
}

Result<json> Resource::update(std::string_view id, json changes, OpOptions options) {
  return write_sync(state_, std::move(options), std::string(id), shallow_merge(std::move(changes)));
}

Future<json> Resource::update_async(std::string id, json changes, OpOptions options) {
  return write_async(state_, std::move(options), std::move(id), shallow_merge(std::move(changes)));
}

Result<json> Resource::update(std::string_view id, std::function<json(json)> fn, OpOptions options) {
  Mutation m = [fn = std::move(fn)](json current) -> Result<json> { return fn(std::move(current)); };
  return write_sync(state_, std::move(options), std::string(id), std::move(m));
}

Result<json> Resource::patch(std::string_view id, json merge_patch, OpOptions options) {
  Mutation m = [p = std::move(merge_patch)](json current) -> Result<json> {
    if (!p.is_object()) return Status::InvalidArgument("patch", "a merge patch must be a JSON object");
    current.merge_patch(p);
    return current;
  };
  return write_sync(state_, std::move(options), std::string(id), std::move(m));
}

Result<json> Resource::replace(std::string_view id, json doc, OpOptions options) {
  Mutation m = [d = std::move(doc)](json current) -> Result<json> {
    json next = d;
    if (!next.is_object()) return Status::InvalidArgument("replace", "the document is not a JSON object");
    next.erase("createdAt");
    next.erase("updatedAt");
    if (current.contains("createdAt")) next["createdAt"] = current["createdAt"];
    return next;
  };
  return write_sync(state_, std::move(options), std::string(id), std::move(m));
}

Status Resource::remove(std::string_view id, OpOptions options) {
  Client& c = state_->client();
  return c.pool().run(ForgetsReads<RemoveOp>{RemoveOp{state_, std::string(id)}, &c.pool()},
                      c.effective(std::move(options)));
}

Future<void> Resource::remove_async(std::string id, OpOptions options) {
  Client& c = state_->client();
  return c.pool().submit(ForgetsReads<RemoveOp>{RemoveOp{state_, std::move(id)}, &c.pool()},
                         c.effective(std::move(options)));
}

}  // namespace s3db
