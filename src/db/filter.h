// db/filter.h — the query filter of Resource::query(), compiled once, then matched per document.
//
// Contract
// - Filter::compile() checks the whole filter once; a malformed filter is InvalidArgument naming
//   the field and the operator ("filter: age: $gt needs a number or a string"). The rules (which
//   operators exist, how types compare, missing and null fields, dotted paths) are the table above
//   Resource::query() in s3db/resource.h; this file is their one implementation.
// - matches() never fails: a document whose field has another type than the operand simply does
//   not match (except under $ne/$nin, which are the negation of $eq/$in).
// - fixed(field) is the scalar (string, integer or boolean; never null or a float, whose JSON text
//   may differ from an equal stored number's) the filter pins `field` to by equality (a bare value
//   or $eq), so a query can read a partition instead of the whole resource.
#pragma once

#include <s3db/status.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace s3db::db {

class Filter {
 public:
  enum class Op { kEq, kNe, kGt, kGte, kLt, kLte, kIn, kNin, kExists, kPrefix };

  static Result<Filter> compile(const nlohmann::json& filter);

  bool matches(const nlohmann::json& doc) const;
  // The scalar `field` is fixed to by an equality, or nullptr.
  const nlohmann::json* fixed(const std::string& field) const;

 private:
  struct Condition {
    Op op;
    nlohmann::json operand;
  };
  struct Clause {
    std::string field;
    std::vector<Condition> conditions;  // ANDed
  };
  std::vector<Clause> clauses_;  // ANDed
};

}  // namespace s3db::db
