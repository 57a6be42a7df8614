#include "db/records.h"

#include "core/iso8601.h"
#include "db/text.h"
#include "db/upgrades.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

namespace s3db::db {

using nlohmann::json;

std::string data_key(const Runtime& rt, std::string_view id) {
  std::string key;
  key.reserve(rt.data_prefix.size() + id.size());
  key += rt.data_prefix;
  key += id;
  return key;
}

namespace {
std::string partition_value(const json& v) {
  if (v.is_string()) return key_segment(v.get_ref<const std::string&>());
  return key_segment(v.dump());
}
}  // namespace

std::vector<std::string> partition_keys(const Runtime& rt, const json& doc, std::string_view id) {
  std::vector<std::string> keys;
  for (const auto& p : rt.def.partitions) {
    std::string key = rt.partition_root + p.name + "/";
    bool complete = true;
    for (const auto& f : p.fields) {
      auto it = doc.find(f);
      if (it == doc.end() || it->is_null() || it->is_structured()) { complete = false; break; }
      key += f;
      key += '=';
      key += partition_value(*it);
      key += '/';
    }
    if (!complete) continue;
    key += "id=";
    key += id;
    keys.push_back(std::move(key));
  }
  return keys;
}

Result<std::string> partition_prefix(const Runtime& rt, const std::string& partition, const json& values) {
  auto p = std::find_if(rt.def.partitions.begin(), rt.def.partitions.end(),
                        [&](const PartitionConfig& c) { return c.name == partition; });
  if (p == rt.def.partitions.end()) {
    return Status::InvalidArgument("resource " + rt.def.name, "no partition named '" + partition + "'");
  }
  if (!values.is_object()) return Status::InvalidArgument("partition " + partition, "values must be a JSON object");
  for (const auto& [k, _] : values.items()) {
    if (std::find(p->fields.begin(), p->fields.end(), k) == p->fields.end()) {
      return Status::InvalidArgument("partition " + partition, "'" + k + "' is not one of its fields");
    }
  }
  std::string prefix = rt.partition_root + p->name + "/";
  std::size_t used = 0;
  for (const auto& f : p->fields) {
    auto it = values.find(f);
    if (it == values.end()) break;
    if (it->is_null() || it->is_structured()) {
      return Status::InvalidArgument("partition " + partition, "value of '" + f + "' must be a scalar");
    }
    prefix += f + "=" + partition_value(*it) + "/";
    ++used;
  }
  if (used != values.size()) {
    return Status::InvalidArgument("partition " + partition, "values must cover its leading fields in order");
  }
  return prefix;
}

std::string_view id_of_key(std::string_view key) noexcept {
  const auto slash = key.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? key : key.substr(slash + 1);
  return last.starts_with("id=") ? last.substr(3) : key;
}

bool in_partition(const Runtime& rt, const json& doc, std::string_view id, std::string_view prefix) {
  for (const auto& key : partition_keys(rt, doc, id)) {
    if (std::string_view(key).starts_with(prefix)) return true;
  }
  return false;
}

std::string now_iso8601() { return core::iso8601_utc(std::chrono::system_clock::now()); }

Result<Stored> read_record(Resource::State& rs, std::string_view id, OpContext& ctx) {
  S3DB_RETURN_IF_ERROR(rs.check_live());
  auto rt = rs.runtime();
  auto obj = rs.client().storage().get(data_key(*rt, id), ctx);
  if (!obj.ok()) {
    if (obj.status().is_not_found()) {
      return Status::NotFound("resource " + rt->def.name, "no record with id '" + std::string(id) + "'");
    }
    return obj.status().with_context("get " + rt->def.name + "/" + std::string(id));
  }
  const int version = stored_version(obj->meta.metadata);
  if (version == 0) {
    return Status::Internal("decode " + rt->def.name + "/" + std::string(id), "no schema version in the metadata");
  }
  const Layout* layout = rt->layout_for(version);
  if (layout == nullptr) {
    S3DB_RETURN_IF_ERROR(rs.refresh(ctx));
    rt = rs.runtime();
    layout = rt->layout_for(version);
    if (layout == nullptr) {
      return Status::Internal("decode " + rt->def.name + "/" + std::string(id),
                              "schema version " + std::to_string(version) + " is not in s3db.json");
    }
  }
  Stored out;
  auto doc = decode(obj->meta.metadata, obj->body, *layout, rs.db->box.get(), id, &out.stamp);
  if (!doc.ok()) return doc.status();
  out.doc = std::move(doc).value();
  out.etag = std::move(obj->meta.etag);
  out.version = version;
  if (version < rt->def.current_version) S3DB_RETURN_IF_ERROR(apply_upgrades(rs, *rt, version, id, out.doc));
  return out;
}

Result<PutRequest> prepare_put(Resource::State& rs, const Runtime& rt, json& doc, std::string_view id,
                               const WriteStamp& stamp) {
  S3DB_RETURN_IF_ERROR(rt.schema->validate(doc, rt.def.unknown).with_context(
      std::string("write ") + rt.def.name + "/" + std::string(id)));
  auto enc = encode(doc, *rt.layout, rt.def.behavior, rs.db->box.get(), RecordBinding{id, stamp});
  if (!enc.ok()) return enc.status();
  return record_put(rt, id, std::move(enc).value());
}

PutRequest record_put(const Runtime& rt, std::string_view id, Encoded enc) {
  if (enc.moved_to_body) {
    spdlog::warn("s3db: record {}/{} does not fit 2 KB of metadata; stored in the body (behavior user-managed)",
                 rt.def.name, id);
  }
  PutRequest put;
  put.key = data_key(rt, id);
  put.metadata = std::move(enc.metadata);
  if (!enc.body.empty()) {
    put.body = std::move(enc.body);
    put.content_type = "application/json";
  }
  return put;
}

namespace {

bool contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

Status put_refs(StorageClient& storage, const std::vector<std::string>& keys, const std::vector<std::string>& skip,
                OpContext& ctx) {
  for (const auto& key : keys) {
    if (contains(skip, key)) continue;
    PutRequest ref;
    ref.key = key;
    auto r = storage.put_moved(std::move(ref), ctx);
    if (!r.ok()) return r.status().with_context("write partition reference " + key);
  }
  return Status::OK();
}

// Removes `keys` not in `keep`; true in `removed` when it removed any.
Status remove_refs(StorageClient& storage, const std::vector<std::string>& keys, const std::vector<std::string>& keep,
                   bool& removed, OpContext& ctx) {
  for (const auto& key : keys) {
    if (contains(keep, key)) continue;
    Status s = storage.remove(key, ctx);
    if (!s.ok()) return s.with_context("remove partition reference " + key);
    removed = true;
  }
  return Status::OK();
}

constexpr int kRefRounds = 3;

}  // namespace

Status move_refs(Resource::State& rs, const Runtime& rt, std::string_view id, const std::vector<std::string>& before,
                 const std::vector<std::string>& now, OpContext& ctx) {
  StorageClient& storage = rs.client().storage();
  S3DB_RETURN_IF_ERROR(put_refs(storage, now, before, ctx));
  bool removed = false;
  S3DB_RETURN_IF_ERROR(remove_refs(storage, before, now, removed, ctx));
  if (!removed) return Status::OK();
  std::vector<std::string> ours = now;
  for (int round = 0; removed && round < kRefRounds; ++round) {
    auto cur = read_record(rs, id, ctx);
    if (!cur.ok() && !cur.status().is_not_found()) return cur.status();
    const std::vector<std::string> stored = cur.ok() ? partition_keys(rt, cur->doc, id) : std::vector<std::string>{};
    S3DB_RETURN_IF_ERROR(put_refs(storage, stored, {}, ctx));
    removed = false;
    S3DB_RETURN_IF_ERROR(remove_refs(storage, ours, stored, removed, ctx));
    ours = stored;
  }
  return Status::OK();
}

}  // namespace s3db::db
