// tools/s3db/where.h — the `--where` expressions of `s3db query` → a Resource::query() filter.
//
// Contract: each expression is one condition on one field; the field is what precedes the FIRST
// operator (scanning left to right; at one position the longer operator wins: `>=` before `>`,
// `!=` before `=`), so a value may hold `=`, `>` or ` in `. Spaces around field and value are
// trimmed. All conditions are ANDed; several on one field combine (`age>=1`, `age<5`).
//
//   expression              filter                     value
//   field=value             {"$eq": v}                 JSON if it parses, else the text (a string)
//   field!=value            {"$ne": v}                 "
//   field>value  field>=value  field<value  field<=value
//                           {"$gt"…"$lte": v}          a JSON number or string if it parses so, else the text
//   field^=prefix           {"$prefix": s}             a JSON string if it parses so, else the text
//   field in a,b,c          {"$in": [...]}             each item: a JSON scalar if it parses so, else the text
//   field not in a,b,c      {"$nin": [...]}            "
//   field exists            {"$exists": true}
//   field !exists           {"$exists": false}         (also `field not exists`)
//
// A malformed expression (no operator, empty field, empty list, a missing value after an ordering
// operator, the same operator twice on a field) is InvalidArgument naming the expression; the
// command reports it as a usage error (exit 2).
#pragma once

#include <s3db/status.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace s3db::cli {

Result<nlohmann::json> parse_where(const std::vector<std::string>& expressions);

// `text` as JSON when it parses (31, true, "x", [1]), else as a JSON string holding the text.
nlohmann::json json_or_text(const std::string& text);

}  // namespace s3db::cli
