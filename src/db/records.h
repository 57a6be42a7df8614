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

// The id at the end of a data or partition reference key: both end in "/id=<id>", and an id has
// no '/', so the id is what follows the last '/' and "id=" — whatever the id holds ("id=", '=',
// '%', ...). A key that does not end so is returned whole.
std::string_view id_of_key(std::string_view key) noexcept;

// Whether `doc` (record `id`) belongs under the partition prefix `prefix` (partition_prefix()):
// one of its reference keys starts with it. Partition reads keep only such records, so a stale
// reference (a crash, a concurrent move) never shows a record under values it no longer has.
bool in_partition(const Runtime& rt, const nlohmann::json& doc, std::string_view id, std::string_view prefix);

// UTC now as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string now_iso8601();

struct Stored {
  nlohmann::json doc;
  std::string etag;
  WriteStamp stamp;
  int version = 0;  // the schema version the record is stored under
};

// GET + decode, then the handle's upgrade functions (db/upgrades.h) when the record is stored
// under an older schema version. NotFound names the resource and id (and ends every read of a
// dropped resource's handle: Resource::State::check_live). Refreshes the catalog once when the
// record was written with a schema version this handle does not know yet.
Result<Stored> read_record(Resource::State& rs, std::string_view id, OpContext& ctx);

// Validates `doc` (full) against the current schema and encodes it into a PUT for `id`, its body
// stamped `stamp`.
Result<PutRequest> prepare_put(Resource::State& rs, const Runtime& rt, nlohmann::json& doc, std::string_view id,
                               const WriteStamp& stamp);

// The PUT of record `id` encoded as `enc` (what prepare_put ends with).
PutRequest record_put(const Runtime& rt, std::string_view id, Encoded enc);

// After a write or delete of record `id` whose references were `before` and are now `now`:
// writes the missing references of `now` and removes those of `before` no longer present. When it
// removed any, it reads the record back and writes the references of what is stored (and removes
// its own that are not), a few rounds at most: a writer racing in the other direction may have
// written a reference just before we removed it, and whoever removes last restores it. So a
// stored record never stays without its references; a stale reference may remain (a crash), and
// partition reads skip it (in_partition()).
Status move_refs(Resource::State& rs, const Runtime& rt, std::string_view id, const std::vector<std::string>& before,
                 const std::vector<std::string>& now, OpContext& ctx);

}  // namespace s3db::db
