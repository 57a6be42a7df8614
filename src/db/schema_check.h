// db/schema_check.h — validation of documents against compiled FieldRules (Schema::check's
// engine) and the type predicates the compiler reuses for enum values.
//
// Contract: check_document appends one FieldError per failing field (path + rule) and never stops
// at the first; it fills defaults (not when `partial`) and strips unknown attributes under kStrip.
// Pure functions of their arguments; thread-safe.
#pragma once

#include "s3db/schema.h"

#include "db/scalar.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace s3db::db {

// "id", "createdAt", "updatedAt": top-level keys the Resource owns, never attributes.
bool is_reserved_attribute(std::string_view name) noexcept;


// Whether `v` is a value of `type` (format checks of email, url and date included).
bool value_has_type(FieldType type, const nlohmann::json& v);
bool value_has_type(FieldType type, const Scalar& v);

// Whether a top-level attribute's value passes every rule of `r` — the checks check_document
// makes of it, without naming the failures (the caller that needs them validates the document).
bool value_passes(const FieldRule& r, const Scalar& v);
// The json form may change `v` as check_document would: nested defaults, nested unknown
// attributes stripped under kStrip.
bool value_passes(const FieldRule& r, nlohmann::json& v, UnknownAttributes unknown);

void check_document(const std::vector<FieldRule>& rules, nlohmann::json& doc, UnknownAttributes unknown,
                    bool partial, std::vector<FieldError>& errors);

}  // namespace s3db::db
