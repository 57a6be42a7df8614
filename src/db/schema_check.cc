#include "db/schema_check.h"

#include "core/encoding.h"
#include "db/pattern.h"
#include "db/text.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace s3db::db {

using nlohmann::json;

namespace {

bool has_control_or_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F; });
}

bool valid_email(std::string_view s) {
  const auto at = s.find('@');
  if (at == 0 || at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) return false;
  const auto domain = s.substr(at + 1);
  const auto dot = domain.find('.');
  if (dot == 0 || dot == std::string_view::npos || domain.back() == '.') return false;
  return !has_control_or_space(s);
}

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  unsigned v = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v <= 65535;
}

// A host name, IPv4 address or (inside brackets) IPv6 literal; non-ASCII bytes are IDN labels.
bool valid_host(std::string_view h, bool bracketed) {
  static constexpr encoding::ByteSet kHost = encoding::kUnreserved.with("%") | encoding::ByteSet::range(0x80, 0xFF);
  static constexpr encoding::ByteSet kLiteral = kHost.with(":");
  if (h.empty() || h.front() == '.' || h.find("..") != std::string_view::npos) return false;
  const auto& allowed = bracketed ? kLiteral : kHost;
  return std::all_of(h.begin(), h.end(), [&](char c) { return allowed.contains(static_cast<unsigned char>(c)); });
}

// scheme "://" [userinfo "@"] host [":" port] [path] [?query] [#fragment]: a scheme and a host are
// required (so "example.com", "http://", "http://:80/x" and "file:///etc" are not URLs).
bool valid_url(std::string_view s) {
  const auto sep = s.find("://");
  if (sep == 0 || sep == std::string_view::npos) return false;
  for (std::size_t i = 0; i < sep; ++i) {
    const char c = s[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return false;
  }
  const auto rest = s.substr(sep + 3);
  if (has_control_or_space(rest)) return false;
  auto authority = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos || !valid_host(authority.substr(1, close - 1), true)) return false;
    const auto after = authority.substr(close + 1);
    return after.empty() || (after.front() == ':' && valid_port(after.substr(1)));
  }
  const auto colon = authority.find(':');
  if (colon != std::string_view::npos && !valid_port(authority.substr(colon + 1))) return false;
  return valid_host(authority.substr(0, colon), false);
}

std::string fmt_num(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  return json(v).dump();
}

// Integers are stored as 64-bit signed: 2^64-1 (parsed as unsigned) or 1e19 (a float) do not fit.
bool fits_int64(const Scalar& v) {
  if (v.kind == Scalar::Kind::kUnsigned) return v.u <= static_cast<std::uint64_t>(INT64_MAX);
  if (v.kind == Scalar::Kind::kFloat) return v.d >= -9223372036854775808.0 && v.d < 9223372036854775808.0;
  return true;
}

// A number or boolean as a json value: no allocation (strings are compared apart).
json json_of(const Scalar& v) {
  switch (v.kind) {
    case Scalar::Kind::kSigned: return json(v.i);
    case Scalar::Kind::kUnsigned: return json(v.u);
    case Scalar::Kind::kFloat: return json(v.d);
    case Scalar::Kind::kBool: return json(v.b);
    case Scalar::Kind::kString: break;
  }
  return json();
}

// json's own equality (numbers of different classes compare by value), without a string copy.
bool equals(const json& e, const Scalar& v) {
  if (v.kind == Scalar::Kind::kString) return e.is_string() && e.get_ref<const std::string&>() == v.str;
  return !e.is_string() && e == json_of(v);
}

bool is_scalar(const json& v) { return v.is_string() || v.is_number() || v.is_boolean(); }

// Where a value sits, as a chain of links on the stack: the path text is built only when an
// error is reported, so the valid path allocates nothing.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;  // an attribute name; unused for an item
  std::size_t index = 0;
  bool item = false;     // an array item: rendered "[index]"

  void render(std::string& out) const {
    if (parent) parent->render(out);
    if (item) {
      out += '[';
      out += std::to_string(index);
      out += ']';
      return;
    }
    if (!out.empty()) out += '.';
    out += key;
  }
};

struct Checker {
  UnknownAttributes unknown;
  bool partial;
  std::vector<FieldError>& errors;

  void add(const Path& at, std::string rule) {
    std::string path;
    at.render(path);
    errors.push_back({std::move(path), std::move(rule)});
  }

  void field(const FieldRule& r, json& v, const Path& at) {
    if (is_scalar(v)) return scalar(r, scalar_of(v), at);
    if (!type_ok(r, value_has_type(r.type, v), at)) return;
    if (r.min || r.max) {
      if (v.is_array()) bounds(r, static_cast<double>(v.size()), at);
    }
    if (!r.enum_values.empty() && std::find(r.enum_values.begin(), r.enum_values.end(), v) == r.enum_values.end()) {
      add(at, "enum");
    }
    if (v.is_array()) {
      if (r.unique) unique(v, at);
      if (r.items) {
        for (std::size_t i = 0; i < v.size(); ++i) field(*r.items, v[i], Path{&at, {}, i, true});
      }
    }
    if (r.type == FieldType::kObject && !r.children.empty()) object(r.children, v, &at, false);
  }

  // The rules of a string, number or boolean: one implementation for parsed values and for the
  // scalars of insert_json's reader.
  void scalar(const FieldRule& r, const Scalar& v, const Path& at) {
    if (!type_ok(r, value_has_type(r.type, v), at)) return;
    if (r.type == FieldType::kInteger && !fits_int64(v)) {
      add(at, "range:int64");  // stored as int64: never silently rewritten
      return;
    }
    if (r.min || r.max) {
      if (v.kind == Scalar::Kind::kString) {
        bounds(r, static_cast<double>(encoding::utf8_length(v.str)), at);
      } else if (v.is_number()) {
        bounds(r, v.as_double(), at);
      }
    }
    if (!r.enum_values.empty() &&
        std::none_of(r.enum_values.begin(), r.enum_values.end(), [&](const json& e) { return equals(e, v); })) {
      add(at, "enum");
    }
    if (r.matcher && v.kind == Scalar::Kind::kString) {
      switch (r.matcher->search(v.str)) {
        case CompiledPattern::Match::kYes: break;
        case CompiledPattern::Match::kNo: add(at, "pattern"); break;
        case CompiledPattern::Match::kLimit: add(at, "pattern:limit"); break;
      }
    }
  }

  bool type_ok(const FieldRule& r, bool has_type, const Path& at) {
    // An item of the wrong type keeps the items:<type> rule of the string form.
    if (!has_type) add(at, std::string(at.item ? "items:" : "type:") + std::string(field_type_name(r.type)));
    return has_type;
  }

  // min/max of a string's length in code points, a number's value or an array's size.
  void bounds(const FieldRule& r, double size, const Path& at) {
    if (r.min && size < *r.min) add(at, "min:" + fmt_num(*r.min));
    if (r.max && size > *r.max) add(at, "max:" + fmt_num(*r.max));
  }

  // Names every item equal (deeply) to an earlier one. Sorting indices keeps it O(n log n); a
  // stable sort keeps equal items in index order, so the first of each group is never named.
  void unique(const json& v, const Path& at) {
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
    std::vector<std::size_t> repeated;
    for (std::size_t k = 1; k < order.size(); ++k) {
      if (v[order[k]] == v[order[k - 1]]) repeated.push_back(order[k]);
    }
    std::sort(repeated.begin(), repeated.end());
    for (std::size_t i : repeated) add(Path{&at, {}, i, true}, "unique");
  }

  void object(const std::vector<FieldRule>& rules, json& doc, const Path* parent, bool top) {
    std::size_t present = 0;  // document keys covered by a rule
    for (const FieldRule& r : rules) {
      const Path at{parent, r.name};
      auto it = doc.find(r.name);
      if (it == doc.end() || it->is_null()) {
        if (it != doc.end()) {
          if (partial) { ++present; continue; }  // null in a merge removes the field later
          doc.erase(it);  // an explicit null is "absent"
        }
        if (partial) continue;
        if (r.default_value) {
          doc[r.name] = *r.default_value;
          ++present;
        } else if (r.required) {
          add(at, "required");
        }
        continue;
      }
      ++present;
      field(r, *it, at);
    }
    if (top && doc.size() > present) present += doc.contains("id") ? 1 : 0;
    // Unknown attributes: walk the document only when it has keys the rules do not cover.
    if (doc.size() == present) return;
    for (auto it = doc.begin(); it != doc.end();) {
      const std::string& k = it.key();
      const bool known = (top && is_reserved_attribute(k)) ||
                         std::any_of(rules.begin(), rules.end(), [&](const FieldRule& r) { return r.name == k; });
      if (known || unknown == UnknownAttributes::kKeep) { ++it; continue; }
      if (unknown == UnknownAttributes::kStrip) { it = doc.erase(it); continue; }
      add(Path{parent, k}, "unknown");
      ++it;
    }
  }
};

}  // namespace

bool is_reserved_attribute(std::string_view name) noexcept {
  return name == "id" || name == "createdAt" || name == "updatedAt";
}

bool value_has_type(FieldType t, const Scalar& v) {
  const bool str = v.kind == Scalar::Kind::kString;
  switch (t) {
    case FieldType::kString: case FieldType::kSecret: return str;
    case FieldType::kNumber: return v.is_number();
    case FieldType::kInteger:
      return v.kind == Scalar::Kind::kSigned || v.kind == Scalar::Kind::kUnsigned ||
             (v.kind == Scalar::Kind::kFloat && std::isfinite(v.d) && v.d == std::floor(v.d));
    case FieldType::kBoolean: return v.kind == Scalar::Kind::kBool;
    case FieldType::kEmail: return str && valid_email(v.str);
    case FieldType::kUrl: return str && valid_url(v.str);
    case FieldType::kDate: return str && valid_date(v.str);
    case FieldType::kArray: case FieldType::kObject: return false;
    case FieldType::kJson: case FieldType::kAny: return true;
  }
  return false;
}

bool value_has_type(FieldType t, const json& v) {
  if (is_scalar(v)) return value_has_type(t, scalar_of(v));
  switch (t) {
    case FieldType::kArray: return v.is_array();
    case FieldType::kObject: return v.is_object();
    case FieldType::kJson: case FieldType::kAny: return true;
    default: return false;
  }
}

bool value_passes(const FieldRule& r, const Scalar& v) {
  std::vector<FieldError> errors;  // allocates only when there is one
  Checker c{UnknownAttributes::kKeep, false, errors};
  c.scalar(r, v, Path{nullptr, r.name});
  return errors.empty();
}

bool value_passes(const FieldRule& r, json& v, UnknownAttributes unknown) {
  std::vector<FieldError> errors;
  Checker c{unknown, false, errors};
  c.field(r, v, Path{nullptr, r.name});
  return errors.empty();
}

void check_document(const std::vector<FieldRule>& rules, json& doc, UnknownAttributes unknown, bool partial,
                    std::vector<FieldError>& errors) {
  Checker c{unknown, partial, errors};
  c.object(rules, doc, nullptr, true);
}

}  // namespace s3db::db
