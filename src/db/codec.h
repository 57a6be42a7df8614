// Internal: a document ⇄ (user metadata, body) — the record format of docs/storage-format.md.
#pragma once

#include <s3db/resource.h>
#include <s3db/schema.h>
#include <s3db/status.h>
#include <s3db/storage_client.h>

#include "db/scalar.h"
#include "db/stamp.h"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace s3db::db {

class SecretBox;

// Reserved metadata keys. Attribute short keys are base 36 ([0-9a-z]+), so a '-' marks a reserved
// key. ('_' is not usable: RGW turns it into '-' in x-amz-meta-* names.)
inline constexpr std::string_view kVersionKey = "v-";
inline constexpr std::string_view kCreatedKey = "c-";
inline constexpr std::string_view kUpdatedKey = "u-";
inline constexpr std::string_view kExtraKey = "x-";  // unknown attributes kept (JSON object)
// Every write also stores its write stamp in the body (db/stamp.h, body member kStampKey).

// A sealed secret value: "2." + base64url(nonce ‖ ciphertext ‖ tag), its associated data binding
// resource, attribute AND record id, so that a value moved to another record (or attribute, or
// resource) fails to open. Values written before (format 1) have no prefix and bind only
// resource and attribute; they still read. docs/storage-format.md.
inline constexpr std::string_view kSecretV2Prefix = "2.";

struct Slot {
  std::string name;  // attribute name
  std::string key;   // short metadata key
  FieldType type = FieldType::kAny;
};

// How one schema version is laid out: its attributes in schema order with their short keys.
struct Layout {
  int version = 1;
  std::string version_text;  // base 36 of version (the "_v" value)
  std::string resource;      // for secret AAD and messages
  std::vector<Slot> slots;   // schema order, then createdAt/updatedAt

  const Slot* by_key(std::string_view key) const noexcept;
  const Slot* by_name(std::string_view name) const noexcept;
};

// Builds the layout of `schema` with attribute short keys from `keys` (name → key; every schema
// attribute must have one: InvalidArgument otherwise).
Result<Layout> make_layout(std::string resource, int version, const Schema& schema,
                           const nlohmann::json& keys);

struct Encoded {
  Metadata metadata;
  std::string body;         // "~<token>", or a JSON object {"w-": token, short key: value, ...}
  bool moved_to_body = false;  // user-managed fallback: the record did not fit metadata
  bool truncated = false;      // truncate-data dropped or cut something
};

// What a write adds to the fields: the record it is for and its stamp.
struct RecordBinding {
  std::string_view id;      // the record id (lives in the key; bound into secrets)
  const WriteStamp& stamp;  // of this write
};

// Encodes a validated document ("id" is ignored: it lives in the key). InvalidArgument when the
// record does not fit under enforce-limits, an integer is outside int64, or a secret needs a
// passphrase (`box` null). The 2 KB budget counts what S3 receives (metadata_value_size()).
Result<Encoded> encode(const nlohmann::json& doc, const Layout& layout, MetadataBudget behavior,
                       const SecretBox* box, RecordBinding write);

// ---- The parts of encode(), for insert_json's one-pass encoder (db/text_record.h) ----------

// One encoded field before placement: `raw` views `owned` or a string that outlives placement.
struct Field {
  std::string_view key;  // the slot's short key (or kExtraKey)
  std::string owned;
  std::string_view raw;
  FieldType type;
};

// The value of slot `s` (validated) into `f.raw` (a view of a string value, or f.owned). A
// string, number or boolean given as a Scalar is encoded exactly as the same value parsed.
Status encode_scalar(const Slot& s, const Scalar& v, const Layout& l, const SecretBox* box, std::string_view id,
                     Field& f);
Status encode_value(const Slot& s, const nlohmann::json& v, const Layout& l, const SecretBox* box,
                    std::string_view id, Field& f);

// Places encoded `fields` (slot order, then the kept unknown attributes under kExtraKey) in the
// metadata and the body, as `behavior` says: the second half of encode().
Result<Encoded> place(std::vector<Field>& fields, const Layout& layout, MetadataBudget behavior,
                      const WriteStamp& stamp);

// Schema version stored in a record's metadata; 0 when absent or malformed.
int stored_version(const Metadata& metadata) noexcept;

// Decodes a record written with `layout` (the layout of stored_version()). Internal when a value
// is malformed; Unauthorized when a secret does not decrypt (wrong passphrase, or a value moved
// from another record); InvalidArgument when a secret is present but no passphrase was given.
// The result has "id" set to `id`; `stamp`, when given, receives the body's write stamp.
Result<nlohmann::json> decode(const Metadata& metadata, std::string_view body, const Layout& layout,
                              const SecretBox* box, std::string_view id, WriteStamp* stamp = nullptr);

}  // namespace s3db::db
