// The query filter: compile (validate once) and match (see db/filter.h, s3db/resource.h).
#include "db/filter.h"

#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>

namespace s3db::db {

using nlohmann::json;

namespace {

struct OpName {
  std::string_view name;
  Filter::Op op;
};
constexpr OpName kOps[] = {
    {"$eq", Filter::Op::kEq},   {"$ne", Filter::Op::kNe},   {"$gt", Filter::Op::kGt},
    {"$gte", Filter::Op::kGte}, {"$lt", Filter::Op::kLt},   {"$lte", Filter::Op::kLte},
    {"$in", Filter::Op::kIn},   {"$nin", Filter::Op::kNin}, {"$exists", Filter::Op::kExists},
    {"$prefix", Filter::Op::kPrefix},
};

// -1, 0, 1 comparing an integer with a double exactly (no rounding of the integer to a double);
// nullopt for NaN. Integers are int64 or uint64: both are exactly representable after trunc() when
// the double is inside their range.
template <class Int>
std::optional<int> compare_int_double(Int i, double d) {
  if (std::isnan(d)) return std::nullopt;
  constexpr double kTwo63 = 9223372036854775808.0, kTwo64 = 18446744073709551616.0;
  constexpr double lo = std::is_signed_v<Int> ? -kTwo63 : 0.0;
  constexpr double hi = std::is_signed_v<Int> ? kTwo63 : kTwo64;
  if (d < lo) return 1;
  if (d >= hi) return -1;
  const double t = std::trunc(d);
  const Int ti = static_cast<Int>(t);
  if (i != ti) return i < ti ? -1 : 1;
  const double frac = d - t;  // exact
  return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

std::optional<int> compare_numbers(const json& a, const json& b) {
  using V = json::value_t;
  if (a.type() == V::number_float && b.type() == V::number_float) {
    const double x = a.get<double>(), y = b.get<double>();
    if (std::isnan(x) || std::isnan(y)) return std::nullopt;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.type() == V::number_float) {
    auto r = compare_numbers(b, a);
    if (r) *r = -*r;
    return r;
  }
  // a is an integer
  if (b.type() == V::number_float) {
    return a.type() == V::number_unsigned ? compare_int_double(a.get<std::uint64_t>(), b.get<double>())
                                          : compare_int_double(a.get<std::int64_t>(), b.get<double>());
  }
  if (a.type() == b.type()) {
    if (a.type() == V::number_unsigned) {
      const auto x = a.get<std::uint64_t>(), y = b.get<std::uint64_t>();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    const auto x = a.get<std::int64_t>(), y = b.get<std::int64_t>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  // one signed, one unsigned
  const bool a_signed = a.type() == V::number_integer;
  const std::int64_t s = a_signed ? a.get<std::int64_t>() : b.get<std::int64_t>();
  const std::uint64_t u = a_signed ? b.get<std::uint64_t>() : a.get<std::uint64_t>();
  int r = s < 0 ? -1 : static_cast<std::uint64_t>(s) < u ? -1 : static_cast<std::uint64_t>(s) > u ? 1 : 0;
  return a_signed ? r : -r;
}

// Ordering for $gt…$lte: numbers with numbers, strings with strings (UTF-8 byte order, which
// std::string's compare gives); nullopt for anything else.
std::optional<int> order(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return compare_numbers(a, b);
  if (a.is_string() && b.is_string()) {
    const int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return std::nullopt;
}

// Deep equality with exact number comparison (json's operator== compares int and double as doubles).
bool equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    auto r = compare_numbers(a, b);
    return r && *r == 0;
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!equal(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [k, v] : a.items()) {
      auto it = b.find(k);
      if (it == b.end() || !equal(v, *it)) return false;
    }
    return true;
  }
  return a == b;
}

// $eq: a null operand matches a null or missing field.
bool eq(const json* field, const json& operand) {
  if (!field) return operand.is_null();
  return equal(*field, operand);
}

// The field's value: the top-level key spelled exactly as `name` when there is one, else the
// dotted path through nested objects; nullptr when missing.
const json* lookup(const json& doc, const std::string& name) {
  if (!doc.is_object()) return nullptr;
  if (auto it = doc.find(name); it != doc.end()) return &*it;
  const json* at = &doc;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = name.find('.', start);
    if (!at->is_object()) return nullptr;
    auto it = at->find(name.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (it == at->end()) return nullptr;
    at = &*it;
    if (dot == std::string::npos) return at;
    start = dot + 1;
  }
}

bool is_operator_object(const json& v) {
  if (!v.is_object() || v.empty()) return false;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it.key().empty() && it.key()[0] == '$') return true;
  }
  return false;
}

Status bad(const std::string& field, std::string_view op, std::string_view why) {
  return Status::InvalidArgument("filter", field + ": " + std::string(op) + " " + std::string(why));
}

Status check_operand(const std::string& field, std::string_view name, Filter::Op op, const json& v) {
  using Op = Filter::Op;
  switch (op) {
    case Op::kEq:
    case Op::kNe:
      return Status::OK();
    case Op::kGt:
    case Op::kGte:
    case Op::kLt:
    case Op::kLte:
      if (!v.is_number() && !v.is_string()) return bad(field, name, "needs a number or a string");
      if (v.is_number_float() && std::isnan(v.get<double>())) return bad(field, name, "needs a number, not NaN");
      return Status::OK();
    case Op::kIn:
    case Op::kNin:
      if (!v.is_array()) return bad(field, name, "needs an array");
      return Status::OK();
    case Op::kExists:
      if (!v.is_boolean()) return bad(field, name, "needs true or false");
      return Status::OK();
    case Op::kPrefix:
      if (!v.is_string()) return bad(field, name, "needs a string");
      return Status::OK();
  }
  return Status::OK();
}

}  // namespace

Result<Filter> Filter::compile(const json& filter) {
  if (!filter.is_object()) return Status::InvalidArgument("filter", "must be a JSON object");
  Filter f;
  for (const auto& [field, spec] : filter.items()) {
    if (field.empty()) return Status::InvalidArgument("filter", "a field name is empty");
    Clause clause{field, {}};
    if (!is_operator_object(spec)) {
      clause.conditions.push_back({Op::kEq, spec});
      f.clauses_.push_back(std::move(clause));
      continue;
    }
    for (const auto& [key, operand] : spec.items()) {
      if (key.empty() || key[0] != '$') {
        return bad(field, key, "is a plain key among operators (an operator object holds only $ keys)");
      }
      const OpName* found = nullptr;
      for (const auto& o : kOps) {
        if (o.name == key) found = &o;
      }
      if (!found) return bad(field, key, "is not an operator ($eq $ne $gt $gte $lt $lte $in $nin $exists $prefix)");
      S3DB_RETURN_IF_ERROR(check_operand(field, key, found->op, operand));
      clause.conditions.push_back({found->op, operand});
    }
    f.clauses_.push_back(std::move(clause));
  }
  return f;
}

bool Filter::matches(const json& doc) const {
  for (const auto& clause : clauses_) {
    const json* v = lookup(doc, clause.field);
    for (const auto& c : clause.conditions) {
      bool ok = false;
      switch (c.op) {
        case Op::kEq: ok = eq(v, c.operand); break;
        case Op::kNe: ok = !eq(v, c.operand); break;
        case Op::kGt:
        case Op::kGte:
        case Op::kLt:
        case Op::kLte: {
          const auto r = v ? order(*v, c.operand) : std::nullopt;
          ok = r && (c.op == Op::kGt ? *r > 0 : c.op == Op::kGte ? *r >= 0 : c.op == Op::kLt ? *r < 0 : *r <= 0);
          break;
        }
        case Op::kIn:
        case Op::kNin: {
          bool any = false;
          for (const auto& item : c.operand) any = any || eq(v, item);
          ok = c.op == Op::kIn ? any : !any;
          break;
        }
        case Op::kExists: ok = (v != nullptr) == c.operand.get<bool>(); break;
        case Op::kPrefix:
          ok = v && v->is_string() && v->get_ref<const std::string&>().starts_with(c.operand.get_ref<const std::string&>());
          break;
      }
      if (!ok) return false;
    }
  }
  return true;
}

const json* Filter::fixed(const std::string& field) const {
  for (const auto& clause : clauses_) {
    if (clause.field != field) continue;
    for (const auto& c : clause.conditions) {
      // Not a float: partition keys hold a value's JSON text, so 30.0 would name another key
      // than a stored 30 that $eq matches exactly; a scan finds both.
      if (c.op == Op::kEq && (c.operand.is_string() || c.operand.is_boolean() ||
                              c.operand.is_number_integer())) {
        return &c.operand;
      }
    }
  }
  return nullptr;
}

}  // namespace s3db::db
