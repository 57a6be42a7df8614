// Internal: small text encodings used by the storage format (docs/storage-format.md).
#pragma once

#include "db/scalar.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace s3db::db {

// RFC 4648 §5 base64url without padding.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// Signed 64-bit integers in lower-case base 36 ("-" prefix for negatives).
std::string to_base36(std::int64_t v);
std::optional<std::int64_t> from_base36(std::string_view s);

// ISO-8601 / RFC 3339 subset: YYYY-MM-DD[THH:MM[:SS[.fraction]][Z|±HH:MM]] (the "date" type).
bool valid_date(std::string_view s);

// Value escaping. A stored value is either raw, or "~" followed by a percent-encoded form.
// In header mode (user metadata travels as HTTP headers) a value is escaped when it is empty,
// starts with '~' or "=?", has a byte outside 0x20..0x7E, starts/ends with a space or has two
// spaces in a row; escaping encodes those bytes (the second space of a pair) and '%' as %XX, so
// an escaped value is always header-safe (metadata_value_is_plain() in s3db/metadata.h): what
// s3db counts against the 2 KB budget is what S3 receives. In body mode (JSON body) only empty values and a leading '~' force
// escaping. unescape() reverses either; nullopt on a malformed escape.
void escape_value(std::string_view value, bool header, std::string& out);
std::size_t escaped_size(std::string_view value, bool header) noexcept;
std::optional<std::string> unescape_value(std::string_view stored);

// Appends `v` as compact JSON, byte for byte what v.dump() gives, except that a float prints in
// its shortest round-trip form (always with a '.' or an exponent, so it parses back as a float).
// About five times faster than dump(), which builds an output adapter per call: this runs for
// every array/object/json field of every write. Invalid UTF-8 throws like dump() does.
void dump_json(const nlohmann::json& v, std::string& out);
// The same writer's forms of a scalar and of a string (dump_json's, for values read without a DOM).
void dump_scalar(const Scalar& v, std::string& out);
void dump_string(std::string_view s, std::string& out);

// Percent-encodes a value for use as one key segment ('/', '%', '=' , controls, non-ASCII).
std::string key_segment(std::string_view value);

}  // namespace s3db::db
