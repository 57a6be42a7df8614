// s3db/schema.h — attribute rules in s3db.js's style, compiled once, checked on every write.
//
// Contract
// - Schema::compile(attributes) parses a JSON object mapping attribute name → rule. A rule is a
//   string "type|modifier|modifier:arg|..." or, for nested objects, a JSON object of rules
//   (equivalent to "object" with those nested attributes), or an object rule form
//   {"type": "string", "required": true, "min": 2, "max": 100, "default": "x", "items": "string"}.
//   Types: string, number, integer, boolean, email, url, date (ISO-8601), array, object, json,
//   any, secret. Modifiers: required, optional, min:N, max:N (string/secret/email/url: UTF-8
//   code points; number/integer: value; array: item count), items:<type> (array), default:<v>.
//   An unknown type or modifier, a bad argument, or a reserved name ("id") → InvalidArgument
//   naming the attribute. Parsing happens once: validation never parses rule strings.
// - validate(doc, ...) checks a whole document (insert/replace) or only the fields present
//   (partial, used for merges before the merged result is checked in full), applies defaults,
//   and normalises nothing else. On failure: InvalidArgument whose message names EVERY failing
//   field and the rule it broke, e.g. "validation failed: name (min:2), age (type:integer)";
//   errors() of the same call gives the structured list.
// - Unknown attributes (not in the schema, not "id", not a timestamp) are rejected, kept or
//   stripped per UnknownAttributes. Kept unknown attributes are stored JSON-encoded.
// - Thread safety: a compiled Schema is immutable; share it freely across threads.
#pragma once

#include <s3db/status.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace s3db {

enum class FieldType : std::uint8_t {
  kString, kNumber, kInteger, kBoolean, kEmail, kUrl, kDate, kArray, kObject, kJson, kAny, kSecret,
};
std::string_view field_type_name(FieldType type) noexcept;

enum class UnknownAttributes : std::uint8_t {
  kReject,  // InvalidArgument naming each unknown attribute (the default)
  kKeep,    // stored and returned as given (JSON-encoded on storage)
  kStrip,   // silently dropped before storage
};

struct FieldRule {
  std::string name;
  FieldType type = FieldType::kAny;
  bool required = false;
  std::optional<double> min;
  std::optional<double> max;
  std::optional<FieldType> items;          // array element type
  std::optional<nlohmann::json> default_value;
  std::vector<FieldRule> children;         // nested attributes of an object
};

struct FieldError {
  std::string field;  // dotted path for nested attributes: "address.zip"
  std::string rule;   // "required", "type:integer", "min:2", "items:string", "unknown", ...
};

class Schema {
 public:
  Schema();  // empty schema: no attributes
  static Result<Schema> compile(const nlohmann::json& attributes);

  // Validates `doc` (a JSON object) in place: fills defaults for missing fields (not when
  // `partial`), strips unknown attributes under kStrip. Reserved keys "id", "createdAt",
  // "updatedAt" are ignored here (the Resource checks them).
  Status validate(nlohmann::json& doc, UnknownAttributes unknown, bool partial = false) const;
  // Same, returning every error (empty = valid).
  std::vector<FieldError> check(nlohmann::json& doc, UnknownAttributes unknown,
                                bool partial = false) const;

  const std::vector<FieldRule>& fields() const noexcept;
  const FieldRule* find(std::string_view name) const noexcept;  // top-level attribute
  int index_of(std::string_view name) const noexcept;           // -1 when absent
  bool has_secrets() const noexcept;
  const nlohmann::json& source() const noexcept;  // the attributes it was compiled from

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Formats errors as "validation failed: a (required), b (min:2)".
Status validation_error(const std::vector<FieldError>& errors);

}  // namespace s3db
