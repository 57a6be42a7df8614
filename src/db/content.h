// Internal: where a record's binary content lives (Resource::set_content and friends), and the
// step of RemoveOp that deletes it. Runs INSIDE a pool operation, with its OpContext.
#pragma once

#include "db/state.h"

#include <string>
#include <string_view>

namespace s3db::db {

// "<db prefix>resource=<name>/content/id=<id>": beside the record ("…/data/id=<id>"), outside
// every prefix the record reads list ("…/data/id=", "…/partition=").
std::string content_key(const Runtime& rt, std::string_view id);

// Deletes the content of record `id` (OK when it has none). RemoveOp calls it after deleting the
// record, so a set_content racing with the remove sees the record gone and deletes what it wrote.
Status remove_content(Resource::State& rs, const Runtime& rt, std::string_view id, OpContext& ctx);

}  // namespace s3db::db
