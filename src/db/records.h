// Internal: record keys, partition reference keys and the storage steps shared by Resource ops.
// Every function here runs INSIDE a pool operation and uses its OpContext (no nested pool ops).
#pragma once

#include "db/state.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace s3db::db {

std::string data_key(const Runtime& rt, std::string_view id);

// Reference keys of `doc` for every partition whose fields are all present scalars.
std::vector<std::string> partition_keys(const Runtime& rt, const nlohmann::json& doc, std::string_view id);

// "<root><partition>/<f1>=<v1>/.../" for the leading fields given in `values`. InvalidArgument for
// an unknown partition, a value for a field that is not in it, or a gap in the leading fields.
Result<std::string> partition_prefix(const Runtime& rt, const std::string& partition,
                                     const nlohmann::json& values);

// The id at the end of a data or partition reference key.
std::string_view id_of_key(std::string_view key) noexcept;

// UTC now as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string now_iso8601();

struct Stored {
  nlohmann::json doc;
  std::string etag;
};

// GET + decode. NotFound names the resource and id. Refreshes the catalog once when the record
// was written with a schema version this handle does not know yet.
Result<Stored> read_record(Resource::State& rs, std::string_view id, OpContext& ctx);

// Validates `doc` (full) against the current schema and encodes it into a PUT for `id`.
Result<PutRequest> prepare_put(Resource::State& rs, const Runtime& rt, nlohmann::json& doc, std::string_view id);

// Writes missing partition references of `now`, removes those of `before` no longer present.
Status sync_refs(StorageClient& storage, const std::vector<std::string>& before,
                 const std::vector<std::string>& now, OpContext& ctx);

}  // namespace s3db::db
