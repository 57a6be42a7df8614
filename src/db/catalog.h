// Internal: the s3db.json catalog — its in-memory model, parsing (strict, never crashing on bad
// input) and serialisation. Format: docs/storage-format.md.
#pragma once

#include <s3db/resource.h>
#include <s3db/schema.h>
#include <s3db/status.h>

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace s3db::db {

inline constexpr int kCatalogFormat = 1;

struct ResourceDef {
  std::string name;
  int current_version = 1;
  MetadataBudget behavior = MetadataBudget::kUserManaged;
  bool timestamps = false;
  UnknownAttributes unknown = UnknownAttributes::kReject;
  int id_size = 22;
  std::vector<PartitionConfig> partitions;
  nlohmann::json keys = nlohmann::json::object();  // attribute → short key, every version
  int next_key = 0;                                // next short key number (base 36)
  std::map<int, nlohmann::json> versions;          // version → attributes
};

struct Security {
  std::string salt;        // base64url
  int iterations = 0;
  std::string check;       // a known value sealed with the key (wrong-passphrase detection)
  bool present() const { return !salt.empty(); }
};

struct Catalog {
  Security security;
  std::map<std::string, ResourceDef> resources;
};

// InvalidArgument "s3db.json at <key> is corrupt: <why>" on anything unexpected.
Result<Catalog> parse_catalog(std::string_view text, std::string_view key);
// The catalog's JSON text with the write stamp `stamp` (WriteStamp::text(), member "w-").
std::string serialize_catalog(const Catalog& catalog, std::string_view stamp);

std::string_view unknown_name(UnknownAttributes u) noexcept;  // "reject" | "keep" | "strip"

// Checks a resource or partition name: 1..100 of [A-Za-z0-9_.-] (partitions: no '.').
Status check_name(std::string_view what, std::string_view name, bool allow_dot);

}  // namespace s3db::db
