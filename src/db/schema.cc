#include "s3db/schema.h"

#include "core/encoding.h"
#include "db/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace s3db {

using nlohmann::json;

std::string_view field_type_name(FieldType type) noexcept {
  switch (type) {
    case FieldType::kString: return "string";
    case FieldType::kNumber: return "number";
    case FieldType::kInteger: return "integer";
    case FieldType::kBoolean: return "boolean";
    case FieldType::kEmail: return "email";
    case FieldType::kUrl: return "url";
    case FieldType::kDate: return "date";
    case FieldType::kArray: return "array";
    case FieldType::kObject: return "object";
    case FieldType::kJson: return "json";
    case FieldType::kAny: return "any";
    case FieldType::kSecret: return "secret";
  }
  return "any";
}

namespace {

std::optional<FieldType> type_from_name(std::string_view s) {
  static constexpr FieldType kAll[] = {
      FieldType::kString, FieldType::kNumber, FieldType::kInteger, FieldType::kBoolean,
      FieldType::kEmail,  FieldType::kUrl,    FieldType::kDate,    FieldType::kArray,
      FieldType::kObject, FieldType::kJson,   FieldType::kAny,     FieldType::kSecret};
  for (FieldType t : kAll) {
    if (field_type_name(t) == s) return t;
  }
  return std::nullopt;
}

bool is_reserved(std::string_view name) {
  return name == "id" || name == "createdAt" || name == "updatedAt";
}

Status bad_rule(std::string_view field, std::string_view why) {
  return Status::InvalidArgument("invalid schema", std::string(field) + ": " + std::string(why));
}

std::optional<double> parse_number(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// A default given in a rule string is text: turn it into a value of the field's type.
Result<json> parse_default(const FieldRule& r, std::string_view text) {
  switch (r.type) {
    case FieldType::kString: case FieldType::kEmail: case FieldType::kUrl:
    case FieldType::kDate: case FieldType::kSecret:
      return json(std::string(text));
    case FieldType::kNumber: case FieldType::kInteger: {
      auto v = parse_number(text);
      if (!v) return bad_rule(r.name, "default is not a number");
      if (r.type == FieldType::kInteger) {
        if (!(*v >= -9223372036854775808.0 && *v < 9223372036854775808.0) || *v != std::floor(*v)) {
          return bad_rule(r.name, "default is not a 64-bit integer");
        }
        return json(static_cast<std::int64_t>(*v));
      }
      return json(*v);
    }
    case FieldType::kBoolean:
      if (text == "true") return json(true);
      if (text == "false") return json(false);
      return bad_rule(r.name, "default of a boolean must be true or false");
    default: {
      json v = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (v.is_discarded()) return json(std::string(text));
      return v;
    }
  }
}

Status compile_attributes(const json& attrs, std::vector<FieldRule>& out, bool nested);

Status compile_string_rule(const std::string& name, std::string_view rule, FieldRule& r) {
  bool typed = false;
  std::optional<std::string_view> default_text;
  while (!rule.empty()) {
    const auto bar = rule.find('|');
    std::string_view tok = rule.substr(0, bar);
    rule = bar == std::string_view::npos ? std::string_view{} : rule.substr(bar + 1);
    if (tok.empty()) continue;
    const auto colon = tok.find(':');
    std::string_view key = tok.substr(0, colon);
    std::string_view arg = colon == std::string_view::npos ? std::string_view{} : tok.substr(colon + 1);
    if (colon == std::string_view::npos) {
      if (auto t = type_from_name(key)) {
        if (typed) return bad_rule(name, "more than one type in \"" + std::string(tok) + "\"");
        r.type = *t;
        typed = true;
      } else if (key == "required") {
        r.required = true;
      } else if (key == "optional") {
        r.required = false;
      } else {
        return bad_rule(name, "unknown rule \"" + std::string(tok) + "\"");
      }
      continue;
    }
    if (key == "min" || key == "max") {
      auto v = parse_number(arg);
      if (!v) return bad_rule(name, "\"" + std::string(tok) + "\" needs a number");
      (key == "min" ? r.min : r.max) = *v;
    } else if (key == "items") {
      auto t = type_from_name(arg);
      if (!t || *t == FieldType::kSecret) return bad_rule(name, "unknown items type \"" + std::string(arg) + "\"");
      r.items = *t;
    } else if (key == "default") {
      default_text = arg;
    } else {
      return bad_rule(name, "unknown rule \"" + std::string(tok) + "\"");
    }
  }
  if (!typed) return bad_rule(name, "no type (string, number, integer, boolean, ...)");
  if (r.items && r.type != FieldType::kArray) return bad_rule(name, "items: applies to arrays only");
  if (default_text) {
    auto d = parse_default(r, *default_text);
    if (!d.ok()) return d.status();
    r.default_value = std::move(d).value();
  }
  return Status::OK();
}

bool is_rule_object(const json& v) {
  auto t = v.find("type");
  if (t == v.end() || !t->is_string() || !type_from_name(t->get<std::string>())) return false;
  for (const auto& [k, _] : v.items()) {
    if (k != "type" && k != "required" && k != "optional" && k != "min" && k != "max" &&
        k != "items" && k != "default" && k != "attributes") {
      return false;
    }
  }
  return true;
}

Status compile_object_rule(const std::string& name, const json& v, FieldRule& r) {
  r.type = *type_from_name(v["type"].get<std::string>());
  if (auto it = v.find("required"); it != v.end()) {
    if (!it->is_boolean()) return bad_rule(name, "required must be a boolean");
    r.required = it->get<bool>();
  }
  if (auto it = v.find("optional"); it != v.end()) {
    if (!it->is_boolean()) return bad_rule(name, "optional must be a boolean");
    r.required = !it->get<bool>();
  }
  for (const char* k : {"min", "max"}) {
    if (auto it = v.find(k); it != v.end()) {
      if (!it->is_number()) return bad_rule(name, std::string(k) + " must be a number");
      (k[1] == 'i' ? r.min : r.max) = it->get<double>();
    }
  }
  if (auto it = v.find("items"); it != v.end()) {
    auto t = it->is_string() ? type_from_name(it->get<std::string>()) : std::nullopt;
    if (!t || r.type != FieldType::kArray) return bad_rule(name, "bad items");
    r.items = *t;
  }
  if (auto it = v.find("default"); it != v.end()) r.default_value = *it;
  if (auto it = v.find("attributes"); it != v.end()) {
    if (r.type != FieldType::kObject || !it->is_object()) {
      return bad_rule(name, "attributes applies to objects only and must be an object");
    }
    S3DB_RETURN_IF_ERROR(compile_attributes(*it, r.children, true));
  }
  return Status::OK();
}

Status compile_attributes(const json& attrs, std::vector<FieldRule>& out, bool nested) {
  if (!attrs.is_object()) return Status::InvalidArgument("invalid schema", "attributes must be a JSON object");
  for (const auto& [name, rule] : attrs.items()) {
    if (name.empty()) return bad_rule(name, "empty attribute name");
    if (!nested && is_reserved(name)) return bad_rule(name, "reserved attribute name");
    if (name.front() == '$') return bad_rule(name, "attribute names may not start with '$'");
    FieldRule r;
    r.name = name;
    if (rule.is_string()) {
      S3DB_RETURN_IF_ERROR(compile_string_rule(name, rule.get_ref<const std::string&>(), r));
    } else if (rule.is_object() && is_rule_object(rule)) {
      S3DB_RETURN_IF_ERROR(compile_object_rule(name, rule, r));
    } else if (rule.is_object()) {
      r.type = FieldType::kObject;
      S3DB_RETURN_IF_ERROR(compile_attributes(rule, r.children, true));
    } else {
      return bad_rule(name, "a rule is a string or an object");
    }
    if (nested && r.type == FieldType::kSecret) return bad_rule(name, "secret attributes must be top-level");
    out.push_back(std::move(r));
  }
  return Status::OK();
}

// --- validation -------------------------------------------------------------------------------

bool valid_email(std::string_view s) {
  const auto at = s.find('@');
  if (at == 0 || at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos) return false;
  const auto domain = s.substr(at + 1);
  const auto dot = domain.find('.');
  if (dot == 0 || dot == std::string_view::npos || domain.back() == '.') return false;
  for (char c : s) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
  }
  return true;
}

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
  if (rest.empty() || rest.front() == '/') return false;
  for (char c : rest) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return false;
  }
  return true;
}

std::string fmt_num(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  return json(v).dump();
}

// Integers are stored as 64-bit signed: 2^64-1 (parsed as unsigned) or 1e19 (a float) do not fit.
bool fits_int64(const json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX);
  if (v.is_number_float()) {
    const double d = v.get<double>();
    return d >= -9223372036854775808.0 && d < 9223372036854775808.0;
  }
  return true;
}

bool type_ok(FieldType t, const json& v) {
  switch (t) {
    case FieldType::kString: case FieldType::kSecret: return v.is_string();
    case FieldType::kNumber: return v.is_number();
    case FieldType::kInteger:
      return v.is_number_integer() ||
             (v.is_number_float() && std::isfinite(v.get<double>()) &&
              v.get<double>() == std::floor(v.get<double>()));
    case FieldType::kBoolean: return v.is_boolean();
    case FieldType::kEmail: return v.is_string() && valid_email(v.get_ref<const std::string&>());
    case FieldType::kUrl: return v.is_string() && valid_url(v.get_ref<const std::string&>());
    case FieldType::kDate: return v.is_string() && db::valid_date(v.get_ref<const std::string&>());
    case FieldType::kArray: return v.is_array();
    case FieldType::kObject: return v.is_object();
    case FieldType::kJson: case FieldType::kAny: return true;
  }
  return false;
}

struct Checker {
  UnknownAttributes unknown;
  bool partial;
  std::vector<FieldError>& errors;

  // Paths are built only when an error is reported: the valid path allocates nothing.
  void add(std::string_view prefix, std::string_view name, std::string rule) {
    std::string path(prefix);
    path += name;
    errors.push_back({std::move(path), std::move(rule)});
  }

  void field(const FieldRule& r, json& v, std::string_view prefix) {
    if (!type_ok(r.type, v)) {
      add(prefix, r.name, "type:" + std::string(field_type_name(r.type)));
      return;
    }
    if (r.type == FieldType::kInteger && !fits_int64(v)) {
      add(prefix, r.name, "range:int64");  // stored as int64: never silently rewritten
      return;
    }
    double size = 0;
    bool sized = true;
    if (v.is_string()) {
      size = static_cast<double>(encoding::utf8_length(v.get_ref<const std::string&>()));
    } else if (v.is_number()) {
      size = v.get<double>();
    } else if (v.is_array()) {
      size = static_cast<double>(v.size());
    } else {
      sized = false;
    }
    if (sized && r.min && size < *r.min) add(prefix, r.name, "min:" + fmt_num(*r.min));
    if (sized && r.max && size > *r.max) add(prefix, r.name, "max:" + fmt_num(*r.max));
    if (r.type == FieldType::kArray && r.items) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        if (!type_ok(*r.items, v[i])) {
          add(prefix, r.name + "[" + std::to_string(i) + "]", "items:" + std::string(field_type_name(*r.items)));
        }
      }
    }
    if (r.type == FieldType::kObject && !r.children.empty()) {
      object(r.children, v, std::string(prefix) + r.name + ".", false);
    }
  }

  void object(const std::vector<FieldRule>& rules, json& doc, std::string_view prefix, bool top) {
    std::size_t present = 0;  // document keys covered by a rule
    for (const FieldRule& r : rules) {
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
          add(prefix, r.name, "required");
        }
        continue;
      }
      ++present;
      field(r, *it, prefix);
    }
    if (top && doc.size() > present) present += doc.contains("id") ? 1 : 0;
    // Unknown attributes: walk the document only when it has keys the rules do not cover.
    if (doc.size() == present) return;
    for (auto it = doc.begin(); it != doc.end();) {
      const std::string& k = it.key();
      const bool known = (top && is_reserved(k)) ||
                         std::any_of(rules.begin(), rules.end(), [&](const FieldRule& r) { return r.name == k; });
      if (known || unknown == UnknownAttributes::kKeep) { ++it; continue; }
      if (unknown == UnknownAttributes::kStrip) { it = doc.erase(it); continue; }
      add(prefix, k, "unknown");
      ++it;
    }
  }
};

}  // namespace

struct Schema::Impl {
  std::vector<FieldRule> fields;
  json source = json::object();
  bool secrets = false;
};

Schema::Schema() : impl_(std::make_shared<const Impl>()) {}

Result<Schema> Schema::compile(const json& attributes) {
  auto impl = std::make_shared<Impl>();
  S3DB_RETURN_IF_ERROR(compile_attributes(attributes, impl->fields, false));
  impl->source = attributes;
  for (const auto& f : impl->fields) impl->secrets |= f.type == FieldType::kSecret;
  Schema s;
  s.impl_ = std::move(impl);
  return s;
}

std::vector<FieldError> Schema::check(json& doc, UnknownAttributes unknown, bool partial) const {
  std::vector<FieldError> errors;
  if (!doc.is_object()) {
    errors.push_back({"(document)", "type:object"});
    return errors;
  }
  Checker c{unknown, partial, errors};
  c.object(impl_->fields, doc, "", true);
  return errors;
}

Status Schema::validate(json& doc, UnknownAttributes unknown, bool partial) const {
  auto errors = check(doc, unknown, partial);
  if (errors.empty()) return Status::OK();
  return validation_error(errors);
}

const std::vector<FieldRule>& Schema::fields() const noexcept { return impl_->fields; }

const FieldRule* Schema::find(std::string_view name) const noexcept {
  for (const auto& f : impl_->fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

int Schema::index_of(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < impl_->fields.size(); ++i) {
    if (impl_->fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool Schema::has_secrets() const noexcept { return impl_->secrets; }
const json& Schema::source() const noexcept { return impl_->source; }

Status validation_error(const std::vector<FieldError>& errors) {
  std::string msg;
  for (const auto& e : errors) {
    if (!msg.empty()) msg += ", ";
    msg += e.field + " (" + e.rule + ")";
  }
  return Status::InvalidArgument("validation failed", msg);
}

}  // namespace s3db
