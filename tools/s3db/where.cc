// `--where` expressions → a query filter (see where.h for the grammar).
#include "where.h"

#include <string_view>

namespace s3db::cli {

using nlohmann::json;

namespace {

struct Operator {
  std::string_view token;
  std::string_view op;     // the filter operator
  bool at_end = false;     // a suffix form: nothing may follow
};
// At one position, longer tokens first (">=" before ">", "!=" before "="). Word forms start
// with a space, symbolic ones never do, so the two sets never compete for a position.
constexpr Operator kOperators[] = {
    {" not exists", "$exists", true}, {" !exists", "$exists", true}, {" exists", "$exists", true},
    {" not in ", "$nin"}, {" in ", "$in"},
    {"!=", "$ne"}, {">=", "$gte"}, {"<=", "$lte"}, {"^=", "$prefix"}, {"=", "$eq"}, {">", "$gt"}, {"<", "$lt"},
};

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

Status bad(const std::string& expr, std::string_view why) {
  return Status::InvalidArgument("--where", "'" + expr + "': " + std::string(why));
}

// The value of an ordering operator (numbers too) or $prefix: a JSON string (or number) when the
// text parses as one, else the text itself.
json typed_or_text(const std::string& text, bool numbers) {
  json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (v.is_string() || (numbers && v.is_number())) return v;
  return json(text);
}

Result<json> operand_of(const std::string& expr, const Operator& o, const std::string& text) {
  const std::string_view op = o.op;
  if (op == "$exists") return json(o.token == " exists");
  if (op == "$eq" || op == "$ne") return json_or_text(text);
  if (op == "$prefix") return typed_or_text(text, false);
  if (op == "$in" || op == "$nin") {
    if (text.empty()) return bad(expr, "the list is empty");
    json items = json::array();
    std::size_t start = 0;
    for (;;) {
      const std::size_t comma = text.find(',', start);
      const std::string item = trim(std::string_view(text).substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      json v = json::parse(item, nullptr, /*allow_exceptions=*/false);
      items.push_back(!v.is_discarded() && !v.is_structured() ? v : json(item));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return items;
  }
  if (text.empty()) return bad(expr, "a value must follow the operator");
  return typed_or_text(text, true);
}

}  // namespace

json json_or_text(const std::string& text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return value.is_discarded() ? json(text) : value;
}

Result<json> parse_where(const std::vector<std::string>& expressions) {
  json filter = json::object();
  for (const auto& expr : expressions) {
    const Operator* found = nullptr;
    std::size_t at = 0;
    for (std::size_t i = 0; i < expr.size() && !found; ++i) {
      for (const auto& o : kOperators) {
        const std::string_view rest = std::string_view(expr).substr(i);
        if (o.at_end ? rest == o.token : rest.starts_with(o.token)) {
          found = &o;
          at = i;
          break;
        }
      }
    }
    if (!found) {
      return bad(expr, "expected field=value, field!=value, field>value, field>=value, field<value, "
                       "field<=value, field^=prefix, field in a,b, field not in a,b, field exists or field !exists");
    }
    const std::string field = trim(std::string_view(expr).substr(0, at));
    if (field.empty()) return bad(expr, "the field name is empty");
    auto operand = operand_of(expr, *found, trim(std::string_view(expr).substr(at + found->token.size())));
    if (!operand.ok()) return operand.status();
    json& conditions = filter[field];
    const std::string op(found->op);
    if (conditions.contains(op)) return bad(expr, "repeats " + op + " on " + field);
    conditions[op] = std::move(operand).value();
  }
  return filter;
}

}  // namespace s3db::cli
