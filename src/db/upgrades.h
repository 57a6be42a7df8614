// Internal: upgrade functions on read (Resource::set_upgrade, ResourceConfig::upgrades) — a record
// stored under an older schema version, decoded with its own layout, goes through the handle's
// upgrades to the current version before any caller sees it.
#pragma once

#include "db/state.h"

#include <nlohmann/json.hpp>

#include <string_view>

namespace s3db::db {

// Passes `doc` (record `id`, decoded from schema version `version` < rt's current version)
// through the handle's upgrades[version], …, upgrades[current-1]; a missing step leaves it as it
// is. A step that fails, throws or returns a non-object → its Status (Internal for a throw,
// InvalidArgument for a non-object) with context "upgrade <resource>/<id> from version N".
Status apply_upgrades(const Resource::State& rs, const Runtime& rt, int version, std::string_view id,
                      nlohmann::json& doc);

}  // namespace s3db::db
