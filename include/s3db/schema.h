// s3db/schema.h — attribute rules in s3db.js's style, compiled once, checked on every write.
//
// Contract
// - Schema::compile(attributes) parses a JSON object mapping attribute name → rule, once:
//   validation never parses rule strings. A rule is
//   * a string "type|modifier|modifier:arg|...";
//   * an object rule form {"type": "string", "required": true, "min": 2, "max": 100,
//     "default": "x", "pattern": "^[a-z]+$", "enum": ["a", "b"], "unique": true,
//     "items": <rule>, "attributes": {<nested rules>}};
//   * a nested object: a JSON object of rules (an optional object with those attributes), or the
//     explicit form {"$$type": "object|required", "name": "string|required", ...}.
//   Types: string, number, integer, boolean, email, url (scheme://host…), date (ISO 8601, a real
//   calendar day), array, object, json, any, secret. Modifiers: required, optional, min:N, max:N
//   (string-like types: UTF-8 code points; number/integer: value; array: item count),
//   items:<type> (array; the object form's "items" takes a full rule, including a nested object
//   for arrays of objects), unique (array: no two deep-equal items), enum:a,b,c (values read as
//   the field's type; object form: a JSON array of scalars), default:<v>, pattern:<regex>
//   (string, email, url, date, secret; PCRE2 syntax, found anywhere in the value — anchor with ^$).
//   Grammar: `pattern:` is the LAST modifier of a rule string and takes the rest of it, '|'
//   included ("string|required|pattern:^(a|b)$"); enum values hold no '|' or ','.
//   An unknown type or modifier, a bad argument, a bad regex, a modifier on a type it does not
//   apply to, or a reserved name ("id") → InvalidArgument naming the attribute (dotted path,
//   "tags[]" for an item rule).
// - validate(doc, ...) checks a whole document (insert/replace) or only the fields present
//   (partial, used for merges before the merged result is checked in full), applies defaults,
//   and normalises nothing else. On failure: InvalidArgument whose message names EVERY failing
//   field by path and the rule it broke, e.g. "validation failed: name (min:2),
//   address.zip (type:string), tags[2] (min:2), people[0].name (required)"; check() gives the
//   same list as FieldErrors. Rules: required, type:<t>, items:<t> (an item of the wrong type),
//   range:int64, min:N, max:N, enum, pattern, pattern:limit (the regex gave up: PCRE2's match or
//   heap limit — counted as a failure, never as a pass), unique (names the repeated item),
//   unknown.
// - Unknown attributes (not in the schema, not "id", not a timestamp) are rejected, kept or
//   stripped per UnknownAttributes. Kept unknown attributes are stored JSON-encoded.
// - source() is the JSON the schema was compiled from, kept as given: the catalog stores it and
//   compile(source()) yields the same schema.
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

class CompiledPattern;  // a compiled `pattern` (src/db/pattern.h): opaque to users

struct FieldRule {
  std::string name;                          // "" for the rule of an array's items
  FieldType type = FieldType::kAny;
  bool required = false;
  std::optional<double> min;
  std::optional<double> max;
  std::shared_ptr<const FieldRule> items;    // rule of every item of an array
  std::optional<nlohmann::json> default_value;
  std::vector<FieldRule> children;           // nested attributes of an object
  std::optional<std::string> pattern;        // regex source text; `matcher` is it compiled
  std::shared_ptr<const CompiledPattern> matcher;
  std::vector<nlohmann::json> enum_values;   // allowed values; empty = no enum rule
  bool unique = false;                       // array: no two deep-equal items
};

struct FieldError {
  std::string field;  // path: "name", "address.zip", "tags[2]", "people[0].name"
  std::string rule;   // "required", "type:integer", "min:2", "enum", "pattern", "unique", ...
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
