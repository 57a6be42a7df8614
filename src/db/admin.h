// Internal: emptying a resource's root — Resource::remove_all and Database::drop_resource.
#pragma once

#include <s3db/client.h>
#include <s3db/resource.h>

#include "db/state.h"

#include <string>
#include <string_view>

namespace s3db::db {

// "<db prefix>resource=<name>/": the root under which every key of a resource lives.
std::string resource_root(const std::string& db_prefix, std::string_view name);

// Removes every key under `root`: one LIST page (≤ 1,000 keys) and one DeleteObjects of it per
// pool operation, until a LIST finds nothing more. Adds to `total` (keys the store refused are
// counted, the first kept, and skipped) and hands total.deleted to options.on_progress after each
// batch. A failed request (LIST or DeleteObjects, after the pool's retries) → its Status; what was
// removed before stays counted.
Status remove_root(Client& client, const std::string& root, const Resource::RemoveAllOptions& options,
                   Resource::RemoveAllResult& total);

// After remove_root of a resource with partitions: one more listing of its records (one LIST when
// none is left); a record found — stored by a concurrent writer during the sweep — keeps it and
// gets its partition references back (read + the missing reference PUTs: one pool op each),
// counted in total.survivors. The first failed request is the Status.
Status restore_survivors(Resource::State& rs, const Runtime* rt, const OpOptions& op,
                         Resource::RemoveAllResult& total);

// OK when remove_root left nothing behind; else the first refused key's error and their count.
Status all_removed(const Resource::RemoveAllResult& total);

}  // namespace s3db::db
